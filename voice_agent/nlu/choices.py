"""Closed-list answers: payment methods, charge names, callback windows.

The dialogue's lists live in locales/<lang>/choices.toml (``[payment_method] card = [...]``);
matching is rapidfuzz against every phrase of every key, with a cutoff and an ambiguity margin
so that "the card from my bank" is not silently taken as either.
"""
from __future__ import annotations

from pathlib import Path

from rapidfuzz import fuzz

from voice_agent.nlu.locale import LocaleError, read_toml
from voice_agent.nlu.text import remove_phrases, tokens

CUTOFF = 0.75
MARGIN = 0.08


def load_choices(directory: Path, name: str) -> dict[str, list[str]]:
    """Section ``name`` of choices.toml and choices_*.toml in ``directory``; none -> {}.

    Extra files (sorted) let a group of flows keep its lists apart; a section defined in two
    files is an error, so one file never silently changes another's list.
    """
    table: dict = {}
    found_in: Path | None = None
    for path in [directory / "choices.toml", *sorted(directory.glob("choices_*.toml"))]:
        section = read_toml(path, required=False).get(name)
        if section is None:
            continue
        if found_in is not None:
            raise LocaleError(f"{path}: choice list [{name}] is already defined in {found_in}")
        table, found_in = section, path
    if not isinstance(table, dict):
        return {}
    return {str(key): [str(p) for p in (val if isinstance(val, list) else [val])]
            for key, val in table.items()}


def match_choice(text: str, choices: dict[str, list[str]], fillers=(), keep=(), char_mode: bool = False,
                 cutoff: float = CUTOFF, margin: float = MARGIN) -> tuple[str | None, float]:
    """(key, score 0..1) of the choice said, or (None, best score) when too weak or too close."""
    said = " ".join(remove_phrases(tokens(text), list(fillers), list(keep)))
    if not said or not choices:
        return None, 0.0
    scores: dict[str, float] = {}
    for key, phrases in choices.items():
        for phrase in [key, *phrases] if not phrases else phrases:
            want = " ".join(tokens(phrase))
            if not want:
                continue
            if char_mode:   # Korean: particles glue onto the choice ("카드로")
                score = fuzz.partial_ratio(want.replace(" ", ""), said.replace(" ", ""))
                if len(want.replace(" ", "")) < 2:
                    score = 100.0 if want in said.split() else 0.0
            else:
                score = fuzz.token_set_ratio(want, said)
                if len(want) <= 3:   # short names ("ach") must be said as a word
                    score = score if want in said.split() else min(score, 60.0)
            scores[key] = max(scores.get(key, 0.0), score / 100.0)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    key, best = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    if best < cutoff or best - second < margin:
        return None, round(best, 3)
    return key, round(best, 3)
