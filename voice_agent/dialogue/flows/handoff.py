"""Asking for a person. Offline there is nobody to transfer to: the caller is told so honestly,
given the official number, and offered to continue. When settings["transfer_target"] holds a SIP
URI (a telephony front end that can transfer), the turn carries it and the call ends "transferred".

Issue 5 replaces this with a callback flow registered for the same intent; `escalate` is what the
engine calls after repeated misses or failed verification.
"""
from __future__ import annotations

from voice_agent.dialogue.flow import Ctx, Flow, Input, Step


class HandoffFlow(Flow):
    name = "handoff"
    intents = ("agent",)
    menu_key = "0"
    interrupts = True
    steps = {
        "continue": Step(expecting="confirm", prompt="agent_continue", help="agent_continue_help",
                         keypad="yes_no_keypad"),
    }

    def begin(self, ctx: Ctx) -> None:
        target = ctx.settings.get("transfer_target") or ""
        if target:
            self._transfer(ctx, target)
            return
        ctx.say("agent_unavailable")
        ctx.ask("handoff.continue")

    def on_continue(self, ctx: Ctx, inp: Input) -> None:
        if inp.yes:
            ctx.resume()
        elif inp.no:
            ctx.session.resume = None
            ctx.end("paid" if ctx.session.payments else "completed", "goodbye")
        else:
            ctx.miss("no_match")

    def escalate(self, ctx: Ctx, outcome: str) -> None:
        target = ctx.settings.get("transfer_target") or ""
        if target:
            self._transfer(ctx, target)
        else:
            ctx.end(outcome, "escalate_offline", "goodbye")

    def _transfer(self, ctx: Ctx, target: str) -> None:
        ctx.transfer = target
        ctx.end("transferred", "transferring")


FLOWS = [HandoffFlow()]
