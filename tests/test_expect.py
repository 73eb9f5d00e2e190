"""One table of expected answers (voice_agent/expect.py): every stage reads the same record, so
what a step expects cannot drift between the dialogue, the grammar, the keypad, the end-of-speech
wait and the masking of what the caller said."""
from __future__ import annotations

import pytest

from voice_agent.dialogue.flows import default_registry
from voice_agent.dialogue.keypad import entry_complete
from voice_agent.expect import EXPECTATIONS, EXPECTING, expectation, kind_of
from voice_agent.nlu.models import KINDS, kind_for
from voice_agent.redact import REDACTED, redact_entry
from voice_agent.settings import load_settings
from voice_agent.voice.endpoint import end_silence_for

# The `expecting` values of the `chat --json` contract (issue 4, plus callback_window of issue 5).
CONTRACT = ("language", "intent", "account_number", "pin", "zip", "ssn_last4", "amount",
            "payment_method", "card_number", "card_expiry", "routing_number",
            "bank_account_number", "confirm", "date", "installments", "charge", "dispute_reason",
            "phone_number", "none", "callback_window")
CARD = "4111 1111 1111 1111"


def test_the_contract_is_exactly_the_table():
    assert EXPECTING == CONTRACT


def test_every_flow_step_expects_a_known_answer_and_derives_from_the_table():
    steps = [(flow.name, name, step) for flow in default_registry().flows.values()
             for name, step in flow.steps.items()]
    assert len(steps) > 20
    for flow, name, step in steps:
        assert step.expecting in EXPECTATIONS, f"{flow}.{name}: {step.expecting!r}"
        record = EXPECTATIONS[step.expecting]
        assert step.kind == record.kind and step.redact == record.is_secret


@pytest.mark.parametrize("name", CONTRACT)
def test_every_reader_agrees_with_the_record(name):
    record = expectation(name)
    audio = load_settings(env={}, sets=["audio.end_silence_short_ms=300"])["audio"]
    assert record.kind is None or record.kind in KINDS
    assert kind_for(name) == kind_of(name) == record.kind                  # NLU and grammar
    assert end_silence_for(audio, name) == (300 if record.short else audio["end_silence_ms"])
    assert entry_complete(name, "1") == record.one_key                     # keypad
    shown = redact_entry(CARD, name)                                        # captions, transcripts
    expected = {"none": "**** **** **** 1111", "whole": REDACTED, "last4": "************1111"}[record.secret]
    assert shown == expected


def test_secrets_and_short_answers_are_the_ones_callers_expect():
    secret = {n for n, e in EXPECTATIONS.items() if e.is_secret}
    assert secret == {"pin", "ssn_last4", "card_number", "card_expiry", "routing_number",
                      "bank_account_number"}
    short = {n for n, e in EXPECTATIONS.items() if e.short}
    assert short == {"confirm", "language", "payment_method", "installments", "callback_window"}
    assert expectation("something_new").kind is None and not expectation("x").one_key
