"""Spoken numbers to values, driven by each language's numbers.toml.

One algorithm serves every language. Words are additive (``twenty``, ``veintiocho``, ``사``),
multipliers (``hundred``, ``mil``, ``십``, ``만``), zero words, repeaters (``double``) or
connectors (``and``, ``y``). Consecutive number words are grouped into *chunks*: a new additive
word continues the current chunk only while it fills an empty place ("eighty" + "four" = 84),
otherwise it starts the next one ("eighty four" | "twenty" = 84, 20). That single rule gives
digit groups ("forty one eleven" = 41, 11), amounts ("eighty four twenty" = 84, 20) and
expiries ("twelve twenty eight" = 12, 28). A multiplier scales the part of the chunk below it, so
"삼천오백" (3,500), "twelve hundred" and "dos mil trescientos" come out right too.

Korean writes number words without spaces ("이십팔달러"), so languages with
``split_compounds = true`` have such tokens split into known pieces first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from voice_agent.nlu.text import fold


@dataclass(frozen=True)
class Chunk:
    """One spoken number: its value, its digits as said, and where it sits in the word list."""

    start: int
    end: int          # index after the last word
    value: int
    digits: str       # "0" for "oh", "55" for "double five", "4100" for "forty one hundred"
    cents: int | None = None   # from a typed decimal such as "12.50"


def _folded(table: dict[str, Any] | None) -> dict[str, int]:
    return {fold(str(k)): int(v) for k, v in (table or {}).items()}


@dataclass
class NumberWords:
    """The number vocabulary of one language (see locales/<lang>/numbers.toml)."""

    zeros: dict[str, int]
    cardinals: dict[str, int]
    multipliers: dict[str, int]
    repeaters: dict[str, int]
    homophones: dict[str, int]
    articles: dict[str, int]
    connectors: frozenset[str]
    ordinals: dict[str, int]
    counts: dict[str, int]     # words that are numbers only when counting ("네 번")
    split_compounds: bool = False
    particles: tuple[str, ...] = ()
    pieces: frozenset[str] = field(default_factory=frozenset)   # extra units for splitting

    @classmethod
    def from_toml(cls, data: dict[str, Any], particles: tuple[str, ...] = (),
                  pieces: frozenset[str] = frozenset()) -> NumberWords:
        return cls(
            zeros=_folded(data.get("zeros")), cardinals=_folded(data.get("cardinals")),
            multipliers=_folded(data.get("multipliers")), repeaters=_folded(data.get("repeaters")),
            homophones=_folded(data.get("homophones")), articles=_folded(data.get("articles")),
            connectors=frozenset(fold(w) for w in data.get("connectors", [])),
            ordinals=_folded(data.get("ordinals")), counts=_folded(data.get("counts")),
            split_compounds=bool(data.get("split_compounds", False)),
            particles=tuple(sorted((fold(p) for p in particles), key=len, reverse=True)),
            pieces=frozenset(fold(p) for p in pieces))

    def is_number_word(self, word: str) -> bool:
        return (word in self.cardinals or word in self.multipliers or word in self.zeros
                or word in self.repeaters or _is_literal(word))

    def vocabulary(self) -> set[str]:
        return (set(self.zeros) | set(self.cardinals) | set(self.multipliers)
                | set(self.repeaters) | set(self.homophones) | set(self.articles)
                | set(self.connectors) | set(self.ordinals) | set(self.counts))

    # -- splitting glued words (Korean) ---------------------------------------------------------
    def split(self, words: list[str]) -> list[str]:
        if not self.split_compounds:
            return words
        out: list[str] = []
        for word in words:
            out.extend(self._split_word(word))
        return out

    def _split_word(self, word: str) -> list[str]:
        known = self._lexicon()
        pieces = _segment(word, known)
        if pieces:
            return list(pieces)
        for particle in self.particles:
            if word.endswith(particle) and len(word) > len(particle):
                pieces = _segment(word[: -len(particle)], known)
                if pieces:
                    return [*pieces, particle]
        return [word]

    def _lexicon(self) -> frozenset[str]:
        return frozenset(set(self.cardinals) | set(self.multipliers) | set(self.zeros)
                         | self.pieces)

    # -- grouping into chunks -------------------------------------------------------------------
    def chunks(self, words: list[str], digits_mode: bool = False) -> list[Chunk]:
        """Group the number words of ``words`` into spoken numbers, in order.

        In ``digits_mode`` homophones ("for", "to", "ate", "oh") count as digits, but only next
        to another number word, so "i want to pay" keeps its "to".
        """
        words = list(words)
        kinds = [self._kind(w) for w in words]
        if digits_mode:
            for _ in range(2):   # twice, so "to to one" resolves from the right
                for i, word in enumerate(words):
                    if kinds[i] is None and word in self.homophones and any(
                            0 <= j < len(words) and kinds[j] is not None
                            and kinds[j][0] not in ("conn", "art") for j in (i - 1, i + 1)):
                        value = self.homophones[word]
                        kinds[i] = ("zero",) if value == 0 else ("card", value)
        out: list[Chunk] = []
        cur: list[Any] | None = None   # [start, end, value, digits, multipliers applied]
        repeat = 1

        def close() -> None:
            nonlocal cur
            if cur is not None:
                out.append(Chunk(cur[0], cur[1], cur[2], cur[3]))
                cur = None

        for i, kind in enumerate(kinds):
            if kind is None:
                close()
                repeat = 1
                continue
            tag = kind[0]
            if tag == "lit":
                close()
                text = words[i]
                whole, _, frac = text.partition(".")
                cents = int((frac + "00")[:2]) if frac else None
                out.append(Chunk(i, i + 1, int(whole or 0), whole, cents))
            elif tag == "zero":
                close()
                out.append(Chunk(i, i + 1, 0, "0" * repeat))
                repeat = 1
            elif tag == "rep":
                close()
                repeat = kind[1]
            elif tag == "art":
                close()
                if i + 1 < len(kinds) and kinds[i + 1] and kinds[i + 1][0] == "mult":
                    cur = [i, i + 1, kind[1], str(kind[1]), set()]
            elif tag == "conn":
                nxt = kinds[i + 1] if i + 1 < len(kinds) else None
                if cur is None or not nxt or nxt[0] not in ("card", "mult"):
                    close()
            elif tag == "card":
                value = kind[1]
                if repeat > 1 and value < 10:
                    close()
                    out.append(Chunk(i, i + 1, value, str(value) * repeat))
                    repeat = 1
                    continue
                if cur is not None and cur[2] > 0 and cur[2] % (10 ** len(str(value))) == 0:
                    cur[2] += value
                    cur[1] = i + 1
                    cur[3] = str(cur[2])
                else:
                    close()
                    cur = [i, i + 1, value, str(value), set()]
            elif tag == "mult":
                m = kind[1]
                if cur is not None and m in cur[4]:   # "사십일 | 십일": 십 said again
                    close()
                if cur is None:
                    cur = [i, i + 1, m, str(m), {m}]
                else:
                    cur[4] = {x for x in cur[4] if x > m} | {m}
                    low = cur[2] % m
                    cur[2] = cur[2] - low + max(low, 1) * m
                    cur[1] = i + 1
                    cur[3] = str(cur[2])
        close()
        return out

    def _kind(self, word: str) -> tuple | None:
        if _is_literal(word):
            return ("lit",)
        if word in self.zeros:
            return ("zero",)
        if word in self.cardinals:
            return ("card", self.cardinals[word])
        if word in self.multipliers:
            return ("mult", self.multipliers[word])
        if word in self.repeaters:
            return ("rep", self.repeaters[word])
        if word in self.articles:
            return ("art", self.articles[word])
        if word in self.connectors:
            return ("conn",)
        return None

    def digits(self, words: list[str]) -> str | None:
        """The digit string said in ``words`` ("forty one eleven" -> "4111"), or None."""
        found = self.chunks(self.split(words), digits_mode=True)
        text = "".join(c.digits for c in found)
        return text or None

    def cardinal(self, words: list[str]) -> int | None:
        """The first whole number said in ``words`` ("twenty five" -> 25), or None."""
        found = self.chunks(self.split(words))
        return found[0].value if found else None


def _is_literal(word: str) -> bool:
    head, _, tail = word.partition(".")
    return head.isdigit() and head.isascii() and (not tail or (tail.isdigit() and tail.isascii()))


def _segment(word: str, known: frozenset[str]) -> tuple[str, ...] | None:
    """Split ``word`` wholly into known pieces, fewest pieces first; None if it cannot be."""
    return _segment_cached(word, known)


@lru_cache(maxsize=4096)
def _segment_cached(word: str, known: frozenset[str]) -> tuple[str, ...] | None:
    if not word:
        return ()
    best: tuple[str, ...] | None = None
    for size in range(min(len(word), 4), 0, -1):
        head = word[:size]
        if head in known:
            rest = _segment_cached(word[size:], known)
            if rest is not None and (best is None or len(rest) + 1 < len(best)):
                best = (head, *rest)
    return best
