"""Picking one item of a list the caller has just heard: by keypad digit, by ordinal ("the second
one"), by number ("number two"), or by name (fuzzy, against the item's names and the language's
synonyms for them in locales/<lang>/choices_cases.toml)."""
from __future__ import annotations

from collections.abc import Sequence

from voice_agent.dialogue.flow import Ctx, Input


def pick_index(ctx: Ctx, inp: Input, count: int) -> int | None:
    """0-based index of the item picked by position, or None."""
    if inp.dtmf is not None:
        digits = "".join(ch for ch in inp.dtmf if ch.isdigit())
        number = int(digits) if digits else 0
        return number - 1 if 1 <= number <= count else None
    if not inp.text:
        return None
    ordinal = ctx.choice(inp, "ordinal")
    if ordinal and ordinal.isdigit() and 1 <= int(ordinal) <= count:
        return int(ordinal) - 1
    number = ctx.value(inp, "number")
    if isinstance(number, int) and 1 <= number <= count:
        return number - 1
    return None


def pick_by_name(ctx: Ctx, inp: Input, names: Sequence[str], synonyms: str) -> list[int]:
    """Indices of the items whose name (or a synonym of it) the caller said; [] when none.

    Items sharing a name all come back, so the caller can be asked which of them.
    """
    if not inp.text:
        return []
    extra = {key.lower(): phrases for key, phrases in ctx.nlu.choices(ctx.lang, synonyms).items()}
    table: dict[str, list[str]] = {}
    for name in names:
        key = name.lower()
        table.setdefault(key, [key, *extra.get(key, [])])
    key, _ = ctx.nlu.match_choice(inp.text, ctx.lang, table)
    if key is None:
        return []
    return [i for i, name in enumerate(names) if name.lower() == key]
