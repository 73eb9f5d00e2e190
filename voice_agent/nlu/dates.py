"""Spoken dates and card expiries.

Dates are relative to ``today`` and never in the past: "friday" is the coming Friday (1-7 days
ahead), "next friday" the Friday of next week, "the fifteenth" the next 15th, "december third"
this year's or next year's. Languages that glue the day and month onto the number (Korean
"십이월 삼일", "삼 일 후") name those suffixes in values.toml ``[date]`` and are read from the
text with spaces removed, since recognisers space such words differently.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re

from voice_agent.nlu.locale import LocaleData
from voice_agent.nlu.text import phrase_tokens
from voice_agent.nlu.values import find_phrases, is_loose


def _add_months(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _on_or_after(today: dt.date, month: int | None, day: int) -> dt.date | None:
    """The first date >= today with this day (and month, when given)."""
    if not 1 <= day <= 31:
        return None
    for step in range(0, 25 if month is None else 60, 1 if month is None else 12):
        year, mon = _add_months(today, step)
        if month is not None:
            year, mon = today.year + step // 12, month
        if day <= calendar.monthrange(year, mon)[1]:
            candidate = dt.date(year, mon, day)
            if candidate >= today:
                return candidate
    return None


def _weekday_date(today: dt.date, weekday: int, week: str | None) -> dt.date:
    if week == "next":
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
        return monday + dt.timedelta(days=weekday)
    ahead = (weekday - today.weekday()) % 7
    if week == "this":
        return today + dt.timedelta(days=ahead)
    return today + dt.timedelta(days=ahead or 7)


def _units(ld: LocaleData) -> dict[tuple[str, ...], int]:
    return {phrase_tokens(k): int(v) for k, v in ld.date.get("units", {}).items()}


def _phrase_list(ld: LocaleData, key: str) -> list[tuple[str, ...]]:
    return [phrase_tokens(p) for p in ld.date.get(key, [])]


def parse_date(words: list[str], ld: LocaleData, today: dt.date) -> dt.date | None:
    loose = is_loose(ld)
    found = find_phrases(words, list(ld.relative_days), loose)
    if found:
        return today + dt.timedelta(days=ld.relative_days[found[0][2]])
    found = find_phrases(words, list(ld.weekdays), loose)
    if found:
        start = found[0][0]
        before = words[max(0, start - 3):start]
        week = None
        if find_phrases(before, _phrase_list(ld, "next_week"), loose):
            week = "next"
        elif find_phrases(before, _phrase_list(ld, "this_week"), loose):
            week = "this"
        after = words[found[0][1]:found[0][1] + 3]
        if find_phrases(after, _phrase_list(ld, "next_week_after"), loose):
            week = "next"
        return _weekday_date(today, ld.weekdays[found[0][2]], week)
    if ld.date.get("day_suffix"):
        return _suffix_date(words, ld, today)
    return _word_date(words, ld, today)


def _word_date(words: list[str], ld: LocaleData, today: dt.date) -> dt.date | None:
    nw = ld.numbers
    chunks = nw.chunks(words)
    # "in three days", "three days from now", "in a week"
    units = _units(ld)
    for start, _end, phrase in find_phrases(words, list(units)):
        before = [c for c in chunks if c.end == start]
        if before:
            count = before[0].value
        elif start > 0 and words[start - 1] in nw.articles:
            count = nw.articles[words[start - 1]]
        else:
            continue
        return today + dt.timedelta(days=count * units[phrase])
    day, day_end = _day_number(words, ld)
    month_found = find_phrases(words, list(ld.months))
    if month_found:
        month = ld.months[month_found[0][2]]
        if day is None:   # "december three": a plain number next to the month
            near = [c for c in chunks if 1 <= c.value <= 31
                    and (c.start == month_found[0][1] or c.end == month_found[0][0]
                         or c.start == month_found[0][1] + 1 or c.end == month_found[0][0] - 1)]
            day = near[0].value if near else None
        return _on_or_after(today, month, day) if day else None
    if day is not None:
        return _on_or_after(today, None, day)
    return None


def _day_number(words: list[str], ld: LocaleData) -> tuple[int | None, int]:
    """A day of the month said as an ordinal ("twenty third") or after an article ("el quince")."""
    nw = ld.numbers
    for i, word in enumerate(words):
        if word in nw.ordinals:
            value = nw.ordinals[word]
            if i > 0 and words[i - 1] in nw.cardinals and nw.cardinals[words[i - 1]] % 10 == 0 \
                    and value < 10:
                value += nw.cardinals[words[i - 1]]
            return value, i + 1
    articles = set(ld.date.get("day_articles", []))
    for chunk in nw.chunks(words):
        if chunk.start > 0 and words[chunk.start - 1] in articles and 1 <= chunk.value <= 31:
            return chunk.value, chunk.end
    return None, 0


def _suffix_date(words: list[str], ld: LocaleData, today: dt.date) -> dt.date | None:
    nw = ld.numbers
    compact = "".join(words)
    chars = "".join(sorted({w for w in (*nw.cardinals, *nw.multipliers, *nw.zeros)
                            if len(w) == 1}))
    num = rf"(\d+|[{re.escape(chars)}]+)"

    def value(text: str) -> int | None:
        return int(text) if text.isdigit() else nw.cardinal(nw.split([text]))

    units = {k: int(v) for k, v in ld.date.get("units", {}).items()}
    after = "|".join(map(re.escape, ld.date.get("after_words", [])))
    unit_re = "|".join(map(re.escape, sorted(units, key=len, reverse=True)))
    if units and after:
        match = re.search(rf"{num}({unit_re})({after})", compact)
        if match and value(match.group(1)):
            return today + dt.timedelta(days=value(match.group(1)) * units[match.group(2)])
    month = day = None
    m = re.search(rf"{num}{re.escape(ld.date.get('month_suffix', '월'))}", compact)
    if m:
        month = value(m.group(1))
        compact = compact[m.end():]
    d = re.search(rf"{num}{re.escape(ld.date['day_suffix'])}", compact)
    if d:
        day = value(d.group(1))
    if day is None or (month is not None and not 1 <= month <= 12):
        return None
    return _on_or_after(today, month, day)


def parse_expiry(words: list[str], ld: LocaleData) -> tuple[int, int] | None:
    """A card expiry as (month, four-digit year): "twelve twenty eight" -> (12, 2028)."""
    nw = ld.numbers
    words = nw.split(words)
    month = None
    found = find_phrases(words, list(ld.months), is_loose(ld))
    if found:
        month = ld.months[found[0][2]]
        words = words[:found[0][0]] + ["|"] + words[found[0][1]:]
    chunks = nw.chunks(words, digits_mode=True)
    suffix = ld.date.get("month_suffix")
    if month is None and suffix and suffix in words:
        at = words.index(suffix)
        before = [c for c in chunks if c.end == at]
        if before:
            month = before[0].value
            chunks = [c for c in chunks if c is not before[0]]
    if month is None:
        digits = "".join(c.digits for c in chunks)
        if chunks and all(len(c.digits) == 1 for c in chunks) and len(digits) in (4, 6):
            return _valid(int(digits[:2]), int(digits[2:]))
        if len(chunks) >= 2 and chunks[0].digits == "0":
            chunks = chunks[1:]
        if len(chunks) >= 2:
            month, chunks = chunks[0].value, chunks[1:]
        elif len(chunks) == 1 and len(chunks[0].digits) == 4:
            return _valid(int(chunks[0].digits[:2]), int(chunks[0].digits[2:]))
        else:
            return None
    year = _year(chunks)
    return _valid(month, year) if year is not None else None


def _year(chunks) -> int | None:
    values = [c.value for c in chunks]
    if len(values) == 1:
        return values[0]
    if len(values) == 2 and values[0] == 20 and values[1] < 100:
        return 2000 + values[1]
    if len(values) == 2 and values[0] == 0 and values[1] < 10:   # "oh nine"
        return values[1]
    return None


def _valid(month: int, year: int) -> tuple[int, int] | None:
    if year < 100:
        year += 2000
    if 1 <= month <= 12 and 2000 <= year <= 2099:
        return month, year
    return None
