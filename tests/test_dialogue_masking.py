"""Caller turns reach the call record with long digit runs masked, at every step: a card number
blurted at the main menu or in a dispute reason keeps at most its last four digits."""
from __future__ import annotations

import pytest

from voice_agent.dialogue import Agent, CallerEvent
from voice_agent.redact import mask_digit_runs

CARD = "4111111111111111"


@pytest.mark.parametrize("said, stored", [
    ("my card is 4111 1111 1111 1111 ok", "my card is **** **** **** 1111 ok"),
    (f"dtmf:{CARD}#", "dtmf:************1111#"),
    ("4111-1111-1111-1111", "****-****-****-1111"),
    ("my pin is 1234", "my pin is ****"),           # a run of four: nothing kept
    ("call me at 803.555.0100", "call me at ***.***.****"),   # under 12 digits: nothing kept
    ("pay 50 dollars on the 12th", "pay 50 dollars on the 12th"),   # short numbers stay
    ("charged 123 twice", "charged 123 twice"),
    ("no digits at all", "no digits at all"),
])
def test_mask_digit_runs(said, stored):
    assert mask_digit_runs(said) == stored


def stored_caller_turns(agent: Agent, session) -> str:
    record = agent.store.call(session.call_id)
    return " | ".join(t["text"] for t in record["turns"] if t["speaker"] == "caller")


def test_a_card_number_blurted_at_the_menu_keeps_only_its_last_four(agent):
    session, _ = agent.start(lang="en")
    agent.step(session, CallerEvent(text=f"pay my bill with card {CARD}"))
    agent.step(session, CallerEvent(dtmf=f"{CARD}#"))       # keyed where an account is asked
    agent.hangup(session)
    stored = stored_caller_turns(agent, session)
    assert CARD not in stored and "41111111" not in stored
    assert "card ************1111" in stored and "dtmf:************1111#" in stored


def test_a_dispute_reason_keeps_words_and_masks_numbers(agent):
    session, _ = agent.start(lang="en")
    for event in (CallerEvent(text="dispute a charge"), CallerEvent(dtmf="100200300#"),
                  CallerEvent(dtmf="4321#"), CallerEvent(dtmf="1")):
        turn = agent.step(session, event)
    assert turn.expecting == "dispute_reason", turn.say
    agent.step(session, CallerEvent(text="they charged my card 4111 1111 1111 1111 twice"))
    agent.hangup(session)
    stored = stored_caller_turns(agent, session)
    assert "they charged my card **** **** **** 1111 twice" in stored
    assert "4111 1111" not in stored


@pytest.mark.parametrize("said, stored", [
    ("my card is four one one one one one one one one one one one one one one one",
     "my card is * * * * * * * * * * * * one one one one"),
    ("사 일 일 일 일 일 일 일 일 일 일 일 일 일 일 일", "* * * * * * * * * * * * 일 일 일 일"),
    ("my pin is four three two one.", "my pin is * * * *"),
    ("i want one more thing and two bills", "i want one more thing and two bills"),
    ("pay one two three", "pay one two three"),
])
def test_digit_words_are_masked_like_digits(said, stored):
    from voice_agent.redact import digit_words, mask_digit_words
    assert mask_digit_words(said, digit_words(("en", "es", "ko"))) == stored


def test_a_card_number_spoken_as_words_at_the_menu_is_masked(agent):
    session, _ = agent.start(lang="en")
    agent.step(session, CallerEvent(
        text="pay with four one one one one one one one one one one one one one one one"))
    agent.hangup(session)
    stored = stored_caller_turns(agent, session)
    assert "pay with * * * * * * * * * * * * one one one one" in stored


def test_number_words_only_the_parser_reads_are_masked_before_the_store(agent):
    """Compound number words ("seventy three ninety five") and another language's digit words:
    the dialogue masks them itself (the store stores what it is given)."""
    session, _ = agent.start(lang="en")
    agent.step(session, CallerEvent(text="my pin is seventy three ninety five"))
    agent.step(session, CallerEvent(text="mi pin es siete tres nueve cinco"))
    agent.hangup(session)
    stored = stored_caller_turns(agent, session)
    assert stored.startswith("my pin is **** | mi pin es * * * *"), stored


def test_a_number_read_back_is_heard_in_full_but_recorded_masked(agent):
    """An unsure account number is read back for the caller to confirm (it may be a card number
    or an SSN said in the wrong place): the caller hears it, the call record keeps it masked,
    and no file of the store holds it (issue 14, items 1 and 3)."""
    session, _ = agent.start(lang="en")
    agent.step(session, CallerEvent(text="check my balance"))
    turn = agent.step(session, CallerEvent(text="4012888888881881", confidence=0.6))
    assert turn.expecting == "confirm" and "4 0 1, 2 8 8, 8 8 8" in turn.say   # heard in full
    turn = agent.step(session, CallerEvent(text="yes"))
    assert turn.expecting == "pin"
    agent.step(session, CallerEvent(dtmf="4321#"))
    agent.hangup(session)
    record = " | ".join(t["text"] for t in agent.store.call(session.call_id)["turns"])
    assert "I heard ************1881." in record, record
    db = agent.settings.database
    written = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))
    for secret in ("401288888888", "4 0 1, 2 8 8", "4 0 1 2 8 8"):
        assert secret.encode() not in written, secret
