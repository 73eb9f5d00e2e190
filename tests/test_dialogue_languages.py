"""A call in Spanish or Korean says nothing in English: no agent turn holds the text of an
English prompt (the summary, the menu, a help line falling back to the default language).

The check (`check_not_english`, in conversation.py) is also used by the conversation runner, so
every es/ko conversation file (all flows of issues 4 and 5) is checked turn by turn; the whole
call below goes through several flows in one call, the way a caller strings requests together.
"""
from __future__ import annotations

import datetime as dt

import pytest

from voice_agent.dialogue import CallerEvent

from conversation import check_not_english, english_fragments, english_in


def test_the_check_finds_english():
    assert "Before you go, here is what we did today" in english_fragments()
    assert english_in("통화를 마치기 전에. Before you go, here is what we did today: 납부")
    assert not english_in("통화를 마치기 전에, 오늘 처리한 내용을 알려 드리겠습니다.")


# One call, many requests: balance, explain and dispute, payment options, help, a payment,
# a callback, scheduled payments, then goodbye with the summary of what was done.
CALLS = {
    "es": ("200300400", "2468", "ayuda"),
    "ko": ("300400500", "8642", "도움말"),
}


def script(account: str, pin: str, help_word: str) -> list[CallerEvent]:
    keys = ["1", f"{account}#", f"{pin}#", "2",            # balance, verified, no payment now
            "3", "1", "3", "2", "1",                         # explain, dispute charge 3: amount
            "8"]                                             # other ways to pay
    after = ["2", "2", "1", "4111111111111111#", "1229#", "1", "2",   # pay the past-due amount
             "0", "1", "1", "2",                             # callback to the caller ID, afternoon
             "4", "2",                                       # scheduled payments: none, no new
             "9"]                                            # goodbye
    return ([CallerEvent(dtmf=k) for k in keys] + [CallerEvent(text=help_word)]
            + [CallerEvent(dtmf=k) for k in after])


@pytest.mark.parametrize("lang", sorted(CALLS))
def test_a_whole_call_has_no_english(lang, demo_agent):
    agent, _ = demo_agent()
    account, pin, help_word = CALLS[lang]
    session, turn = agent.start(lang=lang, caller_id="+18035550177",
                                today=dt.date(2026, 11, 25))
    check_not_english(turn, "greeting")
    states = []
    for number, event in enumerate(script(account, pin, help_word), start=1):
        turn = agent.step(session, event)
        states.append(turn.state)
        assert turn.lang == lang
        check_not_english(turn, f"turn {number} ({turn.state})")
    assert turn.ended and turn.outcome == "paid"
    # The call went where the script says: these flows were all spoken in the language.
    for state in ("balance.offer_pay", "dispute.confirm", "payment.confirm",
                  "callback.window", "schedule.new_offer"):
        assert state in states, f"{state} not reached: {states}"
    keys = [r.key for r in turn.replies]
    assert keys[:1] == ["summary_intro"] and keys[-1] == "goodbye"
    assert "summary_dispute" in keys and "summary_callback" in keys
