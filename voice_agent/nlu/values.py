"""Spoken values of one kind: digits, amounts (cents), counts, yes/no and language names.

Each parser takes the caller's words (already normalised, fillers removed) and the language data,
and returns the value or None. Dates and card expiries live in dates.py.
"""
from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz

from voice_agent.nlu.locale import LocaleData
from voice_agent.nlu.numbers import Chunk
from voice_agent.nlu.text import phrase_tokens


def phrase_at(words: list[str], i: int, phrase: tuple[str, ...], loose: bool = False) -> bool:
    """True when ``phrase`` is said at ``words[i]``.

    ``loose`` lets a word carry a trailing ending (Korean "아니요" for the stem "아니"), for
    languages that glue particles and endings onto words.
    """
    n = len(phrase)
    if i + n > len(words):
        return False
    for word, want in zip(words[i:i + n], phrase):
        if word != want and not (loose and len(want) >= 2 and word.startswith(want)):
            return False
    return True


def find_phrases(words: list[str], phrases: list[tuple[str, ...]] | dict, loose: bool = False
                 ) -> list[tuple[int, int, tuple[str, ...]]]:
    """Every non-overlapping (start, end, phrase) found, longest phrase first at each position."""
    ordered = sorted(phrases, key=len, reverse=True)
    found = []
    i = 0
    while i < len(words):
        for phrase in ordered:
            if phrase and phrase_at(words, i, phrase, loose):
                found.append((i, i + len(phrase), phrase))
                i += len(phrase)
                break
        else:
            i += 1
    return found


def is_loose(ld: LocaleData) -> bool:
    return bool(ld.particles)


# Kinds a caller corrects mid-sentence ("forty dollars scratch that fifty"): the value said after
# the last correction marker wins. A yes/no or a language name is not corrected this way ("no"
# is itself a marker).
CORRECTABLE_KINDS = frozenset({"digits", "amount", "number", "date", "expiry"})


def first_correction(words: list[str], ld: LocaleData) -> tuple[int, int] | None:
    """(start, end) of the first correction marker said ("scratch that", "no mejor", "아니"),
    or None. People correct themselves mid-sentence; what follows a marker replaces what came
    before it ("forty dollars scratch that fifty" is fifty)."""
    found = find_phrases(words, ld.corrections, is_loose(ld))
    return (found[0][0], found[0][1]) if found else None


def after_corrections(words: list[str], ld: LocaleData) -> list[str] | None:
    """The words after the last correction marker, or None when nothing was corrected."""
    found = find_phrases(words, ld.corrections, is_loose(ld))
    return words[found[-1][1]:] if found else None


def parse_digits(words: list[str], ld: LocaleData) -> str | None:
    return ld.numbers.digits(words)


def parse_number(words: list[str], ld: LocaleData) -> int | None:
    """A small count ("three", "tres", "세 번") as an int."""
    nw = ld.numbers
    ordinal = next((nw.ordinals[w] for w in words if w in nw.ordinals), None)
    value = nw.cardinal(words)
    if value is None:
        value = next((nw.counts[w] for w in words if w in nw.counts), None)
    return value if value is not None else ordinal


def parse_amount(words: list[str], ld: LocaleData) -> int | None:
    """Money in integer cents: "eighty four dollars and twenty cents" -> 8420.

    Words between numbers that are neither money words nor connectors split the utterance into
    segments ("fifty dollars | on account | one two three four"); the first segment with a
    currency word is read, else the first with a number.
    """
    words = ld.numbers.split(words)
    chunks = ld.numbers.chunks(words)
    if not chunks:
        return None
    marks: dict[int, tuple[str, int]] = {}
    loose = is_loose(ld)
    for tag, phrases in (("major", ld.currency_major), ("minor", ld.currency_minor),
                         ("point", ld.decimal_point)):
        for start, end, _ in find_phrases(words, phrases, loose):
            marks[start] = (tag, end)
    joiners = set(ld.numbers.connectors) | {w for p in _phrases(ld, "joiners") for w in p}
    segments: list[list[Any]] = [[]]
    by_start = {c.start: c for c in chunks}
    i = 0
    while i < len(words):
        if i in by_start:
            chunk = by_start[i]
            segments[-1].append(chunk)
            i = chunk.end
        elif i in marks:
            tag, end = marks[i]
            segments[-1].append(tag)
            i = end
        elif words[i] in joiners:
            i += 1
        else:
            if segments[-1]:
                segments.append([])
            i += 1
    with_number = [s for s in segments if any(isinstance(x, Chunk) for x in s)]
    if not with_number:
        return None
    chosen = next((s for s in with_number if "major" in s or "minor" in s), with_number[0])
    return _segment_cents(chosen)


def _phrases(ld: LocaleData, key: str) -> list[tuple[str, ...]]:
    return [phrase_tokens(p) for p in ld.values.get("money", {}).get(key, [])]


def _segment_cents(items: list[Any]) -> int | None:
    nums = [x for x in items if isinstance(x, Chunk)]
    tags = [x for x in items if isinstance(x, str)]
    first = nums[0]
    if "point" in tags:
        before = [x for x in items[: items.index("point")] if isinstance(x, Chunk)]
        after = [x for x in items[items.index("point"):] if isinstance(x, Chunk)]
        if not before:
            return None
        digits = "".join(c.digits for c in after)[:2].ljust(2, "0")
        return before[-1].value * 100 + int(digits)
    if "major" in tags:
        at = items.index("major")
        dollars = [x for x in items[:at] if isinstance(x, Chunk)]
        cents = [x for x in items[at:] if isinstance(x, Chunk)]
        if not dollars:   # "dollars fifty": currency word said first
            dollars, cents = cents[:1], cents[1:]
        if not dollars:
            return None
        total = dollars[-1].value * 100 + (dollars[-1].cents or 0)
        if cents and cents[0].value < 100:
            total += cents[0].value
        return total
    if "minor" in tags:
        before = [x for x in items[: items.index("minor")] if isinstance(x, Chunk)]
        return before[-1].value if before else None
    if len(nums) == 1:
        return first.value * 100 + (first.cents or 0)
    if len(nums) == 2 and nums[1].value < 100 and first.cents is None:
        # "eighty four twenty" = $84.20; "five oh" is not a price
        if nums[1].value >= 10 or nums[1].digits == "0":
            return first.value * 100 + nums[1].value
        return None
    if len(nums) == 3 and nums[1].digits == "0" and nums[2].value < 10:
        return first.value * 100 + nums[2].value   # "eighty four oh five"
    return None


def parse_yes_no(words: list[str], ld: LocaleData) -> str | None:
    """"yes"/"no" from the first yes or no phrase said (longest phrase wins: "not right" is no)."""
    table = {p: "yes" for p in ld.yes}
    table.update({p: "no" for p in ld.no})
    table.update({p: None for p in ld.unsure})   # "not sure" is neither
    found = find_phrases(words, list(table), is_loose(ld))
    return table[found[0][2]] if found else None


def parse_language(words: list[str], ld: LocaleData, names: dict[tuple[str, ...], str]
                   ) -> str | None:
    """A language code from its name in any loaded language ("español", "korean", "한국어로")."""
    found = find_phrases(words, list(names), loose=True)
    if found:
        return names[found[0][2]]
    single = {p[0]: code for p, code in names.items() if len(p) == 1 and len(p[0]) >= 5}
    for word in words:
        if len(word) < 5:
            continue
        best = max(single, key=lambda name: fuzz.ratio(word, name), default=None)
        if best is not None and fuzz.ratio(word, best) >= 85:
            return single[best]
    return None
