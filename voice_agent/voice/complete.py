"""Whether what the caller said or keyed so far already is a whole answer to the question.

Ending a turn by silence alone costs every caller the long end-of-speech wait, even after a
plain "yes". People answer each other within a few hundred milliseconds because they hear when
an answer is complete; this module is that judgement, for the turn loop (``voice.turns``):

- a complete, valid answer ends the turn after the short ``audio.end_silence_complete_ms``,
  a whole request (the main menu's "i want to make a payment") after
  ``audio.end_silence_request_ms``: callers go on after a request more often than after a yes;
- an incomplete one ("four one one one" and a pause while the caller reads the next group)
  keeps the long wait, so nobody is cut off mid-number.

Nothing here is a second copy of a rule: the question's record (``voice_agent.expect``) says
what kind of value answers it, the NLU's value parsers read it from the words, the choice lists
name the menu answers, and the dialogue's own slot validators (Luhn and card network, the ABA
checksum, ZIP and SSN lengths) say whether a number is valid. Only what the dialogue leaves open
is a setting: the digit count of the utility's account numbers (``audio.account_number_digits``;
the dialogue accepts any plausible length so as not to reveal which accounts exist).

``spoken_complete`` judges words (a streaming recognizer's partial result); ``keyed_complete``
judges keys as pressed so far: ``NOW`` when no longer entry could be valid (the turn ends at
once), ``SOON`` when a longer one still could (ZIP+4, a 19-digit Visa: after the short key
pause), ``NO`` otherwise (``#``, a pause or the longest entry end it, ``dialogue.keypad``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from voice_agent.dialogue import validators as v
from voice_agent.expect import MAX_KEYS, expectation

NO, SOON, NOW = "no", "soon", "now"
# How many more digits a valid number is tried with before it is called the longest it can be
# (a 16-digit Visa can still become a 19-digit one, a ZIP code a ZIP+4).
GROWTH_DIGITS = 4


def _digit_check(expecting: str, audio: Mapping[str, Any], today: dt.date
                 ) -> Callable[[str], bool] | None:
    """The dialogue's validity test for a number answering ``expecting`` (None: no number, or
    no length makes it whole: a PIN, a bank account, a phone number)."""
    if expecting == "account_number":
        want = int(audio.get("account_number_digits", 0))
        return (lambda d: len(d) == want) if want else None
    checks: dict[str, Callable[[str], tuple[Any, str | None]]] = {
        "card_number": v.validate_card_number,
        "routing_number": v.validate_routing_number,
        "ssn_last4": v.validate_ssn_last4,
        "zip": v.validate_zip,
        "card_expiry": lambda d: v.validate_card_expiry(d, today),
    }
    check = checks.get(expecting)
    return (lambda d: d.isdecimal() and check(d)[1] is None) if check else None


def keyed_complete(expecting: str | None, keys: str, audio: Mapping[str, Any],
                   today: dt.date | None = None) -> str:
    """``NOW``, ``SOON`` or ``NO`` for the digits keyed so far (see the module docstring)."""
    check = _digit_check(expecting or "", audio, today or dt.date.today())
    if check is None or not keys.isdecimal() or not check(keys):
        return NO
    for extra in range(1, GROWTH_DIGITS + 1):
        if len(keys) + extra > MAX_KEYS:
            break
        # Trying every last digit covers any check digit (Luhn, ABA) for that length.
        if any(check(keys + "0" * (extra - 1) + str(d)) for d in range(10)):
            return SOON
    return NOW


def spoken_complete(expecting: str | None, text: str, lang: str, nlu: Any,
                    audio: Mapping[str, Any], today: dt.date | None = None) -> bool:
    """Whether ``text`` (what was recognised so far) is a complete, valid answer to
    ``expecting``: a yes or no, a language, a count, a menu choice, a whole and valid number,
    a full expiry or date, an amount followed by its currency word; a request (the main menu)
    said word for word as one listed request that no other goes on from ("i want to make a
    payment", not "cancel" which may become "cancel my scheduled payment"). A charge or reason
    in the caller's words is never judged complete here."""
    record = expectation(expecting)
    if not text.strip() or nlu is None:
        return False
    if record.request:
        return nlu.whole_request(text, lang) is not None
    if not record.short and record.kind is None:
        return False
    today = today or dt.date.today()
    if record.kind is None:              # a menu answered in words: its choice list decides
        return _names_one_choice(nlu, lang, record.name, text)
    try:
        value = nlu.parse_value(record.kind, text, lang, today=today)
    except (ValueError, TypeError):
        return False
    if value is None:
        return False
    if record.kind == "digits":
        check = _digit_check(record.name, audio, today)
        return check is not None and check(str(value))
    if record.kind == "amount":
        return _ends_with_unit(text, lang, nlu)
    if record.kind == "expiry":
        return v.validate_card_expiry(value, today)[1] is None
    return True


def _names_one_choice(nlu: Any, lang: str, name: str, text: str) -> bool:
    """The words name one of the menu's choices: as the dialogue matches them, or word for
    word one listed phrase of a single choice ("card" is listed for a new card and is part of
    "saved card": fuzzy matching calls that a tie, but said alone it is whole)."""
    choices = nlu.choices(lang, name)
    if not choices:
        return False
    if nlu.match_choice(text, lang, choices)[0] is not None:
        return True
    said = " ".join(text.lower().split())
    return sum(any(" ".join(p.lower().split()) == said for p in phrases)
               for phrases in choices.values()) == 1


def _ends_with_unit(text: str, lang: str, nlu: Any) -> bool:
    """An amount is whole once its currency word was said last ("fifty dollars", "오만 원"):
    before it, "fifty" may still become "fifty dollars and twenty cents"."""
    ld = nlu.locale(lang)
    words = nlu.words(text, lang)
    units = [*ld.currency_major, *ld.currency_minor]
    return any(len(u) <= len(words) and tuple(words[-len(u):]) == tuple(u)
               or (ld.particles and len(u) == 1 and words and words[-1].startswith(u[0]))
               for u in units)
