"""Secrets said out of turn ("my pin is 7395" at the menu, or in words, in any language) never
reach the stored transcript: every 4+ digit sequence of a caller turn is masked before it is
stored (``voice_agent.redact.mask_caller_turn``, called by the dialogue)."""
from __future__ import annotations

import json
import sqlite3

import pytest

from voice_agent.redact import mask_caller_digits, mask_spoken_digits

from fault_helpers import voice_agent
from store_helpers import FAST_HASH_ARGS


@pytest.mark.parametrize("lang,said,stored", [
    ("en", "my pin is 7395", "my pin is ****"),
    ("en", "my pin is seven three nine five", "my pin is ****"),
    ("en", "my pin is 7395 and my social is eight two six four",
     "my pin is **** and my social is ****"),
    ("en", "card four one one one one one one one one one one one one one one one",
     "card ************1111"),
    ("en", "card 4111-1111-1111-1111 please", "card ************1111 please"),
    ("es", "mi pin es siete tres nueve cinco", "mi pin es ****"),
    ("es", "mi seguro social es ocho dos seis cuatro", "mi seguro social es ****"),
    ("ko", "비밀번호는 칠삼구오", "비밀번호는 ****"),
    ("ko", "비밀번호는 칠삼구오요", "비밀번호는 ****"),
])
def test_digit_sequences_are_masked_in_numerals_and_words(lang, said, stored):
    assert mask_spoken_digits(said, lang) == stored
    assert mask_caller_digits(said, lang) == stored


@pytest.mark.parametrize("lang,said", [
    ("en", "pay fifty dollars for two months"), ("en", "option 2 please"),
    ("en", "I want to pay my bill"), ("es", "quiero pagar doscientos dólares"),
    ("ko", "이십팔달러 내고 싶어요"), ("en", "************1111"),
])
def test_short_numbers_and_masked_text_are_kept(lang, said):
    assert mask_caller_digits(said, lang) == said


@pytest.mark.parametrize("lang,said,secret", [
    ("en", "my pin is seven three nine five", "7395"),
    ("es", "mi pin es siete tres nueve cinco", "7395"),
    ("ko", "비밀번호는 칠삼구오", "칠삼구오"),
    ("ko", "비밀번호는 7395", "7395"),
])
def test_chat_stores_no_secret_said_at_the_menu(tmp_path, lang, said, secret):
    db = tmp_path / "agent.db"
    assert voice_agent("db", "init", "--demo", "--db", str(db), *FAST_HASH_ARGS).returncode == 0
    proc = voice_agent("chat", "--db", str(db), "--lang", lang, *FAST_HASH_ARGS, stdin=said + "\n")
    assert proc.returncode == 0, proc.stderr
    conn = sqlite3.connect(str(db))
    turns = [r[0] for r in conn.execute("SELECT text FROM turns WHERE speaker = 'caller'")]
    conn.close()
    assert turns and not any(secret in t or "7395" in t for t in turns), turns
    assert any("*" in t for t in turns), turns           # masked before it was stored
    shown = voice_agent("calls", "show", "1", "--json", "--db", str(db))
    assert secret not in shown.stdout and "7395" not in shown.stdout
    assert json.loads(shown.stdout)["turns"]


def test_last_four_kept_by_the_dialogue_mask_stay():
    said = "they charged my card **** **** **** 1111 twice"
    assert mask_caller_digits(said, "en") == said
    assert mask_caller_digits("my pin is 7395 **** 1234", "en") == "my pin is **** **** 1234"
