"""Another way to verify, and a paused account said plainly (issue 12): "I forgot my PIN" offers
ZIP + SSN last four (or a callback when the account has no SSN on file), and a locked account
hears until what local time phone access is paused and is offered a callback."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_time

from voice_agent.dialogue.engine import reply_keys

from conversation import Call
from store_helpers import account_record

LOCK = {"max_failures": 2, "window_minutes": 30, "lock_minutes": 30, "tries_per_call": 3}


def paused_until(store, settings) -> str:
    """The local time the lock ends, as the agent says it in English."""
    (until,) = store.db.execute("SELECT locked_until FROM lockouts").fetchone()
    local = dt.datetime.fromisoformat(until).astimezone(ZoneInfo(settings["timezone"]))
    return format_time(local, "short", locale="en_US")


def test_forgotten_pin_is_replaced_by_zip_and_ssn(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent)
    call.say("check my balance")
    call.keys("100200300#")
    turn = call.say("oh no, i forgot my pin")
    assert turn.expecting == "zip" and "verify_pin_alternative" in reply_keys(turn)
    call.keys("29730#")
    turn = call.keys("6789#")
    assert turn.expecting == "confirm" and "$84.20" in turn.say



def test_the_steps_own_answer_wins_over_an_intent_that_would_interrupt_it(demo_agent, nlu):
    """"es verdad que olvidé el pin" also reads loosely as a security question ("is it true"):
    at the PIN question it is that question's answer (Step.choices), not a digression."""
    for lang, text in (("es", "es verdad que olvidé el pin"), ("en", "i forgot my pin, is this for real")):
        assert nlu.understand(text, lang, expect="digits").intent == "security_tips"
        agent, _ = demo_agent()
        call = Call(agent, lang=lang)
        call.say({"es": "quiero pagar", "en": "i want to pay"}[lang])
        call.keys("100200300#")
        turn = call.say(text)
        assert turn.expecting == "zip" and "verify_pin_alternative" in reply_keys(turn), turn.say

def test_a_wrong_zip_or_ssn_fails_like_a_wrong_pin(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent)
    call.say("check my balance")
    call.keys("100200300#")
    call.say("i don't remember it")
    call.keys("29730#")
    turn = call.keys("1111#")
    assert turn.expecting == "account_number" and "couldn't verify" in turn.say


def test_unknown_account_is_offered_the_same_alternative(demo_agent):
    """The offer never tells whether the number exists."""
    agent, _ = demo_agent()
    call = Call(agent)
    call.say("check my balance")
    call.keys("999888777#")
    turn = call.say("i forgot my pin")
    assert turn.expecting == "zip" and "verify_pin_alternative" in reply_keys(turn)


def test_no_ssn_on_file_offers_a_callback(demo_agent):
    agent, store = demo_agent()
    store.import_accounts({"accounts": [account_record("555666777", ssn_last4=None)]})
    call = Call(agent, caller_id="+18035550100")
    call.say("check my balance")
    call.keys("555666777#")
    turn = call.say("i forgot my pin")
    assert turn.state == "callback.offer" and "verify_no_alternative" in reply_keys(turn)
    call.say("yes")
    call.say("yes")
    turn = call.say("in the morning")
    assert turn.state == "menu.more" and "reference number" in turn.say


def test_spanish_and_korean_callers_forget_their_pin_too(demo_agent):
    agent, _ = demo_agent()
    for lang, number, said in (("es", "200300400", "no me acuerdo de mi PIN"),
                               ("ko", "300400500", "비밀번호를 잊어버렸어요")):
        call = Call(agent, lang=lang)
        call.say("saldo" if lang == "es" else "잔액 확인")
        call.keys(f"{number}#")
        assert call.say(said).expecting == "zip", lang


def test_the_failure_that_locks_says_until_when_and_asks_for_the_number_again(demo_agent):
    agent, store = demo_agent(lockout=LOCK)
    call = Call(agent)
    call.say("check my balance")
    call.verify(pin="1111")
    turn = call.verify(pin="2222")
    assert turn.expecting == "account_number" and not turn.ended
    assert "paused until" in turn.say and paused_until(store, agent.settings) in turn.say


def test_a_locked_account_hears_until_when_and_is_offered_a_callback(demo_agent):
    agent, store = demo_agent(lockout=LOCK)
    call = Call(agent)
    call.say("check my balance")
    call.verify(pin="1111")
    call.verify(pin="2222")
    agent.hangup(call.session)
    call = Call(agent, caller_id="+18035550100")
    call.say("check my balance")
    turn = call.verify()                            # the right PIN, but the account is locked
    assert turn.state == "callback.offer" and "verify_locked" in reply_keys(turn)
    assert paused_until(store, agent.settings) in turn.say
    assert "Jane" not in turn.say and "couldn't verify" not in turn.say
    call.say("yes")
    call.say("yes")
    turn = call.say("evening")
    assert turn.state == "menu.more"
    assert store.db.execute("SELECT COUNT(*) FROM callbacks").fetchone()[0] == 1


def test_the_last_try_on_a_locked_account_ends_the_call_with_the_time(demo_agent):
    agent, store = demo_agent(lockout={**LOCK, "tries_per_call": 1})
    for pin in ("1111", "2222"):
        call = Call(agent)
        call.say("check my balance")
        call.verify(pin=pin)
    call = Call(agent)
    call.say("check my balance")
    turn = call.verify()
    assert turn.ended and turn.outcome == "locked_out"
    assert "verify_locked_until" in reply_keys(turn)
    assert paused_until(store, agent.settings) in turn.say
