"""Conversation tests as data: tests/conversations/<lang>/*.toml, run through the real NLU and store
by the runner in conversation.py (which describes the file format).

A turn in Spanish or Korean must hold no English prompt text (test_dialogue_languages).
Every call is also checked for secrets: what the caller said while a PIN, SSN, card or bank
number was expected never appears in the stored transcript.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conversation import CONVERSATIONS, conversation_files, file_id, run_file

FILES = conversation_files(CONVERSATIONS)


@pytest.mark.parametrize("path", FILES, ids=[file_id(p) for p in FILES])
def test_conversation(path: Path, tmp_path, nlu):
    run_file(path, tmp_path, nlu)


def test_every_language_has_every_scenario():
    names = {lang.name: {p.stem for p in lang.glob("*.toml")} for lang in CONVERSATIONS.iterdir()
             if lang.is_dir()}
    required = {"card_payment", "bank_payment", "suspended_restored", "wrong_pin_three_times",
                "lockout", "unsure_read_back", "no_input_escalation", "change_language",
                "keypad_only"}
    for lang in ("en", "es", "ko"):
        assert required <= names.get(lang, set()), f"{lang}: missing {required - names[lang]}"
