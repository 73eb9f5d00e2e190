"""What a typed line is in `voice-agent chat`: keypad keys, words or silence (issue 12: a line
of only keypad characters is keypad input, as `dtmf:` is)."""
from __future__ import annotations

import argparse
import io
import json
import shutil

import pytest

import voice_agent.nlu
from voice_agent.cli.chat_cmds import parse_line, run_chat
from voice_agent.dialogue import CallerEvent

from store_helpers import make_settings


@pytest.mark.parametrize("line, keys", [
    ("1\n", "1"), ("3", "3"), ("4321#\n", "4321#"), ("*", "*"), (" 100 200 300# \n", "100200300#"),
    ("dtmf:1", "1"), ("DTMF: 4321 #", "4321#"), ("dtmf:a", "A"),
])
def test_keypad_lines(line, keys):
    assert parse_line(line) == CallerEvent(dtmf=keys)


@pytest.mark.parametrize("line, text", [
    ("one\n", "one"), ("pay $50", "pay $50"), ("a", "a"), ("1st of the month", "1st of the month"),
    ("50 dollars", "50 dollars"), ("4321 is my pin", "4321 is my pin"), ("1.", "1."),
])
def test_spoken_lines(line, text):
    assert parse_line(line) == CallerEvent(text=text)


def test_blank_line_is_silence_and_bad_keypad_line_is_refused():
    assert parse_line("   \n") == CallerEvent()
    with pytest.raises(ValueError):
        parse_line("dtmf:12x")


@pytest.fixture
def chat(demo_template, nlu, tmp_path, monkeypatch):
    """Run a scripted chat in this process on a copy of the demo database; its JSON turns."""
    for f in demo_template.iterdir():
        shutil.copy(f, tmp_path / f.name)
    monkeypatch.setattr(voice_agent.nlu, "Understander", lambda languages=None, **kw: nlu)
    settings = make_settings(tmp_path)

    def run(lines: list[str], lang: str | None = None) -> list[dict]:
        args = argparse.Namespace(lang=lang, caller_id=None, today=None, json=True)
        out = io.StringIO()
        assert run_chat(args, settings, stdin=io.StringIO("\n".join(lines) + "\n"),
                        stdout=out) == 0
        return [json.loads(line) for line in out.getvalue().splitlines()]
    return run


def test_a_typed_digit_at_the_language_menu_chooses_a_language(chat):
    turns = chat(["2"])
    assert turns[1]["lang"] == "es" and turns[1]["state"] == "menu.intent", turns[1]
    turns = chat(["1"])
    assert turns[1]["lang"] == "en" and turns[1]["state"] == "menu.intent", turns[1]


def test_typed_keys_verify_and_pick_menu_options(chat):
    turns = chat(["1", "100200300#", "4321#"], lang="en")
    assert turns[1]["expecting"] == "account_number"      # menu key 1: balance
    assert turns[3]["expecting"] == "confirm" and "$84.20" in turns[3]["say"]
