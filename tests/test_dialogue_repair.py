"""Going back, "*", questions on the way, cancel with money details, the repeat cap and closings
(dialogue/repair.py, flows/cancelling.py): what they do, and the look-alikes they must leave alone
("call me back" is not going back, "how about the full balance" is no question, "네" after
"anything else?" is no goodbye)."""
from __future__ import annotations

import pytest

from voice_agent.dialogue.engine import reply_keys

from conversation import Call

# A demo account whose own language each call speaks (no offer to switch).
ACCOUNTS = {"en": ("100200300", "4321"), "es": ("200300400", "2468"), "ko": ("300400500", "8642")}


def at_method(agent, lang="en"):
    call = Call(agent, lang=lang)
    call.say({"en": "pay my bill", "es": "pagar mi factura", "ko": "요금 낼게요"}[lang])
    call.verify(*ACCOUNTS[lang])
    turn = call.keys("1")                                   # the full balance
    assert turn.expecting == "payment_method"
    return call


def test_going_back_keeps_the_amount_and_returns_to_the_question_before(agent):
    call = at_method(agent)
    call.say("card")
    turn = call.say("go back")
    assert turn.state == "payment.method" and "conv_b_going_back" in reply_keys(turn)
    assert call.session.slots["amount"] == 8420
    turn = call.say("go back")                              # and again: to the amount
    assert turn.state == "payment.amount"


def test_going_back_from_the_expiry_restores_the_card_number_it_consumed(agent):
    call = at_method(agent)
    call.say("card")
    call.keys("4111111111111111#")
    call.keys("1230#")
    assert call.turn.state == "payment.confirm"
    turn = call.say("go back")
    assert turn.state == "payment.card_expiry"
    turn = call.keys("1231#")                               # the card number is still there
    assert turn.state == "payment.confirm" and "1 1 1 1" in turn.say


def test_going_back_at_the_first_question_asks_it_again(agent):
    call = at_method(agent)
    call.say("go back")
    turn = call.say("go back")                              # amount came after verification
    assert turn.state == "payment.amount" and "conv_b_back_first" in reply_keys(turn)


def test_no_going_back_to_a_payment_already_made(agent):
    call = at_method(agent)
    call.say("saved")
    call.say("yes")
    assert call.turn.state == "payment.repeat_code" and call.session.payments
    turn = call.say("go back")
    assert turn.state == "payment.repeat_code" and "conv_b_back_first" in reply_keys(turn)


@pytest.mark.parametrize("text", ["call me back later", "i want my money back"])
def test_back_in_other_senses_is_not_going_back(agent, text):
    call = at_method(agent)
    call.say("card")
    turn = call.say(text)
    assert "conv_b_going_back" not in reply_keys(turn)


def test_star_clears_a_pending_read_back_and_asks_again(agent):
    call = Call(agent)
    call.say("pay my bill")
    call.verify()
    turn = call.say("fifty dollars", confidence=0.7)        # unsure: "I heard $50.00 ..."
    assert turn.expecting == "confirm" and call.session.unsure is not None
    turn = call.keys("*")
    assert call.session.unsure is None and turn.expecting == "amount"
    assert "conv_b_cleared" in reply_keys(turn)


def test_cancel_without_money_details_is_at_once(agent):
    call = Call(agent)
    call.say("pay my bill")
    turn = call.say("cancel")
    assert turn.state == "menu.intent" and "cancelled" in reply_keys(turn)


def test_cancel_with_money_details_asks_and_no_keeps_the_question(agent):
    call = at_method(agent)
    turn = call.say("cancel")
    assert turn.state == "cancelling.confirm" and turn.expecting == "confirm"
    turn = call.say("no")
    assert turn.state == "payment.method" and call.session.slots["amount"] == 8420
    call.say("cancel")
    turn = call.keys("1")
    assert turn.state == "menu.intent" and "amount" not in call.session.slots


@pytest.mark.parametrize("lang,text,key", [
    ("en", "wait, when is that due?", "balance_due"),
    ("en", "how much is the fee if i pay from my bank", "conv_b_fee_bank"),
    ("en", "which cards do you take", "conv_b_methods"),
    ("es", "¿y cuánto tarda en volver el servicio?", "conv_b_restore_time"),
    ("ko", "카드 수수료는 얼마예요?", "conv_b_fee_card"),
])
def test_a_question_is_answered_and_the_step_asked_again(agent, lang, text, key):
    call = at_method(agent, lang)
    turn = call.say(text)
    assert key in reply_keys(turn) and turn.state == "payment.method"
    assert reply_keys(turn)[-1] == "pay_method" and call.session.misses == 0


def test_a_charge_named_in_a_question_is_explained(agent):
    call = at_method(agent)
    turn = call.say("what's the equipment rental?")
    assert "conv_b_charge" in reply_keys(turn) and "$19.20" in turn.say


@pytest.mark.parametrize("lang,text,name", [
    ("en", "what is the late fee?", "Late fee"),
    ("en", "and what's this international calls charge", "International calls"),
    ("es", "¿qué es el cargo por mora?", "Late fee"),      # 200300400 has one: not this account
    ("ko", "연체료는 뭐예요?", "Late fee"),
])
def test_a_charge_the_bill_lacks_is_said_plainly(agent, lang, text, name):
    """A question naming a charge the account has not got is answered (there is none) and the
    question asked again: neither a miss nor another topic."""
    call = Call(agent, lang=lang)
    call.say({"en": "pay my bill", "es": "pagar mi factura", "ko": "요금 낼게요"}[lang])
    call.verify(*(ACCOUNTS["ko"] if lang == "es" else ACCOUNTS[lang]))
    if call.turn.state == "verify.language_offer":
        call.say("no")
    call.keys("1")
    turn = call.say(text)
    assert reply_keys(turn)[0] == "conv_b_no_charge" and name in turn.say
    assert turn.state == "payment.method" and call.session.misses == 0


def test_the_fee_alone_is_still_the_fee_to_pay(agent):
    """"the fee" names a late fee only on a bill that has one; otherwise it asks the fee."""
    call = at_method(agent)
    turn = call.say("how much is the fee?")
    assert "conv_b_fees" in reply_keys(turn)


@pytest.mark.parametrize("text", ["how about the full balance", "the full balance"])
def test_an_answer_is_not_taken_for_a_question(agent, text):
    call = Call(agent)
    call.say("pay my bill")
    call.verify()
    turn = call.say(text)
    assert turn.expecting == "payment_method"


def test_the_code_is_offered_twice_then_the_call_moves_on(agent):
    call = at_method(agent)
    call.say("saved")
    call.say("yes")
    assert call.say("yes").state == "payment.repeat_code"
    turn = call.say("repeat that")                          # "repeat" answers the offer
    assert turn.state == "menu.more" and "pay_code" in reply_keys(turn)


@pytest.mark.parametrize("lang,text", [
    ("en", "um no that's all thanks so much bye"),
    ("es", "no eso es todo gracias adiós"),
    ("ko", "아니요 됐어요 감사합니다"),
])
def test_closings_after_anything_else_end_the_call(agent, lang, text):
    call = at_method(agent, lang)
    call.say({"en": "cancel", "es": "cancelar", "ko": "취소"}[lang])
    call.keys("1")
    call.session.state = "menu.more"
    turn = call.say(text)
    assert turn.ended and turn.outcome == "completed"


@pytest.mark.parametrize("lang,text", [("ko", "네"), ("en", "yes"),
                                       ("en", "no thanks but i want to pay my bill")])
def test_a_yes_or_a_request_after_anything_else_is_no_closing(agent, lang, text):
    call = Call(agent, lang=lang)
    call.session.state = "menu.more"
    turn = call.say(text)
    assert not turn.ended


@pytest.mark.parametrize("lang,phrase", [("en", "go back"), ("es", "volver"), ("ko", "이전")])
def test_going_back_can_be_recognised_at_a_number_step(nlu, lang, phrase):
    assert phrase in nlu.grammar_phrases(lang, "card_number")   # the Vosk grammar allows it


def test_an_amount_said_with_the_request_can_be_gone_back_to(agent):
    call = Call(agent)
    call.say("i want to pay fifty dollars")
    call.verify()
    assert call.turn.expecting == "confirm"                 # "I heard $50.00. Is that right?"
    assert call.say("yes").expecting == "payment_method"
    assert call.say("go back").state == "payment.amount"


def test_a_word_that_only_begins_like_going_back_is_not_it(agent):
    call = at_method(agent, "ko")
    turn = call.say("이전에 냈어요")                          # "I paid before"
    assert "conv_b_going_back" not in reply_keys(turn)
