"""Bill explanation: the current bill's charges one by one, then an offer to dispute one.

The dispute itself belongs to the "dispute_charge" flow (issue 5); until it is registered the
engine answers honestly that this line cannot take disputes yet.
"""
from __future__ import annotations

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step
from voice_agent.dialogue.prompts import Money


class ExplainFlow(Flow):
    name = "explain"
    intents = ("explain_bill",)
    needs_account = True
    menu_key = "3"
    steps = {
        "offer_dispute": Step(expecting="confirm", prompt="explain_offer_dispute",
                              help="explain_offer_dispute_help", keypad="yes_no_keypad"),
    }

    def begin(self, ctx: Ctx) -> None:
        charges = ctx.store.charges(ctx.session.account)
        if not charges:
            ctx.say("explain_none")
            ctx.finish("explain")
            return
        total = sum(c.amount_cents for c in charges)
        ctx.say("explain_intro", count=len(charges), total=Money(total))
        for number, charge in enumerate(charges, start=1):
            key = "explain_charge_disputed" if charge.disputed else "explain_charge"
            ctx.say(key, number=number, date=charge.date, description=charge.description,
                    amount=Money(charge.amount_cents))
        ctx.ask("explain.offer_dispute")

    def on_offer_dispute(self, ctx: Ctx, inp: Input) -> None:
        if inp.yes:
            ctx.session.completed.append("explain")
            ctx.start("dispute_charge")
        elif inp.no:
            ctx.finish("explain")
        else:
            ctx.miss("no_match")


FLOWS = [ExplainFlow()]
