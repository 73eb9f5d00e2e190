"""The payment flow's method questions (saved method, card, bank account) reused by other flows.

Arrangements, scheduled payments and the restoration payment need a payment method but read back
and submit differently. `MethodFlow` runs the payment flow's own method steps under its name and,
once the method is in `session.slots["method"]`, hands it to the flow that asked (its
`method_ready(ctx)`), instead of the payment flow's read-back.
"""
from __future__ import annotations

import datetime as dt

from voice_agent.dialogue.flow import Ctx, Input
from voice_agent.dialogue.flows.payment import PaymentFlow

METHOD_STEPS = ("method", "card_number", "card_expiry", "routing_number", "bank_account_number")
OWNER_SLOT = "method_for"


class MethodFlow(PaymentFlow):
    name = "paymethod"
    intents = ()
    menu_key = None
    interrupts = False
    steps = {key: step for key, step in PaymentFlow.steps.items() if key in METHOD_STEPS}

    def begin(self, ctx: Ctx) -> None:  # pragma: no cover - only started through collect()
        ctx.finish()

    def collect(self, ctx: Ctx, owner: str) -> None:
        """Ask how the caller wants to pay; `owner.method_ready(ctx)` follows. When the caller
        changed another answer at the owner's read-back, the method they chose stays."""
        slots = ctx.session.slots
        if ctx.correcting and slots.get(OWNER_SLOT) == owner and slots.get("method") is not None:
            ctx.agent.registry.flows[owner].method_ready(ctx)
            return
        ctx.session.slots[OWNER_SLOT] = owner
        ctx.session.slots.pop("method", None)
        self._ask_method(ctx)
        self._adopt(ctx)

    def handle(self, ctx: Ctx, step: str, inp: Input) -> None:
        super().handle(ctx, step, inp)
        self._adopt(ctx)

    def _adopt(self, ctx: Ctx) -> None:
        # The payment flow's handlers move to "payment.<step>"; keep those steps in this flow.
        session = ctx.session
        if session.flow == "payment" and session.step in self.steps:
            session.state = f"{self.name}.{session.step}"

    def _ask_confirm(self, ctx: Ctx) -> None:
        owner = ctx.session.slots.get(OWNER_SLOT)
        ctx.agent.registry.flows[owner].method_ready(ctx)


FLOWS = [MethodFlow()]


def as_of(ctx: Ctx) -> dt.datetime | None:
    """The store's "now" for dated payments: the call's day when the call has one (chat --today,
    tests), so that "today" means the same day to the dialogue and to the store."""
    if ctx.session.today is None:
        return None
    clock = dt.datetime.now(dt.UTC)
    return dt.datetime.combine(ctx.session.today, clock.timetz())
