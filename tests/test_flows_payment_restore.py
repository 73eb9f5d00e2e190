"""A payment that restores a suspended account says when service comes back
(settings["restore_within_hours"], as the restore flow does), and the service ticket is in the
end-of-call summary, in every language."""
from __future__ import annotations

import pytest

from voice_agent.dialogue import CallerEvent
from voice_agent.dialogue.events import Reply

HOURS_SAID = {"en": "within 6 hours", "es": "plazo de 6 horas", "ko": "6시간 안에"}


@pytest.mark.parametrize("lang", sorted(HOURS_SAID))
def test_restoring_payment_says_when_service_is_back(lang, demo_agent):
    agent, store = demo_agent(restore_within_hours=6)
    session, turn = agent.start(lang=lang)
    # Min-jun's account is suspended; pay the past-due amount (key 2) by card.
    for keys in ("2", "300400500#", "8642#", "2", "1", "4111111111111111#", "1229#"):
        if turn.state == "verify.language_offer":        # Korean offered: keep the call's
            turn = agent.step(session, CallerEvent(dtmf="2"))
        turn = agent.step(session, CallerEvent(dtmf=keys))
    assert turn.state == "payment.confirm", turn.say
    turn = agent.step(session, CallerEvent(dtmf="1"))
    restored = [r for r in turn.replies if r.key == "pay_restored"]
    assert restored and restored[0].params == {"hours": 6}
    assert HOURS_SAID[lang] in turn.say
    assert agent.prompts.render_one(lang, Reply("pay_restored", {"hours": 6})) in turn.say
    assert store.account("300400500").status == "active"
    agent.step(session, CallerEvent(dtmf="2"))               # no need to repeat the code
    turn = agent.step(session, CallerEvent(dtmf="9"))        # goodbye
    keys = [r.key for r in turn.replies]
    assert keys[:3] == ["summary_intro", "summary_payment", "summary_ticket"], keys
