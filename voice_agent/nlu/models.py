"""The data the language-understanding stage hands to the dialogue: names and one frozen result."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from voice_agent.expect import kind_of

# Intent names are a contract with the dialogue (issue 3).
INTENTS: tuple[str, ...] = (
    "pay_bill", "check_balance", "explain_bill", "dispute_charge", "payment_arrangement",
    "schedule_payment", "restore_service", "agent", "payment_options", "fees", "security_tips",
    "repeat", "slower", "help", "change_language", "cancel", "goodbye", "affirm", "deny",
    "out_of_scope",
)

# Value kinds the parser knows (`number` is an extra: a small count such as installments).
KINDS: tuple[str, ...] = ("digits", "amount", "date", "expiry", "yes_no", "language", "number")

# Intents a caller may use at any step, even while the dialogue waits for a value.
COMMAND_INTENTS: frozenset[str] = frozenset(
    {"repeat", "slower", "help", "cancel", "agent", "goodbye", "change_language"})



def kind_for(expect: str | None) -> str | None:
    """The value kind for a KIND or a dialogue `expecting` value; None when no value is parsed."""
    if expect is None:
        return None
    if expect in KINDS:
        return expect
    return kind_of(expect)


def value_to_json(value: Any) -> Any:
    """The CLI form of a value: dates as YYYY-MM-DD, expiry as MM/YY, dicts recursively."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple) and len(value) == 2:
        month, year = value
        return f"{month:02d}/{year % 100:02d}"
    if isinstance(value, dict):
        return {key: value_to_json(val) for key, val in value.items()}
    return value


@dataclass(frozen=True)
class Understanding:
    """What one caller utterance means.

    ``intent`` is an intent name, ``out_of_scope`` when it is clearly none of them, or None when the
    utterance is empty or ambiguous (the dialogue should ask again). ``value`` is the parsed value
    of the expected kind, or without ``expect`` a dict of the values said along with the intent
    (mixed initiative), or None. ``plain_intent`` is what the words mean on their own, whatever
    value was found ("yes, cancel" is a yes at a yes/no step and plainly a cancel): the dialogue
    checks it before money moves, from this one understanding.
    """

    text: str
    intent: str | None
    confidence: float
    expect: str | None = None
    value: Any = None
    plain_intent: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "intent": self.intent, "confidence": round(self.confidence, 3),
                "expect": self.expect, "value": value_to_json(self.value)}
