"""Keypad rules are defined once, per `expecting` value (dialogue/keypad.py), and the voice
front end follows them: one key answers a menu, a yes/no or a numbered pick; numbers end with
"#" (or a pause); "*" ends any entry and clears it (the question is asked again)."""
from __future__ import annotations

import pytest

from voice_agent.dialogue import EXPECTING
from voice_agent.dialogue.keypad import entry_complete, keypad_rule, one_key_expectations
from voice_agent.expect import EXPECTATIONS
from voice_agent.settings import load_settings
from voice_agent.voice import dtmf
from voice_agent.voice.audio import silence
from voice_agent.voice.turns import TurnLoop

PICKS = {"language", "intent", "payment_method", "confirm", "callback_window", "charge",
         "dispute_reason", "installments"}
NUMBERS = {"account_number", "pin", "zip", "ssn_last4", "amount", "card_number", "card_expiry",
           "routing_number", "bank_account_number", "date", "phone_number"}


def test_every_expecting_value_has_a_rule():
    assert set(EXPECTATIONS) == set(EXPECTING)
    assert all(keypad_rule(name) is EXPECTATIONS[name] for name in EXPECTING)


def test_which_entries_are_one_key():
    assert PICKS <= one_key_expectations()
    assert not NUMBERS & one_key_expectations()


@pytest.mark.parametrize("expecting", sorted(PICKS))
def test_one_key_answers_a_pick(expecting):
    assert entry_complete(expecting, "2")
    assert not entry_complete(expecting, "")


@pytest.mark.parametrize("expecting", sorted(NUMBERS))
def test_numbers_end_with_hash_star_pause_or_length(expecting):
    assert not entry_complete(expecting, "4111")
    assert entry_complete(expecting, "4111#")
    assert entry_complete(expecting, "41*")                      # cancel, at once
    assert entry_complete(expecting, "4111", paused_s=3.0)
    assert not entry_complete(expecting, "4111", paused_s=1.0)
    assert entry_complete(expecting, "4" * keypad_rule(expecting).max_keys)


def test_unknown_expecting_is_keyed_like_a_number():
    assert not keypad_rule("something_new").one_key


def chunks(pcm: bytes, size: int = 960):
    return [pcm[i:i + size] for i in range(0, len(pcm), size)]


@pytest.mark.parametrize("expecting", ["charge", "dispute_reason", "installments",
                                       "callback_window"])
def test_the_voice_listener_ends_a_pick_on_one_key(expecting):
    # These picks used to wait for "#" or the pause in the voice pipeline.
    lis = TurnLoop(load_settings(env={})["audio"], 16000, key_pause_s=5.0)
    lis.start(expecting)
    got = [r for c in chunks(dtmf.generate("2", 16000) + silence(0.3, 16000)) if (r := lis.feed(c))]
    assert got and got[0].keys == "2"


def test_the_voice_listener_waits_for_hash_on_a_number():
    lis = TurnLoop(load_settings(env={})["audio"], 16000, key_pause_s=5.0)
    lis.start("card_number")
    got = [r for c in chunks(dtmf.generate("41", 16000) + silence(0.3, 16000)) if (r := lis.feed(c))]
    assert not got
    got = [r for c in chunks(dtmf.generate("1#", 16000)) if (r := lis.feed(c))]
    assert got[0].keys == "411#"
