"""Languages are package data (voice_agent/languages.py): every language has a complete
language.toml with the same keys, the wheel carries the locales, and the settings only override."""
import glob
import tomllib
from pathlib import Path

import pytest

import voice_agent
from voice_agent import languages
from voice_agent.dialogue.flow import most_specific_choice
from voice_agent.settings import DEFAULTS, load_settings

PACKAGE = Path(voice_agent.__file__).resolve().parent
PYPROJECT = PACKAGE.parent / "pyproject.toml"


def raw(lang: str) -> dict:
    with (languages.directory(lang) / languages.LANGUAGE_FILE).open("rb") as fh:
        return tomllib.load(fh)


def test_every_language_folder_has_a_language_file():
    folders = sorted(p.name for p in languages.LOCALES_DIR.iterdir() if p.is_dir())
    assert folders and languages.available() == tuple(folders)
    assert set(load_settings(env={}).languages) <= set(folders)


def test_every_language_file_is_complete_with_the_same_keys():
    english = raw("en")
    assert set(english) == set(languages.FIELDS)
    ways = {option["key"] for option in DEFAULTS["payment_options"]}
    for lang in languages.available():
        data = raw(lang)
        assert set(data) == set(english), f"{lang}: {set(data) ^ set(english)}"
        assert set(data["payment_options"]) == set(english["payment_options"]), lang
        assert ways <= set(data["payment_options"]), f"{lang}: no words for {ways - set(data['payment_options'])}"
        language = languages.load_language(lang)      # types checked
        assert language.code == lang and language.name and language.voice


def test_a_missing_or_incomplete_language_file_is_named(tmp_path):
    (tmp_path / "xx").mkdir()
    with pytest.raises(languages.LanguageError, match="xx/language.toml: missing"):
        languages.load_language("xx", tmp_path)
    (tmp_path / "xx" / "language.toml").write_text('name = "X"\nvoice = "x"\n', encoding="utf-8")
    with pytest.raises(languages.LanguageError, match="babel_locale is missing"):
        languages.load_language("xx", tmp_path)
    assert languages.available(tmp_path) == ("xx",)
    assert languages.find_language("xx") is None        # not one of the package's languages


def test_the_locales_are_package_data():
    assert languages.LOCALES_DIR.parent == PACKAGE
    with PYPROJECT.open("rb") as fh:
        patterns = tomllib.load(fh)["tool"]["setuptools"]["package-data"]["voice_agent"]
    shipped = {Path(p) for pattern in patterns
               for p in glob.glob(str(PACKAGE / pattern), recursive=True)}
    files = {p for p in languages.LOCALES_DIR.rglob("*") if p.is_file()}
    assert files and files <= shipped, sorted(map(str, files - shipped))


def test_language_facts_come_from_the_file_and_settings_override(tmp_path):
    s = load_settings(env={}, cwd=tmp_path)
    assert (s.locale("en"), s.voice("es"), s.voice("ko")) == ("en_US", "es-419", "ko")
    assert s.locale("fr") == "fr" and s.voice("fr") == "fr"     # no language file: the code
    (tmp_path / "voice-agent.toml").write_text('[locales]\nes = "es_MX"\n', encoding="utf-8")
    s = load_settings(env={"VOICE_AGENT_VOICES__KO": "ko-x"}, cwd=tmp_path,
                      sets=["voices.en=en-gb"])
    assert (s.locale("es"), s.locale("en")) == ("es_MX", "en_US")
    assert (s.voice("en"), s.voice("ko"), s.voice("es")) == ("en-gb", "ko-x", "es-419")


def test_payment_option_words_per_language(tmp_path):
    s = load_settings(env={}, cwd=tmp_path)
    online = {"key": "online", "fee_cents": 0}
    assert s.payment_option_text(online, "es") == languages.load_language("es").payment_options["online"]
    assert s.payment_option_text(online, "fr") == languages.load_language("en").payment_options["online"]
    # An option a settings file adds with its own words (older files carry "text" for every way).
    kiosk = {"key": "kiosk", "fee_cents": 100, "text": {"en": "at a payment kiosk"}}
    assert s.payment_option_text(kiosk, "ko") == "at a payment kiosk"
    assert s.payment_option_text({"key": "cash", "fee_cents": 0}, "en") == "cash"
    own = {"key": "online", "fee_cents": 0, "text": {"ko": "웹사이트에서"}}
    assert s.payment_option_text(own, "ko") == "웹사이트에서"


def test_joined_words_finds_a_phrase_inside_the_words():
    table = {"card": ["카드"], "saved": ["저장된 카드"]}
    joined = languages.load_language("ko").joined_words
    assert joined and not languages.load_language("en").joined_words
    assert most_specific_choice("저장된카드로 할게요", table, joined) == "saved"
    assert most_specific_choice("저장된카드로 할게요", table, False) is None
    english = {"card": ["card"], "saved": ["saved card"]}
    assert most_specific_choice("the saved card", english, False) == "saved"
    assert most_specific_choice("thesavedcard", english, False) is None
