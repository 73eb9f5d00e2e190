"""Conversation tests as data: tests/conversations/<lang>/*.toml, run through the real NLU and store.

A file holds one or more calls on one fresh demo database (later calls see what earlier ones did,
as a lockout needs). Each call lists caller turns (`caller` text with an optional `confidence`,
`dtmf` keys, or `silence = true`) and, per turn, what the agent must do next: `expecting`,
`lang`, `state`, `ended`, substrings the reply must (`hear`) or must not (`not_hear`) contain.
After the call: `outcome`, and for `account`, `payments` (how many), `status`, `past_due_cents`.
A turn in Spanish or Korean must hold no English prompt text (test_dialogue_languages).
Every call is also checked for secrets: what the caller said while a PIN, SSN, card or bank
number was expected never appears in the stored transcript.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from test_dialogue_languages import check_not_english

from voice_agent.dialogue import EXPECTING, Agent, CallerEvent
from voice_agent.settings import load_settings
from voice_agent.store import Store

HERE = Path(__file__).parent / "conversations"
FILES = sorted(HERE.glob("*/*.toml"))
SECRET_EXPECTING = {"pin", "ssn_last4", "card_number", "card_expiry", "routing_number",
                    "bank_account_number"}


@pytest.fixture(scope="module")
def nlu():
    from voice_agent.nlu import Understander
    return Understander(languages=("en", "es", "ko"))


def event_of(turn: dict) -> CallerEvent:
    if turn.get("silence"):
        return CallerEvent()
    if "dtmf" in turn:
        return CallerEvent(dtmf=turn["dtmf"])
    return CallerEvent(text=turn["caller"], confidence=turn.get("confidence"))


def check_turn(where: str, reply, want: dict) -> None:
    said = reply.say.lower()
    for key in ("expecting", "lang", "state", "ended"):
        if key in want:
            assert getattr(reply, key) == want[key], f"{where}: {key} is {getattr(reply, key)!r}" \
                                                     f" not {want[key]!r}; agent said: {reply.say}"
    for text in want.get("hear", []):
        assert text.lower() in said, f"{where}: expected {text!r} in: {reply.say}"
    for text in want.get("not_hear", []):
        assert text.lower() not in said, f"{where}: did not expect {text!r} in: {reply.say}"


def run_call(agent: Agent, store: Store, call: dict, where: str) -> None:
    session, reply = agent.start(lang=call.get("lang"), caller_id=call.get("caller_id"))
    check_turn(f"{where} greeting", reply, call.get("greeting", {}))
    secrets = []
    for number, turn in enumerate(call["turn"], start=1):
        assert not reply.ended, f"{where}: the call ended before turn {number}"
        if reply.expecting in SECRET_EXPECTING and not turn.get("silence"):
            secrets.append(turn.get("caller") or turn.get("dtmf"))
        reply = agent.step(session, event_of(turn))
        assert reply.expecting in EXPECTING, f"{where}: {reply.expecting!r} is not in the contract"
        check_turn(f"{where} turn {number} ({turn.get('caller') or turn.get('dtmf') or 'silence'})",
                   reply, turn)
        check_not_english(reply, f"{where} turn {number}")
    if not reply.ended:
        agent.hangup(session)
    if "outcome" in call:
        assert session.outcome == call["outcome"], f"{where}: outcome {session.outcome!r}"
    record = store.call(session.call_id)
    assert record["outcome"] == session.outcome
    transcript = " ".join(t["text"] for t in record["turns"])
    for secret in secrets:
        digits = "".join(ch for ch in secret if ch.isdigit())
        assert secret not in transcript and (len(digits) < 4 or digits not in transcript), \
            f"{where}: a secret reached the transcript"
    account_number = call.get("account")
    if account_number:
        account = store.account(account_number)
        if "payments" in call:
            paid = store.payments(account=account_number)
            assert len(paid) == call["payments"], f"{where}: {len(paid)} payments"
        if "status" in call:
            assert account.status == call["status"], f"{where}: status {account.status}"
        if "past_due_cents" in call:
            assert account.past_due_cents == call["past_due_cents"]


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_conversation(path: Path, tmp_path, nlu):
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    overrides = spec.get("settings", {})
    settings = load_settings(env={}, cli={"database": str(tmp_path / "conv.db"), **overrides})
    store = Store.open(settings)
    try:
        store.install_demo()
        agent = Agent(settings, store, nlu)
        for index, call in enumerate(spec["call"], start=1):
            run_call(agent, store, call, f"{path.parent.name}/{path.stem} call {index}")
    finally:
        store.close()


def test_every_language_has_every_scenario():
    names = {lang.name: {p.stem for p in lang.glob("*.toml")} for lang in HERE.iterdir()
             if lang.is_dir()}
    required = {"card_payment", "bank_payment", "suspended_restored", "wrong_pin_three_times",
                "lockout", "unsure_read_back", "no_input_escalation", "change_language",
                "keypad_only"}
    for lang in ("en", "es", "ko"):
        assert required <= names.get(lang, set()), f"{lang}: missing {required - names[lang]}"
