"""The end-of-call summary: what was done on this call, read once before the goodbye.

Flows note what they did with `note(ctx, key, **params)` (a prompt key in prompts_cases.toml and
its parameters: confirmation codes, ticket and reference numbers). Payments posted by any flow
are in `session.payments`. When the call closes politely, the engine asks the flow registered as
"summary" to add its replies in front of the final goodbye.
"""
from __future__ import annotations

from typing import Any

from voice_agent.dialogue.events import Reply
from voice_agent.dialogue.flow import Ctx, Flow
from voice_agent.dialogue.prompts import Prompt, Spelled

NOTES_SLOT = "summary_notes"
# Outcomes of a call that closes with the caller still listening.
SPOKEN_OUTCOMES = {"completed", "paid"}


def note(ctx: Ctx, key: str, **params: Any) -> None:
    """Remember one thing done on this call for the summary (and the stored call record)."""
    ctx.session.slots.setdefault(NOTES_SLOT, []).append((key, params))


class SummaryFlow(Flow):
    """Not a conversation of its own: the engine's closing hook."""

    name = "summary"

    def begin(self, ctx: Ctx) -> None:  # pragma: no cover - never started by intent
        ctx.finish()

    def items(self, ctx: Ctx) -> list[Prompt]:
        session = ctx.session
        noted = session.slots.get(NOTES_SLOT, [])
        # Payments described by a note (an arrangement's first installment) are not listed twice.
        described = {str(p.get("code").value) for _, p in noted
                     if isinstance(p.get("code"), Spelled)}
        items = [Prompt("summary_payment", {"code": Spelled(code)})
                 for code in session.payments if code not in described]
        items += [Prompt(key, params) for key, params in noted]
        return items

    def closing(self, ctx: Ctx) -> None:
        """Put the summary in front of the goodbye of a call that ends politely."""
        if ctx.session.outcome not in SPOKEN_OUTCOMES:
            return
        keys = [r.key for r in ctx.replies]
        if "goodbye" not in keys:
            return
        items = self.items(ctx)
        if not items:
            return
        at = len(keys) - 1 - keys[::-1].index("goodbye")
        summary = [Reply("summary_intro", {})] + [Reply(i.key, i.params) for i in items]
        ctx.replies[at:at] = summary


FLOWS = [SummaryFlow()]


def reference(code: str) -> Spelled:
    """A ticket or reference number read character by character, without its dash."""
    return Spelled(code.replace("-", " "))
