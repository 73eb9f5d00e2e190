"""Consent over the phone: a yes that moves money must be explicit. A bare yes/no heard in the
confirm band (below "accept", at or above "confirm"; real 8 kHz "네" came in at 0.70-0.83) gets
one "just to be sure" question, and a second yes/no in the band (or key 1/2) is then taken.
Below the confirm band nothing is ever taken, and other words in the band are not consent."""
from __future__ import annotations

import pytest

from voice_agent.dialogue import Agent, CallerEvent

YES = {"en": "yes", "es": "sí", "ko": "네"}
NO = {"en": "no", "es": "no", "ko": "아니요"}
TOTAL = {"en": "$86.70", "es": "86.70", "ko": "86.70"}


def at_confirm(agent: Agent, lang: str = "en"):
    """Jane's full balance ($84.20 + $2.50 fee) by card, at the read-back."""
    session, turn = agent.start(lang=lang)
    for keys in ("2", "100200300#", "4321#", "1", "1", "4111111111111111#", "1229#"):
        if turn.state == "verify.language_offer":
            turn = agent.step(session, CallerEvent(dtmf="2"))
        turn = agent.step(session, CallerEvent(dtmf=keys))
    assert turn.state == "payment.confirm", turn.say
    return session


def paid(agent: Agent) -> int:
    return len(agent.store.payments(account="100200300"))


def say(agent, session, text, confidence=None):
    return agent.step(session, CallerEvent(text=text, confidence=confidence))


@pytest.mark.parametrize("lang", ["en", "es", "ko"])
def test_a_second_yes_in_the_confirm_band_pays(agent, lang):
    session = at_confirm(agent, lang)
    turn = say(agent, session, YES[lang], 0.78)
    assert [r.key for r in turn.replies] == ["pay_confirm_recheck"]
    assert TOTAL[lang] in turn.say and turn.state == "payment.confirm"
    assert turn.expecting == "confirm" and paid(agent) == 0
    turn = say(agent, session, YES[lang], 0.74)
    assert paid(agent) == 1 and "pay_done" in [r.key for r in turn.replies]


def test_key_1_after_the_recheck_pays(agent):
    session = at_confirm(agent)
    say(agent, session, "yes", 0.8)
    agent.step(session, CallerEvent(dtmf="1"))
    assert paid(agent) == 1


def test_a_no_in_the_band_after_the_recheck_submits_nothing(agent):
    session = at_confirm(agent)
    say(agent, session, "yes", 0.8)
    turn = say(agent, session, "no", 0.8)
    assert paid(agent) == 0 and "pay_not_submitted" in [r.key for r in turn.replies]


def test_a_yes_below_the_confirm_band_is_never_taken(agent):
    session = at_confirm(agent)
    for _ in range(2):
        turn = say(agent, session, "yes", 0.45)
        assert "pay_confirm_recheck" not in [r.key for r in turn.replies]
    assert paid(agent) == 0


def test_the_recheck_is_answered_by_the_next_turn_only(agent):
    session = at_confirm(agent)
    say(agent, session, "yes", 0.8)
    agent.step(session, CallerEvent())                      # silence in between
    turn = say(agent, session, "yes", 0.8)                  # asked again, not taken
    assert [r.key for r in turn.replies] == ["pay_confirm_recheck"] and paid(agent) == 0
    say(agent, session, "yes", 0.8)
    assert paid(agent) == 1


def test_other_words_in_the_band_are_not_consent(agent):
    session = at_confirm(agent)
    turn = say(agent, session, "yes", 0.8)
    turn = say(agent, session, "pay it with the other card", 0.8)
    assert paid(agent) == 0 and "pay_confirm_recheck" not in [r.key for r in turn.replies]
    turn = say(agent, session, "yes", 0.8)                  # a fresh bare yes: asked again
    assert [r.key for r in turn.replies] == ["pay_confirm_recheck"] and paid(agent) == 0


def test_a_confident_yes_pays_at_once(agent):
    session = at_confirm(agent)
    say(agent, session, "yes", 0.92)
    assert paid(agent) == 1


def test_other_strict_steps_recheck_with_the_generic_question(agent):
    # Scheduling money is strict too: the same rule, with its own question.
    session, _ = agent.start(lang="en")
    for event in (CallerEvent(text="schedule a payment of fifty dollars for friday"),
                  CallerEvent(dtmf="100200300#"), CallerEvent(dtmf="4321#"),
                  CallerEvent(text="yes"), CallerEvent(dtmf="3")):
        turn = agent.step(session, event)
    assert turn.state == "schedule.confirm", turn.say
    turn = say(agent, session, "yes", 0.8)
    assert [r.key for r in turn.replies] == ["confirm_recheck"]
    say(agent, session, "yes", 0.8)
    assert len(agent.store.scheduled_payments("100200300")) == 1
