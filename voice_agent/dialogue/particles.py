"""Particles that agree with the sound before them (Korean 을/를, 이/가, 은/는, 과/와, 으로/로).

A Korean particle depends on how the word before it ends when read aloud: after a final
consonant (batchim) the first form (카드를 but 계정을), after a vowel the second; 으로/로 also takes
로 after ㄹ (서울로). A prompt cannot know this when the word is a placeholder ("{method}을" gave
"Visa 카드을"), so a prompt writes both forms in brackets right after it - "{method}[을/를]" -
and the rendered text is fixed here, looking at what was actually put in front.

Everything language-specific is data: the `[particles]` table of locales/<lang>/prompts.toml
lists the pairs, the pairs that take the second form after ㄹ, how digits and Latin letters are
read (a phone number or "Telecom" ends in a sound too) and values read with a word the text does
not show (money is read with 달러). A language without that table is left exactly as rendered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3
JONGSEONG_COUNT = 28       # final-consonant slots per syllable block (0: none)
RIEUL = 8                  # the slot of ㄹ as a final consonant
# Characters not read aloud: the sound before them decides a particle after them.
SILENT = " .,;:!?)]}\"'…-"


def final_consonant(syllable: str) -> int | None:
    """The final-consonant slot of a Hangul syllable (0: ends in a vowel), None otherwise."""
    code = ord(syllable)
    if not HANGUL_FIRST <= code <= HANGUL_LAST:
        return None
    return (code - HANGUL_FIRST) % JONGSEONG_COUNT


@dataclass(frozen=True)
class ParticleRules:
    """One language's agreeing particles (from its `[particles]` table)."""

    pairs: tuple[tuple[str, str], ...]                 # (after a consonant, after a vowel)
    rieul_takes_second: frozenset[str] = frozenset()   # first forms that ㄹ treats as a vowel
    readings: dict[str, str] = field(default_factory=dict)       # "1" -> "일", "m" -> "엠"
    endings: tuple[tuple[re.Pattern, str], ...] = ()   # a value's end -> the syllable it is read with

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> ParticleRules:
        pairs = []
        for pair in table.get("pairs", []):
            first, _, second = str(pair).partition("/")
            if not first or not second:
                raise ValueError(f"particle pair {pair!r} is not 'after consonant/after vowel'")
            pairs.append((first, second))
        readings = {str(k).lower(): str(v) for k, v in table.get("readings", {}).items()}
        endings = tuple((re.compile(f"(?:{pattern})$"), str(syllable))
                        for pattern, syllable in table.get("endings", {}).items())
        return cls(tuple(pairs), frozenset(table.get("rieul_takes_second", [])), readings,
                   endings)

    @cached_property
    def _marker(self) -> re.Pattern:
        alternatives = "|".join(re.escape(f"{a}/{b}") for a, b in self.pairs)
        return re.compile(rf"\[({alternatives})\]")

    def last_sound(self, before: str) -> str | None:
        """The syllable the text before a particle ends with when read aloud, if known.
        Punctuation and spaces are not read, so the word before them decides ("1 1 1 1,")."""
        before = before.rstrip(SILENT)
        for pattern, syllable in self.endings:
            if pattern.search(before):
                return syllable
        if not before:
            return None
        last = before[-1]
        if final_consonant(last) is not None:
            return last
        reading = self.readings.get(last.lower())
        return reading[-1] if reading else None

    def choose(self, first: str, second: str, before: str) -> str:
        syllable = self.last_sound(before)
        slot = final_consonant(syllable) if syllable else None
        if slot is None:
            # The written convention "을(를)" would be read aloud as it stands: a caller hears
            # one form, the one after a vowel (what most values the table cannot read end in).
            return second
        if slot == 0 or (slot == RIEUL and first in self.rieul_takes_second):
            return second
        return first

    def apply(self, text: str, before: str = "") -> str:
        """Resolve every "[first/second]" marker by the sound just before it; ``before`` is what
        is said ahead of ``text`` (a marker at its start agrees with that)."""
        if not self.pairs or "[" not in text:
            return text
        out, start = [], 0
        for match in self._marker.finditer(text):
            out.append(text[start:match.start()])
            first, _, second = match.group(1).partition("/")
            out.append(self.choose(first, second, before + "".join(out)))
            start = match.end()
        out.append(text[start:])
        return "".join(out)
