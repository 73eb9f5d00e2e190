"""Digit sequences in what a caller said, masked before the text is stored: numerals and number
words alike ("my pin is 7395", "seven three nine five", "siete tres nueve cinco", "칠삼구오").

The dialogue masks numerals where it records a turn and redacts whole turns at the steps that
ask for a secret; a PIN or SSN digits said out of turn in words got through both. This is the
store's last safety net: the same digits parser the NLU uses (locales/<lang>/numbers.toml, with
Korean compounds split) finds each stretch of consecutive number words; a stretch that makes
four or more digits is replaced by asterisks, keeping only the last four of a sequence of twelve
or more (a card number may show its last four, nothing shorter may show any digit).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from voice_agent.nlu.numbers import NumberWords
from voice_agent.nlu.text import tokens

MIN_DIGITS = 4
KEEP_FROM = 12          # sequences this long may keep their last four digits
_WORD = re.compile(r"\S+")


@lru_cache(maxsize=None)
def _numbers(lang: str) -> NumberWords | None:
    from voice_agent.nlu.locale import LOCALES_DIR, LocaleData
    if not (Path(LOCALES_DIR) / lang / "numbers.toml").is_file():
        return None
    return LocaleData.load(lang).numbers


def locale_languages() -> tuple[str, ...]:
    from voice_agent.nlu.locale import LOCALES_DIR
    return tuple(sorted(p.name for p in Path(LOCALES_DIR).iterdir()
                        if (p / "numbers.toml").is_file()))


def masked(digits: str) -> str:
    keep = 4 if len(digits) >= KEEP_FROM else 0
    return "*" * (len(digits) - keep) + digits[len(digits) - keep:]


def _is_numeric_word(raw: str, pieces: list[str], numbers: NumberWords) -> bool:
    """A written word made only of number words (a trailing particle allowed: "칠삼구오요")."""
    if not pieces or "*" in raw:
        return False            # already masked: its kept last four are not a new number
    body = pieces[:-1] if len(pieces) > 1 and pieces[-1] in numbers.particles else pieces
    return all(numbers._kind(p) is not None or p in numbers.homophones for p in body)


def mask_spoken_digits(text: str, lang: str) -> str:
    """``text`` with every run of 4+ digits, said in numerals or in ``lang``'s number words,
    masked; other words (and shorter numbers: "fifty dollars", "option 2") are kept as written."""
    numbers = _numbers(lang)
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
        if len(digits) >= MIN_DIGITS and not (after_mask and len(digits) <= 4):
            # (A group of four right after a masked group is the last four it may keep.)
            # From the first word that says a digit to the last ("7395 and" keeps its "and").
            first, last = owner[chunks[0].start], owner[chunks[-1].end - 1]
            out += [text[pos:words[first][0]], masked(digits)]
            pos = words[last][1]
        i = j
    out.append(text[pos:])
    return "".join(out)


def mask_caller_digits(text: str, lang: str | None) -> str:
    """The call's language first, then every other language we have number words for (the
    caller may have switched language after the call record was opened)."""
    langs = locale_languages()
    for code in ([lang] if lang in langs else []) + [c for c in langs if c != lang]:
        text = mask_spoken_digits(text, code)
    return text
