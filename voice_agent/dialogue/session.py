"""The state of one call, kept by the front end between turns and changed only by `Agent.step`.

A session lives in memory for one call. Card and bank numbers may sit in `slots` between the
caller saying them and the payment being posted; they are removed right after (see
`Session.forget_secrets`) and the session is never written anywhere.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from voice_agent.dialogue.events import Reply

# Slots that hold secrets: dropped once used, never logged.
SECRET_SLOTS = ("card_number", "card_expiry", "routing_number", "bank_account_number", "pin",
                "ssn_last4", "method")


@dataclass
class Session:
    """One call's dialogue state. `state` is "<flow>.<step>", e.g. "payment.card_number"."""

    lang: str
    call_id: int | None = None
    caller_id: str | None = None
    channel: str = "text"
    today: dt.date | None = None
    state: str = "language.choose"
    # Values collected so far (form slots), including mixed-initiative values said early.
    slots: dict[str, Any] = field(default_factory=dict)
    # The verified account number, once verification has succeeded.
    account: str | None = None
    # What the caller asked for before verification; resumed after it.
    pending: str | None = None
    # Parameters of the question now being asked (its help and keypad prompts use them too).
    ask_params: dict[str, Any] = field(default_factory=dict)
    # State to return to after an interruption (change of language, "agent" offer).
    resume: tuple[str, dict[str, Any]] | None = None
    slow: bool = False
    # Misses (no input / no match / invalid) at the current step; reset when the step changes.
    misses: int = 0
    last_miss: str | None = None
    verify_failures: int = 0
    # The caller chose the call's language (menu, "in Spanish please"): never offer another.
    lang_chosen: bool = False
    locked_seen: bool = False
    # An unsure value awaiting "is that right?": (state, value).
    unsure: tuple[str, Any] | None = None
    # The replies of the last agent turn, for "repeat" (re-rendered, so a language change applies).
    last_replies: list[Reply] = field(default_factory=list)
    # The questions of the task so far, for "go back": (state, its parameters, the slots as they
    # were when it was asked). Cleared at the menu and with the secrets (snapshots may hold them).
    asked: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    # Results for the end-of-call record and summary.
    payments: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    # Counter for idempotency keys: one per submitted payment attempt in this call.
    submit_seq: int = 0
    ended: bool = False
    outcome: str | None = None

    @property
    def flow(self) -> str:
        return self.state.split(".", 1)[0]

    @property
    def step(self) -> str:
        return self.state.split(".", 1)[1] if "." in self.state else ""

    def forget_secrets(self) -> None:
        """Drop card/bank numbers and verification secrets from memory once they are used
        (the step history too: its snapshots of the slots may hold them)."""
        for key in SECRET_SLOTS:
            self.slots.pop(key, None)
        self.asked.clear()

    def note_asked(self, state: str, params: dict[str, Any]) -> None:
        """Remember a question as it is asked; the menu starts a new task (no going back past
        it), and a question asked again replaces its older entry."""
        if state.startswith("menu."):
            self.asked.clear()
            return
        if self.asked and self.asked[-1][0] == state:
            self.asked.pop()
        self.asked.append((state, dict(params), dict(self.slots)))

    def previous_step(self) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        """The question before the current one in this flow, taken off the history (it is noted
        again when asked); None at the first question of the flow."""
        earlier = [i for i, (state, _, _) in enumerate(self.asked) if state != self.state]
        if not earlier or self.asked[earlier[-1]][0].split(".", 1)[0] != self.flow:
            return None
        previous = self.asked[earlier[-1]]
        del self.asked[earlier[-1]:]
        return previous
