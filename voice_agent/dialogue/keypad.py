"""Keypad rules per `expecting` value: the one definition every front end follows.

A caller's keys make one entry. Which keys end it depends on the question:
- a menu, a yes/no question or a numbered pick (language, main menu, payment method, a charge,
  a dispute reason, a number of installments, a callback window) is answered by ONE key;
- a number (account, PIN, card, amount, date, phone ...) ends with "#", or after a pause;
- "*" ends any entry at once, and the dialogue takes it as "clear": the entry is dropped and
  the same question asked again (saying "cancel" is what ends a task).

The dialogue decides what the keys mean (`Agent.step`); the voice pipeline and the phone line
only need to know when the caller has finished keying, through `entry_complete`.
"""
from __future__ import annotations

from voice_agent.expect import EXPECTATIONS, MAX_KEYS, Expectation, expectation

__all__ = ["END_KEY", "CLEAR_KEY", "PAUSE_S", "MAX_KEYS", "keypad_rule", "one_key_expectations",
           "entry_complete"]

END_KEY = "#"          # ends a multi-key entry (never part of the value)
CLEAR_KEY = "*"        # clears the entry and asks again, at every step
PAUSE_S = 3.0          # a pause this long ends a multi-key entry without "#"


def keypad_rule(expecting: str | None) -> Expectation:
    """How the answer to ``expecting`` is keyed (``one_key``, ``max_keys``), from the one table
    of expectations; an unknown `expecting` is keyed like a number (ends with "#")."""
    return expectation(expecting)


def one_key_expectations() -> frozenset[str]:
    """The `expecting` values a single key answers."""
    return frozenset(name for name, e in EXPECTATIONS.items() if e.one_key)


def entry_complete(expecting: str | None, keys: str, paused_s: float = 0.0,
                   pause_limit_s: float = PAUSE_S) -> bool:
    """Whether `keys` (as pressed so far) are a whole entry for the question `expecting`:
    "#" or "*" was pressed, one key answers this question, the entry reached its longest,
    or the caller paused `pause_limit_s` after the last key."""
    if not keys:
        return False
    if END_KEY in keys or CLEAR_KEY in keys:
        return True
    rule = keypad_rule(expecting)
    return rule.one_key or len(keys) >= rule.max_keys or paused_s >= pause_limit_s
