"""Extra locale files (prompts_*.toml, choices_*.toml) merge into one catalog; a key or list
defined twice is an error, never a silent override."""
import pytest

from voice_agent.dialogue.prompts import PromptError, load_catalog
from voice_agent.nlu.choices import load_choices
from voice_agent.nlu.locale import LocaleError


def test_prompt_files_merge_and_clash(tmp_path):
    lang = tmp_path / "xx"
    lang.mkdir()
    (lang / "prompts.toml").write_text('a = "one"\n', encoding="utf-8")
    (lang / "prompts_b.toml").write_text('b = "two"\n', encoding="utf-8")
    assert load_catalog("xx", tmp_path) == {"a": "one", "b": "two"}
    (lang / "prompts_c.toml").write_text('a = "changed"\n', encoding="utf-8")
    with pytest.raises(PromptError, match="'a'.*prompts_c.toml"):
        load_catalog("xx", tmp_path)


def test_choice_files_merge_and_clash(tmp_path):
    (tmp_path / "choices.toml").write_text('[colour]\nred = ["red"]\n', encoding="utf-8")
    (tmp_path / "choices_extra.toml").write_text('[size]\nbig = ["big", "large"]\n',
                                                 encoding="utf-8")
    assert load_choices(tmp_path, "colour") == {"red": ["red"]}
    assert load_choices(tmp_path, "size") == {"big": ["big", "large"]}
    assert load_choices(tmp_path, "missing") == {}
    (tmp_path / "choices_more.toml").write_text('[colour]\nblue = ["blue"]\n', encoding="utf-8")
    with pytest.raises(LocaleError, match=r"\[colour\]"):
        load_choices(tmp_path, "colour")


def test_a_stray_table_in_a_prompt_file_is_an_error(tmp_path):
    # Keys below a [table] header would silently leave the catalog (and be said in English).
    lang = tmp_path / "xx"
    lang.mkdir()
    (lang / "prompts.toml").write_text('a = "one"\n[oops]\nb = "two"\n', encoding="utf-8")
    with pytest.raises(PromptError, match="'oops'"):
        load_catalog("xx", tmp_path)
