"""Every language has every prompt, with the same placeholders, and every prompt renders."""
import re
import string
from pathlib import Path

import pytest

from voice_agent import languages
from voice_agent.dialogue.events import Reply
from voice_agent.dialogue.flows import default_registry
from voice_agent.dialogue.prompts import Digits, Money, Prompts, Spelled, group_digits, load_catalog, spell
from voice_agent.settings import load_settings

SETTINGS = load_settings(env={})
LANGS = SETTINGS.languages
DIALOGUE = Path(__file__).resolve().parents[1] / "voice_agent" / "dialogue"


def catalog(lang):
    return load_catalog(lang)   # prompts.toml and every prompts_*.toml


def placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def keys_used_by_code():
    """Prompt keys named in the dialogue's code: step prompts and every say/miss/Prompt literal."""
    keys = set()
    for flow in default_registry().flows.values():
        for step in flow.steps.values():
            keys |= {k for k in (step.prompt, step.help, step.keypad, step.recheck) if k}
    pattern = re.compile(r'(?:say|miss|Prompt|Reply)\(\s*"([a-z0-9_]+)"'
                         r'|return None, "([a-z0-9_]+)"|"(readback_[a-z]+)"')
    for path in DIALOGUE.rglob("*.py"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            keys |= {g for g in match.groups() if g}
    return keys


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_has_every_prompt_with_same_placeholders(lang):
    english, other = catalog("en"), catalog(lang)
    assert set(other) == set(english), f"{lang}: missing {set(english) - set(other)}, " \
                                       f"extra {set(other) - set(english)}"
    for key, text in english.items():
        assert placeholders(other[key]) == placeholders(text), f"{lang}:{key}"


def test_code_uses_only_existing_prompts():
    used = keys_used_by_code()
    assert {"greeting", "pay_confirm", "invalid_card_number", "readback_digits"} <= used
    missing = {k for k in used if k not in catalog("en")}
    assert not missing, f"prompt keys used in code but missing in locales/en: {sorted(missing)}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_prompt_renders(lang):
    prompts = Prompts(SETTINGS)
    for key, text in catalog(lang).items():
        params = {name: Money(1234) for name in placeholders(text)}
        rendered = prompts.render_one(lang, Reply(key, params))
        assert "{" not in rendered
        assert not re.search(r"\[[^\]]*/[^\]]*\]", rendered), f"{lang}:{key}: {rendered}"


def test_formats_per_locale():
    prompts = Prompts(SETTINGS)
    assert prompts.format_value("en", Money(8420)) == "$84.20"
    assert "84" in prompts.format_value("es", Money(8420))
    assert prompts.format_value("en", Digits("100200300")) == "1 0 0, 2 0 0, 3 0 0"
    assert prompts.format_value("en", Spelled("K7M4")) == "K, 7, M, 4"
    assert group_digits("1234567") == "1 2 3, 4 5 6 7"
    assert spell("AB 9") == "A, B, 9"
    assert spell("T-B7L6") == "T, B, 7, L, 6"


def choice_keys(lang):
    """(list, entry) pairs of every choices*.toml of a language, each entry with its phrases."""
    import tomllib
    folder = languages.directory(lang)
    found = {}
    for path in sorted(folder.glob("choices*.toml")):
        with path.open("rb") as fh:
            for table, entries in tomllib.load(fh).items():
                for key, phrases in entries.items():
                    found[(table, key)] = phrases
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_has_every_choice(lang):
    english, other = choice_keys("en"), choice_keys(lang)
    assert set(other) == set(english), f"{lang}: missing {set(english) - set(other)}, " \
                                       f"extra {set(other) - set(english)}"
    assert all(phrases for phrases in other.values()), f"{lang}: a choice with no phrases"
