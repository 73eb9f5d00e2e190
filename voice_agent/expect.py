"""What the agent expects the caller to answer next: the one table every stage reads.

The dialogue's ``expecting`` value (part of the ``chat --json`` contract) names the question the
call is at. Everything that depends on the question is a field of one record here, so the
stages cannot drift apart:

- ``kind``: the value kind language understanding parses the answer as (``nlu.KINDS``), which
  also picks the speech grammar and the value the recogniser checks;
- ``one_key`` / ``max_keys``: how the answer is keyed (one key for menus and yes/no, else ``#``
  or a pause ends a number: ``dialogue.keypad``);
- ``short``: a one- or two-word answer, so live audio ends the turn after the short
  end-of-speech wait (``audio.end_silence_short_ms``) instead of the long one;
- ``request``: a free request, understood as one of the intents: live audio ends it after
  ``audio.end_silence_request_ms`` once it is a whole listed request (``voice.complete``);
- ``secret``: what may be shown or stored of the answer: ``"none"``, ``"whole"`` (nothing of
  it: PIN, SSN digits, expiry, routing number) or ``"last4"`` (a card or bank account number
  keeps its last four digits when it is long enough: ``redact.redact_entry``).

A leaf module: it imports nothing from the package, so the store, the NLU, the dialogue and
the voice front ends can all read it.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_KEYS = 24          # longer than any number asked for (card 19, phone 15): the entry is over
SECRETS = ("none", "whole", "last4")


@dataclass(frozen=True)
class Expectation:
    """One kind of question the agent asks, and how its answer is heard, keyed and kept."""

    name: str
    kind: str | None = None     # nlu value kind; None: words (intents, choices), no value parsed
    one_key: bool = False       # a single key is the whole answer: no "#" or pause needed
    short: bool = False         # a short answer: live audio ends it after the short wait
    request: bool = False       # a free request, matched to the intents
    secret: str = "none"        # "none" | "whole" | "last4"

    @property
    def max_keys(self) -> int:
        """An entry this long is over."""
        return 1 if self.one_key else MAX_KEYS

    @property
    def is_secret(self) -> bool:
        return self.secret != "none"


def _number(name: str, kind: str = "digits", secret: str = "none") -> Expectation:
    return Expectation(name, kind=kind, secret=secret)


def _pick(name: str, kind: str | None = None, short: bool = True) -> Expectation:
    return Expectation(name, kind=kind, one_key=True, short=short)


# Every `expecting` value of the contract, in the order the contract lists them.
EXPECTATIONS: dict[str, Expectation] = {e.name: e for e in (
    _pick("language", "language"),
    Expectation("intent", one_key=True, request=True),   # a free request: callers pause in it
    _number("account_number"),
    _number("pin", secret="whole"),
    _number("zip"),
    _number("ssn_last4", secret="whole"),
    _number("amount", kind="amount"),
    _pick("payment_method"),
    _number("card_number", secret="last4"),
    _number("card_expiry", kind="expiry", secret="whole"),
    _number("routing_number", secret="whole"),
    _number("bank_account_number", secret="last4"),
    _pick("confirm", "yes_no"),
    _number("date", kind="date"),
    _pick("installments", "number"),
    _pick("charge", short=False),               # a charge is named in the caller's words
    _pick("dispute_reason", short=False),       # a reason may be said in the caller's words
    _number("phone_number"),
    _pick("none", short=False),
    _pick("callback_window"),
)}

EXPECTING: tuple[str, ...] = tuple(EXPECTATIONS)

# What an unknown `expecting` is taken as: keyed like a number, no value, nothing secret.
UNKNOWN = Expectation("", kind=None)


def expectation(name: str | None) -> Expectation:
    """The record for ``name``; an unknown or missing name gets ``UNKNOWN``."""
    return EXPECTATIONS.get(name or "", UNKNOWN)


def kind_of(name: str | None) -> str | None:
    """The value kind that answers ``name`` (None when the answer is words, not a value)."""
    return expectation(name).kind


def is_secret(name: str | None) -> bool:
    return expectation(name).is_secret
