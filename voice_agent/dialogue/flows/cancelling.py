"""Cancelling a task that holds money details asks first (issue 12): "cancel" at the card number
is easy to say by mistake and would throw away the amount, the method and the numbers given.
A yes drops the task (commands.cancel); a no returns to the question the caller was at."""
from __future__ import annotations

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step

# Slots that make a task worth confirming before it is dropped: money and how to pay it.
MONEY_SLOTS = ("amount", "method", "card_number", "card_expiry", "routing_number",
               "bank_account_number", "arrangement_plan", "schedule_amount", "restore_amount")


def has_money_details(ctx: Ctx) -> bool:
    return any(ctx.session.slots.get(key) not in (None, "") for key in MONEY_SLOTS)


def drop_task(ctx: Ctx) -> None:
    """Drop the task (and any card or bank number heard) and go back to the menu."""
    session = ctx.session
    session.unsure = None
    session.pending = None
    session.resume = None
    session.forget_secrets()
    for key in (*MONEY_SLOTS, "fee", "idempotency_key"):
        session.slots.pop(key, None)
    ctx.say("cancelled")
    ctx.ask("menu.intent")


class CancellingFlow(Flow):
    name = "cancelling"
    steps = {
        "confirm": Step(expecting="confirm", prompt="conv_b_cancel_confirm",
                        help="conv_b_cancel_confirm_help", keypad="yes_no_keypad"),
    }

    def begin(self, ctx: Ctx) -> None:
        """Ask; the question the caller was at is kept to return to."""
        session = ctx.session
        session.unsure = None
        session.resume = (session.state, dict(session.ask_params))
        ctx.ask("cancelling.confirm")

    def on_confirm(self, ctx: Ctx, inp: Input) -> None:
        if inp.yes:
            drop_task(ctx)
        elif inp.no:
            ctx.say("conv_b_cancel_kept")
            ctx.resume()
        else:
            ctx.miss("no_match")


FLOWS = [CancellingFlow()]
