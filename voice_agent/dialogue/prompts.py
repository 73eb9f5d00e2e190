"""Render replies (prompt key + parameters) into text in the caller's language.

Prompt text lives in locales/<lang>/prompts.toml, one key per prompt, with `{name}` placeholders.
Parameters are typed so that each is read the way a listener needs it: money and dates through
Babel in the language's locale, account numbers in groups of digits, confirmation codes one
character at a time. Adding a language is adding its prompts.toml; no code changes.

A turn renders to language segments, `[(lang, text), ...]`: a prompt may hold prompts in other
languages (the language menu says each option in its own language), and a voice speaks each
segment in its language. The text to show (`say`) is the segments' texts joined by spaces.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import string
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

from voice_agent.dialogue.events import Reply
from voice_agent.dialogue.particles import ParticleRules
from voice_agent.languages import LOCALES_DIR

# Tables a prompts file may hold besides prompt texts: [particles] (see particles.py).
DATA_TABLES = {"particles"}
log = logging.getLogger(__name__)

Segment = tuple[str, str]          # (language, text): one run of words said in one language
# A value ending in a period ("8:14 a.m.") at the end of a sentence must not double it.
DOUBLE_PERIOD = re.compile(r"(?<!\.)\.\.(?!\.)")
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Money:
    cents: int


@dataclass(frozen=True)
class Digits:
    """A long number read in groups ("1 0 0, 2 0 0, 3 0 0") so a listener can follow it.
    ``echo``: the caller's own entry read back, which the call record keeps masked
    (``Agent`` stores such a turn as ``redact.mask_digit_runs`` leaves the number)."""

    value: str
    group: int = 3
    echo: bool = False


@dataclass(frozen=True)
class Spelled:
    """A code read character by character ("K, 7, M, 4")."""

    value: str


@dataclass(frozen=True)
class When:
    """A moment read as a local date and time."""

    moment: dt.datetime


@dataclass(frozen=True)
class LanguageName:
    code: str


@dataclass(frozen=True)
class Prompt:
    """A prompt inside a prompt (for lists assembled from several keys)."""

    key: str
    params: dict
    lang: str | None = None     # render in this language instead of the call's


class PromptError(LookupError):
    """A prompt key missing from a language's catalog."""


def group_digits(digits: str, size: int = 3) -> str:
    digits = "".join(ch for ch in digits if ch.isalnum())
    groups = [digits[i:i + size] for i in range(0, len(digits), size)]
    # A lone trailing digit reads badly; join it to the group before it.
    if len(groups) > 1 and len(groups[-1]) == 1:
        last = groups.pop()
        groups[-1] = groups[-1] + last
    return ", ".join(" ".join(g) for g in groups)


def spell(code: str) -> str:
    # Letters and digits only: a separator in a reference ("T-B7L6") is not read as a character.
    return ", ".join(ch for ch in code if ch.isalnum())


class Prompts:
    """All prompt catalogs, loaded once; `segments(lang, replies)` gives what to say in which
    language, `render(lang, replies)` its text."""

    def __init__(self, settings, languages: Iterable[str] | None = None,
                 locales_dir: Path = LOCALES_DIR):
        self.settings = settings
        self.default = settings.default_language
        self.catalogs: dict[str, dict[str, str]] = {}
        self.particles: dict[str, ParticleRules] = {}
        for lang in languages or settings.languages:
            self.catalogs[lang] = load_catalog(lang, locales_dir)
            table = load_tables(lang, locales_dir).get("particles")
            if table:
                self.particles[lang] = ParticleRules.from_table(table)
        self.tz = ZoneInfo(settings.get("timezone") or "UTC")

    def text(self, lang: str, key: str) -> str:
        catalog = self.catalogs.get(lang) or self.catalogs[self.default]
        if key in catalog:
            return catalog[key]
        if key in self.catalogs.get(self.default, {}):
            # Better the default language than silence, but it is a gap in the catalog: say so
            # (tests/test_dialogue_prompts.py keeps every language complete).
            log.warning("prompt %r is missing in locales/%s/; said in %s", key, lang, self.default)
            return self.catalogs[self.default][key]
        raise PromptError(f"prompt {key!r} is missing in locales/{lang}/prompts.toml")

    def format_value(self, lang: str, value: Any) -> str:
        """A parameter as the words to say (a prompt inside it in its own language)."""
        return join_segments(self._value_segments(lang, value))

    def _value_segments(self, lang: str, value: Any) -> list[Segment]:
        if isinstance(value, Prompt):
            return self.segments_one(value.lang or lang, Reply(value.key, value.params))
        if isinstance(value, (list, tuple)):
            return [seg for v in value for seg in self._value_segments(lang, v)]
        return [(lang, self._format_leaf(lang, value))]

    def _format_leaf(self, lang: str, value: Any) -> str:
        locale = self.settings.locale(lang)
        if isinstance(value, Money):
            return format_currency(Decimal(value.cents) / 100, self.settings["currency"],
                                   locale=locale)
        if isinstance(value, Digits):
            return group_digits(value.value, value.group)
        if isinstance(value, Spelled):
            return spell(value.value)
        if isinstance(value, When):
            local = value.moment.astimezone(self.tz)
            return self.render_one(lang, Reply("date_time", {
                "date": format_date(local.date(), "long", locale=locale),
                "time": format_time(local, "short", locale=locale)}))
        if isinstance(value, LanguageName):
            return Locale.parse(value.code).get_display_name(Locale.parse(locale)) or value.code
        if isinstance(value, dt.date):
            return format_date(value, "long", locale=locale)
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int):
            return format_decimal(value, locale=locale)
        return str(value)

    def segments_one(self, lang: str, reply: Reply) -> list[Segment]:
        """One reply as language segments: the template in `lang`, a prompt parameter in its own
        language. Particles agree with whatever is said before them, in any language."""
        template = self.text(lang, reply.key)
        params = {"company": str(self.settings.company_name),
                  "official_phone": str(self.settings["official_phone"]), **reply.params}
        pieces: list[Segment] = []
        for literal, name, spec, conversion in _FORMATTER.parse(template):
            pieces.append((lang, literal))
            if name is None:
                continue
            # Only what the template says is formatted (a step's parameters serve several prompts).
            value = _FORMATTER.get_field(name, (), params)[0]
            parts = self._value_segments(lang, value)
            if spec or conversion:
                text = _FORMATTER.convert_field(join_segments(parts), conversion)
                parts = [(lang, _FORMATTER.format_field(text, spec))]
            # Words of a value are separated as in its own text ("1 0 0, 2 0 0").
            for i, part in enumerate(parts):
                pieces.extend([(lang, " "), part] if i else [part])
        return _words_in_runs(self._agree_pieces(lang, pieces))

    def _agree_pieces(self, lang: str, pieces: list[Segment]) -> list[Segment]:
        """Resolve the language's agreeing particles ("{method}[을/를]" -> "카드를") by what
        is said before each, whatever its language."""
        rules = self.particles.get(lang)
        if rules is None:
            return pieces
        agreed: list[Segment] = []
        said = ""
        for piece_lang, text in pieces:
            if piece_lang == lang:
                text = rules.apply(text, before=said)
            agreed.append((piece_lang, text))
            said += text
        return agreed

    def render_one(self, lang: str, reply: Reply) -> str:
        return join_segments(self.segments_one(lang, reply))

    def segments(self, lang: str, replies: Iterable[Reply]) -> list[Segment]:
        """The replies of a turn as language segments, neighbours in one language merged."""
        return _merged([seg for r in replies for seg in self.segments_one(r.lang or lang, r)])

    def render(self, lang: str, replies: Iterable[Reply]) -> str:
        return join_segments(self.segments(lang, replies))


def join_segments(segments: Iterable[Segment]) -> str:
    """The text of language segments: what is shown, and what `say` holds."""
    return " ".join(text for _, text in segments if text)


def _merged(segments: list[Segment]) -> list[Segment]:
    return [(lang, join_segments(run)) for lang, run in groupby(segments, key=lambda s: s[0])]


def _words_in_runs(pieces: list[Segment]) -> list[Segment]:
    """Formatted pieces to segments of whole words: doubled periods and spaces go (optional
    parts left empty, "{saved}" with no method on file, leave no gaps), and a word belongs to the
    language it starts in (a particle glued to a foreign word is said with it)."""
    chars = [(lang, ch) for lang, text in pieces for ch in text]
    dropped = {m.start() + 1 for m in DOUBLE_PERIOD.finditer("".join(ch for _, ch in chars))}
    words: list[Segment] = []
    gap = True
    for i, (lang, ch) in enumerate(chars):
        if i in dropped:
            continue
        if ch == " ":
            gap = True
        elif gap:
            words.append((lang, ch))
            gap = False
        else:
            words[-1] = (words[-1][0], words[-1][1] + ch)
    return _merged(words)


def _catalog_files(lang: str, locales_dir: Path) -> list[Path]:
    path = locales_dir / lang / "prompts.toml"
    if not path.exists():
        raise PromptError(f"no prompt catalog for language {lang!r}: {path} is missing")
    return [path, *sorted(path.parent.glob("prompts_*.toml"))]


def load_tables(lang: str, locales_dir: Path = LOCALES_DIR) -> dict[str, dict]:
    """The data tables (DATA_TABLES) of a language's prompt files; one file per table."""
    tables: dict[str, dict] = {}
    for part in _catalog_files(lang, locales_dir):
        with part.open("rb") as fh:
            data = tomllib.load(fh)
        for name in DATA_TABLES & set(data):
            if name in tables:
                raise PromptError(f"[{name}] in {part} is already defined in locales/{lang}/")
            tables[name] = data[name]
    return tables


def load_catalog(lang: str, locales_dir: Path = LOCALES_DIR) -> dict[str, str]:
    """prompts.toml, then every prompts_*.toml (sorted) of the language, merged into one catalog.

    Extra files let a group of flows keep its prompts apart; a key defined twice is an error, so
    one file can never silently change another's prompt.
    """
    catalog: dict[str, str] = {}
    for part in _catalog_files(lang, locales_dir):
        with part.open("rb") as fh:
            data = tomllib.load(fh)
        for key, value in data.items():
            if key in DATA_TABLES and isinstance(value, dict):
                continue
            if not isinstance(value, str):
                # A stray [table] header swallows every prompt after it, and those prompts
                # would then be said in the default language: refuse the file instead.
                raise PromptError(f"{part}: {key!r} is not a prompt text (a [table] header"
                                  f" above prompts?)")
            if key in catalog:
                raise PromptError(f"prompt {key!r} in {part} is already defined in"
                                  f" locales/{lang}/ (another prompts file)")
            catalog[key] = value
    return catalog
