"""The balance: amount due, due date, past-due amount and service status, then an offer to pay.

It also answers "restore my service" until the restoration flow (issue 5) is registered for that
intent: the caller hears why service is suspended, what amount restores it, and is offered to pay.
"""
from __future__ import annotations

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step
from voice_agent.dialogue.prompts import Money


class BalanceFlow(Flow):
    name = "balance"
    intents = ("check_balance", "restore_service")
    needs_account = True
    menu_key = "1"
    steps = {
        "offer_pay": Step(expecting="confirm", prompt="balance_offer_pay",
                          help="balance_offer_pay_help", keypad="yes_no_keypad"),
    }

    def begin(self, ctx: Ctx) -> None:
        account = ctx.account(refresh=True)
        say_balance_due(ctx, account)
        if account.past_due_cents > 0:
            ctx.say("balance_past_due", amount=Money(account.past_due_cents))
        if account.status == "suspended":
            ctx.say("balance_suspended", amount=Money(account.past_due_cents))
        else:
            ctx.say("balance_active")
        if account.balance_cents > 0:
            ctx.ask("balance.offer_pay")
        else:
            ctx.finish("balance")

    def on_offer_pay(self, ctx: Ctx, inp: Input) -> None:
        if inp.yes:
            ctx.session.completed.append("balance")
            ctx.start("payment")
        elif inp.no:
            ctx.finish("balance")
        elif inp.intent and ctx.agent.registry.get(inp.intent):
            ctx.session.completed.append("balance")
            ctx.start(inp.intent)
        else:
            ctx.miss("no_match")


FLOWS = [BalanceFlow()]


def say_balance_due(ctx: Ctx, account) -> None:
    """The balance and its due date in one sentence (also the answer to "when is that due?"
    asked at another step: dialogue/repair.py)."""
    if account.balance_cents <= 0:
        ctx.say("balance_none")
    elif account.due_date is None:
        ctx.say("balance_due_no_date", amount=Money(account.balance_cents))
    else:
        ctx.say("balance_due", amount=Money(account.balance_cents), date=account.due_date)
