"""The caller's choice of language is respected and security questions are answered at any step
(issue 12): the account's language is offered only to a caller who did not choose one, "no, en
español" keeps Spanish, a named language switches from any language, and "someone texted me for
my card number, was that you?" is answered before verification, then the call goes on."""
from __future__ import annotations

from voice_agent.dialogue.engine import reply_keys

from conversation import Call

SCAM = "someone texted me asking for my card number to avoid a shut-off, is that you?"


def test_a_language_chosen_at_the_menu_is_not_offered_back(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent, lang=None)
    call.keys("2")                                   # español
    call.say("cuál es mi saldo")
    turn = call.verify()                             # Jane's account prefers English
    assert turn.lang == "es" and "verify_language_offer" not in reply_keys(turn)


def test_a_language_asked_for_mid_call_is_not_offered_back(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent, lang="en")
    call.say("check my balance")
    call.keys("200300400#")
    assert call.say("can we do this in korean?").lang == "ko"
    turn = call.keys("2468#")                        # Carlos's account prefers Spanish
    assert turn.lang == "ko" and "verify_language_offer" not in reply_keys(turn)


def test_a_caller_who_did_not_choose_is_offered_the_accounts_language(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent, lang="es")
    call.say("cuál es mi saldo")
    turn = call.verify()
    assert turn.expecting == "confirm" and "verify_language_offer" in reply_keys(turn)


def test_no_in_spanish_at_the_offer_keeps_spanish(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent, lang="es")
    call.say("cuál es mi saldo")
    call.verify()
    turn = call.say("no, en español")
    assert turn.lang == "es" and turn.state == "balance.offer_pay", turn.state
    assert "language_set" in reply_keys(turn)


def test_naming_another_language_at_the_offer_switches_to_it(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent, lang="es")
    call.say("cuál es mi saldo")
    call.verify()                                    # English offered
    turn = call.say("mejor en coreano")
    assert turn.lang == "ko" and turn.state == "balance.offer_pay"


def test_naming_the_calls_own_language_keeps_it_and_asks_again(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent, lang="es")
    call.say("quiero pagar mi factura")
    turn = call.say("en español por favor")
    assert turn.lang == "es" and turn.expecting == "account_number"
    assert reply_keys(turn) == ["language_set", "verify_account"]


def test_security_question_before_verification_is_answered_and_the_step_asked_again(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent, lang="en")
    call.say("i want to pay my bill")
    call.keys("100200300#")
    turn = call.say(SCAM)
    keys = reply_keys(turn)
    assert keys[:5] == ["security_official", "security_never", "security_pressure",
                        "security_after", "security_report"]
    assert turn.expecting == "pin" and keys[-1] == "verify_pin"
    assert "never ask for your full card number" in turn.say and "text message" in turn.say
    assert call.keys("4321#").expecting == "amount"  # the account number was kept


def test_security_question_at_the_menu_is_the_request(demo_agent):
    agent, _ = demo_agent()
    for lang, said in (("en", SCAM),
                       ("es", "me llegó un correo pidiendo mi contraseña, ¿fueron ustedes?"),
                       ("ko", "이메일로 카드 번호를 보내라고 하던데 이거 진짜예요?")):
        call = Call(agent, lang=lang)
        turn = call.say(said)
        assert turn.state == "menu.more" and "security_report" in reply_keys(turn), lang
        assert agent.settings["official_phone"] in turn.say


def test_a_fraud_story_given_as_a_dispute_reason_is_the_reason(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent, lang="en")
    call.say("dispute a charge")
    call.verify()
    call.say("internet")
    turn = call.say("someone used my pin without asking me")
    assert turn.state == "dispute.confirm", turn.state
    assert "security_official" not in reply_keys(turn)
