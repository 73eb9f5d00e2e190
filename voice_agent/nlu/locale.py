"""Loads one language's understanding data from locales/<lang>/ (intents, numbers, values).

Everything a language needs is data here; the code never names a word of any language.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice_agent import languages
from voice_agent.nlu.keywords import Keyphrase, load_keyphrases
from voice_agent.nlu.numbers import NumberWords
from voice_agent.nlu.text import fold, phrase_tokens, remove_phrases


class LocaleError(ValueError):
    """A locale file that is missing or malformed; the message names the file."""


def read_toml(path: Path, required: bool = True) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise LocaleError(f"{path}: missing")
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise LocaleError(f"{path}: {exc}") from exc


def _phrases(items: list[str] | None) -> list[tuple[str, ...]]:
    return [p for p in (phrase_tokens(s) for s in items or []) if p]


def _phrase_map(table: dict[str, Any] | None) -> dict[tuple[str, ...], Any]:
    """{"next week": 7} or {"es": ["spanish", ...]} -> {("next", "week"): 7, ("spanish",): "es"}."""
    out: dict[tuple[str, ...], Any] = {}
    for key, val in (table or {}).items():
        if isinstance(val, list):
            for phrase in val:
                out[phrase_tokens(str(phrase))] = key
        else:
            out[phrase_tokens(str(key))] = val
    return out


@dataclass
class LocaleData:
    """One language: raw tables for grammars, folded lookups for matching."""

    code: str
    directory: Path
    intents: dict[str, list[str]]          # intent -> sentence templates as written
    numbers: NumberWords
    numbers_raw: dict[str, Any]
    values: dict[str, Any]                 # values.toml as written (for grammars)
    fillers: list[tuple[str, ...]]
    keep: list[tuple[str, ...]]            # phrases of filler words that mean something
    rejoin: frozenset[str]                 # endings a recogniser splits off ("맞 아요")
    match_units: str                       # "words" or "char_bigrams"
    particles: tuple[str, ...]
    months: dict[tuple[str, ...], int]
    weekdays: dict[tuple[str, ...], int]
    relative_days: dict[tuple[str, ...], int]
    yes: list[tuple[str, ...]]
    no: list[tuple[str, ...]]
    unsure: list[tuple[str, ...]]
    languages: dict[tuple[str, ...], str]
    currency_major: list[tuple[str, ...]]
    currency_minor: list[tuple[str, ...]]
    decimal_point: list[tuple[str, ...]]
    date: dict[str, Any]
    slot_cues: dict[str, list[tuple[str, ...]]]
    keyphrases: list[Keyphrase] = field(default_factory=list)   # keywords.toml
    # "scratch that", "no mejor", "아니": the value said after the last one wins (values.toml).
    corrections: list[tuple[str, ...]] = field(default_factory=list)
    require_keyword: frozenset[str] = frozenset()   # intents that win only with a keyphrase
    # Endings that finish a sentence ("요", "다": Korean puts the verb and its ending last), so
    # a request ending in one is over (values.toml [settings] sentence_endings; may be empty).
    sentence_endings: tuple[str, ...] = ()

    @classmethod
    def load(cls, code: str, base: Path | None = None) -> LocaleData:
        directory = languages.directory(code, base)
        intents_raw = read_toml(directory / "intents.toml")
        numbers_raw = read_toml(directory / "numbers.toml")
        values = read_toml(directory / "values.toml")
        settings = values.get("settings", {})
        particles = tuple(settings.get("particles", []))
        money = values.get("money", {})
        date = values.get("date", {})
        pieces = frozenset(
            [*money.get("major", []), *money.get("minor", []), *date.get("split_pieces", [])])
        intents: dict[str, list[str]] = {}
        keyphrases: list[Keyphrase] = []
        require: set[str] = set()
        for name, table in intents_raw.get("intents", {}).items():
            sentences = table.get("sentences", []) if isinstance(table, dict) else table
            intents[name] = [str(s) for s in sentences]
        # Keyphrase evidence (keywords.py) lives beside the examples, optional per language.
        keywords = read_toml(directory / "keywords.toml", required=False)
        for name, table in keywords.get("keywords", {}).items():
            if name not in intents:
                raise LocaleError(f"{directory / 'keywords.toml'}: unknown intent {name!r}")
            keyphrases += load_keyphrases(name, table)
        require.update(keywords.get("require_keyword", []))
        return cls(
            code=code, directory=directory, intents=intents,
            numbers=NumberWords.from_toml(numbers_raw, particles, pieces),
            numbers_raw=numbers_raw, values=values,
            fillers=_phrases([*values.get("fillers", []), *values.get("politeness", [])]),
            keep=_phrases(values.get("keep", [])),
            rejoin=frozenset(fold(w) for w in settings.get("rejoin", [])),
            match_units=settings.get("match_units", "words"),
            particles=tuple(sorted((fold(p) for p in particles), key=len, reverse=True)),
            months=_phrase_map(values.get("months")),
            weekdays=_phrase_map(values.get("weekdays")),
            relative_days=_phrase_map(values.get("relative_days")),
            yes=_phrases(values.get("yes_no", {}).get("yes")),
            no=_phrases(values.get("yes_no", {}).get("no")),
            unsure=_phrases(values.get("yes_no", {}).get("unsure")),
            languages=_phrase_map(values.get("languages")),
            currency_major=_phrases(money.get("major")),
            currency_minor=_phrases(money.get("minor")),
            decimal_point=_phrases(money.get("point")),
            date=date,
            slot_cues={k: _phrases(v) for k, v in values.get("slot_cues", {}).items()},
            keyphrases=keyphrases, require_keyword=frozenset(require),
            corrections=_phrases(values.get("corrections", {}).get("markers")),
            sentence_endings=tuple(fold(e) for e in settings.get("sentence_endings", [])),
        )

    def without_fillers(self, words: list[str], keep_corrections: bool = False) -> list[str]:
        """Fillers dropped, and endings the recogniser wrote apart glued back on; with
        ``keep_corrections`` correction markers made of fillers ("i mean", "digo") stay.

        The Korean Vosk model's vocabulary is partly morphemes, so it writes "네 맞 아요" for
        "네 맞아요" and "잔액 이 얼마 예요"; rejoining gives the spacing people write.
        """
        keep = [*self.keep, *self.corrections] if keep_corrections else self.keep
        words = remove_phrases(words, self.fillers, keep)
        if not self.rejoin:
            return words
        out: list[str] = []
        for word in words:
            if out and word in self.rejoin:
                out[-1] += word
            else:
                out.append(word)
        return out

    def strip_particle(self, word: str) -> str:
        """"요금을" -> "요금": a trailing particle removed when something is left."""
        for particle in self.particles:
            if word.endswith(particle) and len(word) > len(particle):
                return word[: -len(particle)]
        return word
