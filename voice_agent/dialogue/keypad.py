"""Keypad rules per `expecting` value: the one definition every front end follows.

A caller's keys make one entry. Which keys end it depends on the question:
- a menu, a yes/no question or a numbered pick (language, main menu, payment method, a charge,
  a dispute reason, a number of installments, a callback window) is answered by ONE key;
- a number (account, PIN, card, amount, date, phone ...) ends with "#", or after a pause;
- "*" ends any entry at once, and the dialogue takes it as "cancel" (back to the main menu).

The dialogue decides what the keys mean (`Agent.step`); the voice pipeline and the phone line
only need to know when the caller has finished keying, through `entry_complete`.
"""
from __future__ import annotations

from dataclasses import dataclass

END_KEY = "#"          # ends a multi-key entry (never part of the value)
CANCEL_KEY = "*"       # cancels, at every step
PAUSE_S = 3.0          # a pause this long ends a multi-key entry without "#"
MAX_KEYS = 24          # longer than any number asked for (card 19, phone 15): the entry is over


@dataclass(frozen=True)
class KeypadRule:
    """How a caller keys the answer to one kind of question."""

    one_key: bool               # a single key is the whole answer: no "#" or pause needed
    max_keys: int = MAX_KEYS    # an entry this long is over


ONE_KEY = KeypadRule(one_key=True, max_keys=1)
NUMBER = KeypadRule(one_key=False)

# Every `expecting` value of the contract (events.EXPECTING) has a rule; a test keeps it so.
RULES: dict[str, KeypadRule] = {
    "language": ONE_KEY, "intent": ONE_KEY, "payment_method": ONE_KEY, "confirm": ONE_KEY,
    "charge": ONE_KEY, "dispute_reason": ONE_KEY, "installments": ONE_KEY,
    "callback_window": ONE_KEY, "none": ONE_KEY,
    "account_number": NUMBER, "pin": NUMBER, "zip": NUMBER, "ssn_last4": NUMBER,
    "amount": NUMBER, "card_number": NUMBER, "card_expiry": NUMBER, "routing_number": NUMBER,
    "bank_account_number": NUMBER, "date": NUMBER, "phone_number": NUMBER,
}


def keypad_rule(expecting: str | None) -> KeypadRule:
    """The rule for a question; an unknown `expecting` is keyed like a number (ends with "#")."""
    return RULES.get(expecting or "", NUMBER)


def one_key_expectations() -> frozenset[str]:
    """The `expecting` values a single key answers."""
    return frozenset(e for e, rule in RULES.items() if rule.one_key)


def entry_complete(expecting: str | None, keys: str, paused_s: float = 0.0,
                   pause_limit_s: float = PAUSE_S) -> bool:
    """Whether `keys` (as pressed so far) are a whole entry for the question `expecting`:
    "#" or "*" was pressed, one key answers this question, the entry reached its longest,
    or the caller paused `pause_limit_s` after the last key."""
    if not keys:
        return False
    if END_KEY in keys or CANCEL_KEY in keys:
        return True
    rule = keypad_rule(expecting)
    return rule.one_key or len(keys) >= rule.max_keys or paused_s >= pause_limit_s

