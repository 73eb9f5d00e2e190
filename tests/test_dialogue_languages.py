"""A call in Spanish or Korean says nothing in English: no agent turn holds the text of an
English prompt (the summary, the menu, a help line falling back to the default language).

`english_in(text)` is also used by the conversation runner, so every es/ko conversation file
(all flows of issues 4 and 5) is checked turn by turn; the whole call below goes through several
flows in one call, the way a caller strings requests together.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import pytest

from voice_agent.dialogue import Agent, CallerEvent
from voice_agent.dialogue.prompts import load_catalog
from voice_agent.settings import load_settings
from voice_agent.store import Store

FAST_HASH = {"password_hash": {"n": 16, "r": 1, "p": 1}}
# Pieces of English prompts shorter than this many words ("Visa", "$2.50") may be shared.
MIN_WORDS = 3


@lru_cache(maxsize=None)
def english_fragments() -> frozenset[str]:
    """The literal text of every English prompt, cut at its placeholders, in pieces long enough
    that finding one in another language's reply means an English prompt was said."""
    others = [" ".join(load_catalog(lang).values()) for lang in ("es", "ko")]
    pieces = set()
    for text in load_catalog("en").values():
        for piece in re.split(r"\{[^}]*\}", text):
            piece = " ".join(piece.split()).strip(" .,:;!?")
            if len(piece.split()) >= MIN_WORDS and not any(piece in other for other in others):
                pieces.add(piece)
    return frozenset(pieces)


def english_in(text: str) -> list[str]:
    """English prompt texts found in an agent's reply."""
    return sorted(piece for piece in english_fragments() if piece in text)


def check_not_english(turn, where: str) -> None:
    """A turn in another language than English holds no English prompt; the language menu
    (each option in its own language) is the one turn that may."""
    if turn.lang == "en" or turn.expecting == "language":
        return
    found = english_in(turn.say)
    assert not found, f"{where}: English in a {turn.lang} turn: {found}; agent said: {turn.say}"


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
def test_a_whole_call_has_no_english(lang, tmp_path):
    from voice_agent.nlu import Understander
    settings = load_settings(env={}, cli={"database": str(tmp_path / "c.db"), **FAST_HASH})
    store = Store.open(settings)
    try:
        store.install_demo()
        agent = Agent(settings, store, Understander(languages=("en", "es", "ko")))
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
    finally:
        store.close()
