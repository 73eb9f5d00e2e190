"""Where the languages live and what each one is: the one loader of ``voice_agent/locales/``.

Every language is a folder of data inside the package, ``locales/<lang>/``, so a wheel carries
it: understanding (intents, numbers, values, keywords), replies (prompts, choices) and
``language.toml``, the facts the rest of the program needs about the language itself::

    name = "English"              # the language's own name
    babel_locale = "en_US"        # money, numbers and dates (settings `locales.<lang>` overrides)
    voice = "en-us"               # espeak-ng voice (settings `voices.<lang>` overrides)
    joined_words = false          # one written word may hold a phrase (Korean: particles join on)
    [payment_options]             # the words for each other way to pay (settings payment_options)
    online = "online at ..."

The NLU and the prompts read their own files from ``directory(lang)``; this module reads
``language.toml``. It imports nothing else of voice_agent, so settings, store and logs may use it.
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGE_FILE = "language.toml"
# The keys every language.toml holds, and their types ([payment_options] is a table of texts).
FIELDS: dict[str, type] = {"name": str, "babel_locale": str, "voice": str, "joined_words": bool,
                           "payment_options": dict}


class LanguageError(ValueError):
    """A language folder or language.toml that is missing or incomplete; the message names it."""


@dataclass(frozen=True)
class Language:
    """The facts about one language that are not about understanding or replies."""

    code: str
    name: str
    babel_locale: str
    voice: str
    joined_words: bool
    payment_options: Mapping[str, str]


def directory(code: str, base: Path | None = None) -> Path:
    """The folder of one language's data files (it may not exist: callers say what is missing)."""
    return (base or LOCALES_DIR) / code


def available(base: Path | None = None) -> tuple[str, ...]:
    """The codes of the languages present: folders with a language.toml, sorted."""
    root = base or LOCALES_DIR
    if not root.is_dir():
        return ()
    return tuple(sorted(p.name for p in root.iterdir() if (p / LANGUAGE_FILE).is_file()))


@cache
def load_language(code: str, base: Path | None = None) -> Language:
    """``locales/<code>/language.toml``, checked: every key of FIELDS present with its type."""
    path = directory(code, base) / LANGUAGE_FILE
    if not path.is_file():
        raise LanguageError(f"{path}: missing (every language needs its {LANGUAGE_FILE})")
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise LanguageError(f"{path}: {exc}") from exc
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise LanguageError(f"{path}: unknown keys {unknown}")
    for key, kind in FIELDS.items():
        if not isinstance(data.get(key), kind):
            raise LanguageError(f"{path}: {key} is missing or not a {kind.__name__}")
    texts = data["payment_options"]
    if not all(isinstance(v, str) and v for v in texts.values()):
        raise LanguageError(f"{path}: [payment_options] holds one text per way to pay")
    return Language(code=code, name=data["name"], babel_locale=data["babel_locale"],
                    voice=data["voice"], joined_words=data["joined_words"],
                    payment_options=MappingProxyType(dict(texts)))


def find_language(code: str) -> Language | None:
    """The language when the package has it, else None (a language named only in the settings)."""
    if not (directory(code) / LANGUAGE_FILE).is_file():
        return None
    return load_language(code)
