"""Issue 12 in the dialogue: values said before they are asked are used and not asked again (a
PIN said aloud still masked in the record), a bare number at the menu is no request, and a
read-back takes a new value for one question and reads back again, keeping everything else."""
from __future__ import annotations

import pytest

from conversation import Call

ONE_BREATH = {
    "en": ("account one zero zero two zero zero three zero zero pin four three two one i need to"
           " pay sixty bucks", "four three two one"),
    "es": ("es la cuenta dos cero cero tres cero cero cuatro cero cero mi pin es dos cuatro seis"
           " ocho y quiero pagar sesenta dólares", "dos cuatro seis ocho"),
    "ko": ("계좌 번호 삼 영 영 사 영 영 오 영 영 비밀번호 팔 육 사 이 육십 달러 내고 싶어요",
           "팔 육 사 이"),
}


def transcript(store, call: Call) -> str:
    return " ".join(t["text"] for t in store.call(call.session.call_id)["turns"])


@pytest.mark.parametrize("lang", sorted(ONE_BREATH))
def test_account_pin_and_amount_in_one_sentence(demo_agent, lang):
    agent, store = demo_agent()
    call = Call(agent, lang=lang)
    text, pin_words = ONE_BREATH[lang]
    turn = call.say(text)
    # verified without a question; the amount heard in passing is confirmed once
    assert call.session.account is not None
    assert turn.expecting == "confirm" and "60.00" in turn.say
    assert call.say({"en": "yes", "es": "sí", "ko": "네"}[lang]).expecting == "payment_method"
    record = transcript(store, call)
    assert pin_words not in record and "pin" not in call.session.slots


@pytest.mark.parametrize("text", [
    "yeah hi so i wanna pay forty five dollars, the account number is 100200300 and the pin is"
    " 4321",
    "yeah hi so i wanna pay forty five dollars, the account number is one zero zero two zero zero"
    " three zero zero and the pin is four three two one",
])
def test_a_request_said_before_the_account_and_pin_is_heard(demo_agent, text):
    agent, store = demo_agent()
    call = Call(agent)
    turn = call.say(text)
    assert call.session.account == "100200300"
    assert turn.expecting == "confirm" and "$45.00" in turn.say
    record = transcript(store, call)
    assert "4321" not in record and "four three two one" not in record


@pytest.mark.parametrize("lang,account,pin,asked,amount,expecting", [
    ("en", "100200300", "4321", "I want to pay with my card", "full balance", "card_number"),
    ("en", "100200300", "4321", "i'd like to pay my bill from my bank account", "full balance",
     "routing_number"),
    ("es", "200300400", "2468", "quiero pagar mi factura con tarjeta", "el monto vencido",
     "card_number"),
    ("ko", "300400500", "8642", "은행 계좌로 납부하고 싶어요", "전액", "routing_number"),
])
def test_a_method_named_with_the_request_is_not_asked(demo_agent, lang, account, pin, asked,
                                                      amount, expecting):
    agent, _ = demo_agent()
    call = Call(agent, lang=lang)
    assert call.verified(asked, account, pin).expecting == "amount"
    assert call.say(amount).expecting == expecting


def test_a_method_named_with_an_earlier_request_is_forgotten(demo_agent):
    """A way to pay belongs to the request it came with."""
    agent, _ = demo_agent()
    call = Call(agent)
    call.verified("i want to pay with my card", "100200300", "4321")
    call.say("cancel")
    assert call.say("pay my bill").expecting == "amount"
    assert call.say("full balance").expecting == "payment_method"


def test_a_wrong_pin_said_with_the_request_fails_like_a_keyed_one(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent)
    turn = call.say("pay my bill account one zero zero two zero zero three zero zero pin one one"
                    " one one")
    assert call.session.account is None and call.session.verify_failures == 1
    assert turn.expecting == "account_number"


def test_a_pin_said_for_an_account_without_one_is_not_used(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent)
    turn = call.say("pay my bill account four zero zero five zero zero six zero zero pin one two"
                    " three four")
    assert turn.expecting == "zip" and call.session.verify_failures == 0


@pytest.mark.parametrize("lang,text", [("en", "fifty"), ("es", "cincuenta"), ("ko", "오십")])
def test_a_bare_number_at_the_menu_is_no_request(demo_agent, lang, text):
    agent, _ = demo_agent()
    call = Call(agent, lang=lang)
    turn = call.say(text)
    assert turn.expecting == "intent" and call.session.state == "menu.intent"
    assert "amount" not in call.session.slots


def test_an_account_number_alone_at_the_menu_is_kept(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent)
    assert call.say("one zero zero two zero zero three zero zero").expecting == "intent"
    assert call.say("pay my bill").expecting == "pin"


def at_confirm(call: Call, amount: str = "thirty dollars"):
    call.verified("pay my bill", "100200300", "4321")
    call.say(amount)
    return call.say("saved card")


def test_a_new_amount_at_the_read_back_reads_back_again(demo_agent):
    agent, store = demo_agent()
    call = Call(agent)
    assert "$30.00" in at_confirm(call).say
    turn = call.say("no, make it sixty twenty five")
    assert turn.expecting == "confirm" and "$60.25" in turn.say and "Visa" in turn.say
    call.say("yes")
    assert [p.amount_cents for p in store.payments(account="100200300")] == [6025]


def test_a_new_method_at_the_read_back_keeps_the_amount(demo_agent):
    agent, store = demo_agent()
    call = Call(agent)
    at_confirm(call)
    assert call.say("actually use my bank account instead").expecting == "routing_number"
    call.keys("011000015#")
    turn = call.keys("123456789#")
    assert turn.expecting == "confirm" and "$30.00" in turn.say
    call.say("yes")
    paid = store.payments(account="100200300")
    assert [(p.amount_cents, p.method) for p in paid] == [(3000, "bank")]


def test_an_out_of_limits_amount_at_the_read_back_is_asked_again(demo_agent):
    agent, store = demo_agent()
    call = Call(agent)
    at_confirm(call)
    turn = call.say("no, make it fifty thousand dollars")
    assert turn.expecting == "amount" and call.session.state == "payment.amount_other"
    turn = call.say("forty dollars")
    assert turn.expecting == "confirm" and "$40.00" in turn.say


def test_a_plain_no_at_the_read_back_still_declines(demo_agent):
    agent, store = demo_agent()
    call = Call(agent)
    at_confirm(call)
    assert call.say("no").expecting == "intent"
    assert store.payments(account="100200300") == []


def test_a_new_value_at_i_heard_is_taken(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent)
    turn = call.say("pay sixty dollars account one zero zero two zero zero three zero zero pin"
                    " four three two one")
    assert turn.expecting == "confirm" and "$60.00" in turn.say
    turn = call.say("no, fifty")
    assert turn.expecting == "payment_method" and call.session.slots["amount"] == 5000


@pytest.mark.parametrize("lang,account,pin,text,expecting", [
    ("en", "100200300", "4321", "fifty dollars on my saved card", "confirm"),
    ("es", "200300400", "2468", "el monto vencido con mi cuenta bancaria", "routing_number"),
    ("ko", "300400500", "8642", "전액 카드로 할게요", "card_number"),
])
def test_a_method_named_with_the_amount_is_not_asked(demo_agent, lang, account, pin, text,
                                                     expecting):
    agent, _ = demo_agent()
    call = Call(agent, lang=lang)
    call.verified({"en": "pay my bill", "es": "pagar mi factura", "ko": "요금 낼게요"}[lang],
                  account, pin)
    assert call.say(text).expecting == expecting


def test_an_amount_alone_still_asks_the_method(demo_agent):
    agent, _ = demo_agent()
    call = Call(agent)
    call.verified("pay my bill", "100200300", "4321")
    assert call.say("fifty dollars").expecting == "payment_method"


def test_a_scheduled_payment_read_back_takes_a_new_amount_date_and_method(demo_agent):
    agent, store = demo_agent()
    call = Call(agent)
    call.verified("schedule a payment", "100200300", "4321")
    for text in ("yes", "tomorrow", "twenty dollars"):
        call.say(text)
    assert "$20.00" in call.say("saved card").say
    turn = call.say("actually make it thirty")
    assert turn.expecting == "confirm" and "$30.00" in turn.say
    assert call.say("no, use a bank account").expecting == "routing_number"
    call.keys("011000015#")
    turn = call.keys("123456789#")
    assert turn.expecting == "confirm" and "$30.00" in turn.say
    call.say("yes")
    paid = store.payments(account="100200300")
    assert [(p.amount_cents, p.method, p.status) for p in paid] == [(3000, "bank", "scheduled")]


def test_an_arrangement_read_back_takes_a_new_count_and_keeps_the_method(demo_agent):
    agent, store = demo_agent()
    call = Call(agent, lang="es")
    call.verified("quiero un plan de pagos", "200300400", "2468")
    call.say("tres pagos")
    call.say("tarjeta")
    call.keys("4111111111111111#")
    assert call.keys("1230#").expecting == "confirm"
    turn = call.say("no, mejor dos pagos")
    assert turn.expecting == "confirm" and "2 pagos" in turn.say and "1 1 1 1" in turn.say
    call.say("sí")
    assert [p.amount_cents for p in store.payments(account="200300400")] == [3625, 3625]
