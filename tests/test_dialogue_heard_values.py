"""Results travel with their data: a value recognition parsed reaches the dialogue in the caller
event and is not parsed again; the words of a turn are understood once, even on a money step.

A counting Understander (the real one) shows how often the dialogue understands and parses.
"""
from __future__ import annotations

import pytest

from voice_agent.dialogue import Agent, CallerEvent
from voice_agent.nlu import Understander
from voice_agent.settings import load_settings
from voice_agent.store import Store
from voice_agent.voice.asr import AsrResult
from voice_agent.voice.pipeline import Heard

FAST_HASH = {"password_hash": {"n": 16, "r": 1, "p": 1}}


class CountingNLU(Understander):
    """The real NLU, counting whole understandings and value parses (every parse goes through
    `_parse`, whoever asks: `understand` or `parse_value`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.understood: list[tuple[str, str | None]] = []
        self.parsed: list[tuple[str, tuple[str, ...]]] = []

    def understand(self, text, lang, expect=None, today=None, **heard):
        self.understood.append((text, expect))
        return super().understand(text, lang, expect, today, **heard)

    def _parse(self, kind, words, ld, today):
        self.parsed.append((kind, tuple(words)))
        return super()._parse(kind, words, ld, today)

    def reset(self) -> None:
        self.understood.clear()
        self.parsed.clear()


@pytest.fixture(scope="module")
def nlu():
    return CountingNLU(languages=("en", "es", "ko"))


@pytest.fixture
def agent(tmp_path, nlu):
    settings = load_settings(env={}, cli={"database": str(tmp_path / "heard.db"), **FAST_HASH})
    store = Store.open(settings)
    store.install_demo()
    yield Agent(settings, store, nlu)
    store.close()


def at_amount(agent):
    session, _ = agent.start(lang="en")
    for event in (CallerEvent(text="pay my bill"), CallerEvent(dtmf="100200300#"),
                  CallerEvent(dtmf="4321#")):
        turn = agent.step(session, event)
    assert turn.expecting == "amount"
    agent.nlu.reset()
    return session


def at_confirm(agent):
    session = at_amount(agent)
    for keys in ("3", "2500#", "1", "4111111111111111#", "1229#"):
        turn = agent.step(session, CallerEvent(dtmf=keys))
    assert turn.expecting == "confirm" and "$25.00" in turn.say
    agent.nlu.reset()
    return session


def heard(text, value, kind, lang="en", confidence=0.95):
    """The event a voiced turn gives the dialogue (through pipeline.Heard, as a call does)."""
    result = AsrResult(text, confidence, "accept", value=value, kind=kind, lang=lang)
    return Heard(text=text, asr=result).event()


def test_the_heard_event_carries_what_recognition_found():
    event = heard("fifty dollars", 5000, "amount", confidence=0.91)
    assert (event.text, event.value, event.kind, event.lang, event.confidence) == \
        ("fifty dollars", 5000, "amount", "en", 0.91)
    typed = CallerEvent(text="fifty dollars")
    assert typed.kind is None and typed.value_of("amount", "en") == (False, None)
    assert Heard(dtmf="12#").event() == CallerEvent(dtmf="12#")


def test_typed_words_are_understood_and_parsed_once(agent):
    session = at_amount(agent)
    turn = agent.step(session, CallerEvent(text="fifty dollars"))
    assert turn.expecting == "payment_method" and session.slots["amount"] == 5000
    assert agent.nlu.understood == [("fifty dollars", "amount")]
    assert [kind for kind, _ in agent.nlu.parsed] == ["amount"]


def test_a_carried_value_is_used_and_not_parsed_again(agent):
    session = at_amount(agent)
    # Recognition's value is the one taken (here deliberately not what the words say).
    turn = agent.step(session, heard("fifty dollars", 6000, "amount"))
    assert turn.expecting == "payment_method" and session.slots["amount"] == 6000
    assert len(agent.nlu.understood) == 1 and agent.nlu.parsed == []


def test_a_carried_none_means_nothing_of_that_kind_was_said(agent):
    session = at_amount(agent)
    turn = agent.step(session, heard("fifty dollars", None, "amount"))
    assert turn.expecting == "amount" and "amount" not in session.slots
    assert agent.nlu.parsed == []


@pytest.mark.parametrize("kind, lang", [("digits", "en"), ("amount", "es"), (None, "en")])
def test_a_carried_value_of_another_kind_or_language_is_ignored(agent, kind, lang):
    session = at_amount(agent)
    turn = agent.step(session, heard("fifty dollars", 6000, kind, lang))
    assert turn.expecting == "payment_method" and session.slots["amount"] == 5000
    assert [k for k, _ in agent.nlu.parsed] == ["amount"]


def test_a_yes_on_the_money_step_is_understood_once(agent):
    session = at_confirm(agent)
    turn = agent.step(session, CallerEvent(text="yes"))
    assert "accepted" in turn.say and session.payments
    assert agent.nlu.understood == [("yes", "yes_no")]
    assert [kind for kind, _ in agent.nlu.parsed] == ["yes_no"]


def test_a_heard_yes_on_the_money_step_is_not_parsed_at_all(agent):
    session = at_confirm(agent)
    turn = agent.step(session, heard("yes", "yes", "yes_no"))
    assert "accepted" in turn.say and session.payments
    assert len(agent.nlu.understood) == 1 and agent.nlu.parsed == []


def test_a_yes_that_plainly_means_cancel_still_moves_no_money(agent):
    session = at_confirm(agent)
    turn = agent.step(session, heard("yes cancel that", "yes", "yes_no"))
    assert not session.payments and turn.expecting == "intent"
    assert len(agent.nlu.understood) == 1 and agent.nlu.parsed == []


def test_an_unsure_no_on_the_money_step_is_understood_once(agent):
    session = at_confirm(agent)
    turn = agent.step(session, heard("no", "no", "yes_no", confidence=0.7))
    assert turn.expecting == "confirm" and not session.payments     # "just to be sure ..."
    assert len(agent.nlu.understood) == 1 and agent.nlu.parsed == []


def test_a_flow_asking_for_the_steps_kind_gets_the_understood_value(nlu):
    """Picking "item number 2" at a step that asked for a number uses the number understood for
    the step; at a step that asked for something else it is parsed then, once."""
    from types import SimpleNamespace

    from voice_agent.dialogue.flow import Ctx, Input
    from voice_agent.dialogue.flows.picking import pick_index
    ctx = Ctx(SimpleNamespace(nlu=nlu), SimpleNamespace(lang="en", today=None))
    nlu.reset()
    understood = Input(text="item number 2", dtmf=None, intent=None, value=2, confidence=1.0,
                       kind="number")
    assert pick_index(ctx, understood, 3) == 1
    assert "number" not in [kind for kind, _ in nlu.parsed]
    other = Input(text="item number 2", dtmf=None, intent=None, value=None, confidence=1.0)
    assert pick_index(ctx, other, 3) == 1
    assert [kind for kind, _ in nlu.parsed].count("number") == 1
