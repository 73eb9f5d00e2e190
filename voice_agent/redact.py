"""The one owner of the rules for masking secrets in text we store, log, print or show.

Policy (every other module calls these functions; none keeps its own copy):

* A run of 4 or more digits is a possible secret (PIN, SSN digits, card, bank account), whether
  written in numerals ("7395", "4111 1111-1111.1111": single spaces, dashes or dots between
  digits count as one run, as people group digits) or said in number words of any of our
  languages ("seven three nine five", "siete tres nueve cinco", "칠삼구오").
* A run of 12 or more digits (a card or bank number) may keep its last four (``KEEP_FROM``);
  every shorter run is masked whole. Shorter numbers ("50 dollars", "option 2") are kept.
* The mask is ``*``: one per digit in numerals (separators kept, so the shape shows), one per
  word for digit words in place, or one per digit when a stretch of number words is rewritten
  as digits. Logs and error messages keep no digit at all (``mask_digits``).
* A Luhn-valid card number in free text (a call summary) reads ``[card ending 1111]``.
* What a caller entered at a step expecting a secret is shown as ``[redacted]``, or masked to its
  last four when it is a card/bank number of 12+ digits (``redact_entry``); at any other step
  keys and speech alike are masked as a stored caller turn is (``mask_caller_turn``).

Masking happens once, before anything is stored: the dialogue masks a caller's turn with
``mask_caller_turn`` (its own text with ``mask_card_numbers``) and the store stores what it is
given. No heavy imports at module level: the number-word parser of the NLU
(``mask_spoken_digits``) is imported when first needed, so the store (which takes ``REDACTED``
from here) and the logs do not pull the NLU in.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from voice_agent.cards import luhn_ok
from voice_agent.expect import expectation
from voice_agent.languages import LOCALES_DIR

if TYPE_CHECKING:                       # pragma: no cover
    from voice_agent.nlu.numbers import NumberWords

MASK = "*"
REDACTED = "[redacted]"
MIN_DIGITS = 4          # runs this long are masked
KEEP_FROM = 12          # runs this long (card/bank numbers) may keep their last four
KEEP = 4

# A digit, then digits with at most one separator between each two: 4111 1111 1111 1111 is one run.
_RUN = re.compile(r"\d(?:[ \-.]?\d){" + str(MIN_DIGITS - 1) + ",}")
# 12-19 digits, optionally separated by single spaces or dashes (card numbers).
_CARD_RUN = re.compile(r"\d(?:[ -]?\d){11,18}")
_WORD = re.compile(r"\S+")


def kept_digits(count: int) -> int:
    """How many trailing digits of a run of ``count`` digits may stay visible."""
    return KEEP if count >= KEEP_FROM else 0


def masked(digits: str) -> str:
    """A digit string as asterisks, with the last four of a 12+ digit sequence kept."""
    keep = kept_digits(len(digits))
    return MASK * (len(digits) - keep) + digits[len(digits) - keep:]


def _mask_run(run: str, keep: int) -> str:
    count = sum(ch.isdigit() for ch in run)
    out, seen = [], 0
    for ch in run:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > count - keep else MASK)
        else:
            out.append(ch)
    return "".join(out)


def mask_digit_runs(text: str) -> str:
    """``text`` with every run of 4+ numerals masked in place (separators kept); a run of 12+
    keeps its last four: "card 4111 1111 1111 1111" -> "card **** **** **** 1111"."""
    return _RUN.sub(lambda m: _mask_run(m.group(0), kept_digits(
        sum(ch.isdigit() for ch in m.group(0)))), text)


def mask_digits(text: str) -> str:
    """Every run of 4+ numerals fully masked (separators kept): logs and error messages need no
    part of a number."""
    return _RUN.sub(lambda m: _mask_run(m.group(0), 0), text)


# --- SIP logs ---------------------------------------------------------------------------------
# What an operator needs from a SIP log line is kept: addresses and ports, PJSIP's clock and error
# codes (SIP status codes and methods have fewer than four digits or none). What a caller put in is
# masked: a URI's user part (a phone number) keeps only its last four digits, a line about keys
# (DTMF, SIP INFO's Signal=) keeps none of them, and every other run of 4+ digits is masked as in
# any log.
_SIP_TOKEN = re.compile(
    r"(?P<user>(?:(?<=sip:)|(?<=sips:)|(?<=tel:))\+?[\d*][\d*().-]*)"
    r"|(?P<keep>\[[0-9A-Fa-f]*:[0-9A-Fa-f:.]*\](?::\d{1,5})?"              # [IPv6]:port
    r"|(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])"           # IPv4:port
    r"|(?<!\d)\d\d:\d\d:\d\d\.\d{3}(?!\d)"                                 # PJSIP's clock
    r"|\[(?:status|code)[= ]\d+\]"                                        # PJSIP error codes
    r"|SIP/2\.0(?: [1-6]\d\d(?!\d))?"                                      # status line
    r"|(?<=[A-Za-z\]])(?<!sip)(?<!sips)(?<!tel):\d{1,5}(?![\d.]))")       # host:port
_KEYS_LINE = re.compile(r"(?i)(dtmf|digit|signal\s*=)(.*)")


def _mask_sip_user(user: str) -> str:
    return _mask_run(user, min(KEEP, sum(ch.isdigit() for ch in user)))


def mask_sip_log(text: str) -> str:
    """A SIP (PJSIP) log message with the caller's content masked and the operator's data kept:
    "From <sip:+18035550123@10.0.0.5:5060> [status=171039]" -> "From <sip:+*******0123@10.0.0.5:5060>
    [status=171039]"; "Received DTMF digit 7" -> "Received DTMF digit *". A message body (after a
    blank line) keeps no digit. Applying it twice changes nothing."""
    head, blank, body = (re.split(r"(\r?\n\r?\n)", text, maxsplit=1) + ["", ""])[:3]
    lines = []
    for line in head.split("\n"):
        out, pos = [], 0
        for m in _SIP_TOKEN.finditer(line):
            out += [mask_digits(line[pos:m.start()]),
                    _mask_sip_user(m.group()) if m.group("user") else m.group()]
            pos = m.end()
        line = "".join(out) + mask_digits(line[pos:])
        keys = _KEYS_LINE.search(line)
        if keys:
            line = line[:keys.end(1)] + re.sub(r"[\d#]", MASK, keys.group(2))
        lines.append(line)
    return "\n".join(lines) + blank + re.sub(r"\d", MASK, body)


def mask_card_numbers(text: str) -> str:
    """Luhn-valid card numbers (12-19 digits) in free text as ``[card ending 1111]``."""
    def repl(m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return f"[card ending {digits[-4:]}]" if luhn_ok(digits) else m.group(0)
    return _CARD_RUN.sub(repl, text)


def redact_entry(text: str | None, expecting: str | None, lang: str | None = None) -> str | None:
    """What may be shown or stored of a caller's entry, keys or speech, made while ``expecting``:
    nothing of a PIN, SSN digits or expiry; the last four of a card/bank number of 12+ digits;
    at any other step what ``mask_caller_turn`` leaves (a card number keyed at the menu, an
    expiry keyed at the method question), the rule the dialogue stores caller turns by."""
    secret = expectation(expecting).secret        # voice_agent/expect.py: the one table
    if text is None:
        return None
    if secret == "none":
        return mask_caller_turn(text, lang)
    digits = "".join(c for c in text if c.isdigit())
    if secret == "last4" and kept_digits(len(digits)):
        return masked(digits)
    return REDACTED


# --- Number words -------------------------------------------------------------------------

@cache
def digit_words(langs: tuple[str, ...], locales_dir: Path = LOCALES_DIR) -> frozenset[str]:
    """The words for single digits (0-9) in these languages' numbers.toml (zeros, cardinals)."""
    words: set[str] = set()
    for lang in langs:
        path = locales_dir / lang / "numbers.toml"
        if not path.exists():
            continue
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for table in ("zeros", "cardinals"):
            words |= {str(w).lower() for w, v in data.get(table, {}).items()
                      if isinstance(v, int) and 0 <= v <= 9}
    return frozenset(words)


def mask_digit_words(text: str, words: Iterable[str]) -> str:
    """``text`` with every run of 4+ single-digit words (or lone digits) masked in place, one
    ``*`` per word; a run of 12+ keeps its last four words. Needs no parser: used where the
    caller's turn is recorded, with ``digit_words(languages)``."""
    words = set(words)
    parts = re.split(r"(\s+)", text)
    tokens = list(range(0, len(parts), 2))          # indexes of the words (odd ones are spaces)

    def is_digit(i: int) -> bool:
        word = parts[i].strip(",.;:!?").lower()
        return bool(word) and (word in words or (len(word) == 1 and word.isdigit()))

    run: list[int] = []
    for i in tokens + [None]:
        if i is not None and is_digit(i):
            run.append(i)
            continue
        if len(run) >= MIN_DIGITS:
            keep = kept_digits(len(run))
            for j in run[:len(run) - keep]:
                parts[j] = MASK
        run = []
    return "".join(parts)


@cache
def _numbers(lang: str) -> NumberWords | None:
    from voice_agent.nlu.locale import LocaleData
    if not (LOCALES_DIR / lang / "numbers.toml").is_file():
        return None
    return LocaleData.load(lang).numbers


def locale_languages() -> tuple[str, ...]:
    """Every language with number words (locales/<lang>/numbers.toml)."""
    return tuple(sorted(p.name for p in LOCALES_DIR.iterdir()
                        if (p / "numbers.toml").is_file()))


def _is_numeric_word(raw: str, pieces: list[str], numbers: NumberWords) -> bool:
    """A written word made only of number words (a trailing particle allowed: "칠삼구오요")."""
    if not pieces or MASK in raw:
        return False            # already masked: its kept last four are not a new number
    body = pieces[:-1] if len(pieces) > 1 and pieces[-1] in numbers.particles else pieces
    return all(numbers._kind(p) is not None or p in numbers.homophones for p in body)


def mask_spoken_digits(text: str, lang: str, numbers: NumberWords | None = None) -> str:
    """``text`` with every run of 4+ digits, said in numerals or in ``lang``'s number words (the
    NLU's digits parser, Korean compounds split), rewritten as ``masked(digits)``; other words
    (and shorter numbers: "fifty dollars", "option 2") are kept as written. ``numbers`` may be
    given; by default the NLU's parser for ``lang`` is loaded on first use."""
    from voice_agent.nlu.text import tokens
    numbers = numbers if numbers is not None else _numbers(lang)
    if numbers is None or not text:
        return text
    words = [(m.start(), m.end(), numbers.split(tokens(m.group(0))), m.group(0))
             for m in _WORD.finditer(text)]
    out, pos, i = [], 0, 0
    while i < len(words):
        if not _is_numeric_word(words[i][3], words[i][2], numbers):
            i += 1
            continue
        j = i
        while j < len(words) and _is_numeric_word(words[j][3], words[j][2], numbers):
            j += 1
        pieces = [p for w in words[i:j] for p in w[2]]
        owner = [k for k in range(i, j) for _ in words[k][2]]      # piece -> its written word
        chunks = numbers.chunks(pieces, digits_mode=True)
        digits = "".join(c.digits for c in chunks)
        after_mask = i > 0 and re.fullmatch(r"[*\d\-.]*\*[*\d\-.]*", words[i - 1][3])
        if len(digits) >= MIN_DIGITS and not (after_mask and len(digits) <= KEEP):
            # (A group of four right after a masked group is the last four it may keep.)
            # From the first word that says a digit to the last ("7395 and" keeps its "and").
            first, last = owner[chunks[0].start], owner[chunks[-1].end - 1]
            out += [text[pos:words[first][0]], masked(digits)]
            pos = words[last][1]
        i = j
    out.append(text[pos:])
    return "".join(out)


def mask_caller_digits(text: str, lang: str | None) -> str:
    """``mask_spoken_digits`` in the call's language first, then in every other language we have
    number words for (a caller may say a number in another language than the call's)."""
    langs = locale_languages()
    for code in ([lang] if lang in langs else []) + [c for c in langs if c != lang]:
        text = mask_spoken_digits(text, code)
    return text


def mask_caller_turn(text: str, lang: str | None, languages: Iterable[str] = ()) -> str:
    """A caller's turn as it may be stored: every run of 4+ digits masked (a run of 12+ keeps its
    last four), whether keyed or said in numerals (``mask_digit_runs``), as single-digit words of
    any of our languages (``mask_digit_words``, ``languages`` added to those with number words)
    or in number words the NLU's parser reads ("forty one eleven", "칠삼구오"), in ``lang`` (the
    language the caller is speaking) first (``mask_caller_digits``). Called once, where the
    dialogue records the turn. (A Luhn-valid card number cannot survive the first step, so
    ``mask_card_numbers`` has nothing left to find here.)"""
    langs = tuple(sorted(set(languages) | set(locale_languages())))
    text = mask_digit_words(mask_digit_runs(text), digit_words(langs))
    return mask_caller_digits(text, lang)
