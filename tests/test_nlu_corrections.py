"""Issue 12: callers correct themselves mid-sentence (the value after the last correction marker
wins, markers per language in values.toml) and give values before they are asked (a PIN after
its cue, a digit string apart from the amount said right after it)."""
from __future__ import annotations

import pytest

from voice_agent.nlu.templates import expand

CORRECTED = [
    ("en", "amount", "forty dollars scratch that fifty", 5000),
    ("en", "amount", "twenty dollars no wait make that thirty", 3000),
    ("en", "amount", "no, make it sixty twenty five", 6025),
    ("es", "installments", "eh tres no mejor dos pagos", 2),
    ("es", "amount", "cuarenta dólares no perdón cincuenta", 5000),
    ("ko", "amount", "사십 달러 아니 오십 달러", 5000),
    ("ko", "amount", "아니요 육십 달러로 해 주세요", 6000),
    # markers that are fillers elsewhere ("i mean", "actually", "digo") still correct
    ("en", "amount", "forty dollars i mean fifty", 5000),
    ("en", "amount", "seventy actually sixty five", 6500),
    ("es", "amount", "treinta dólares digo treinta y cinco", 3500),
]


@pytest.mark.parametrize("lang,expect,text,value", CORRECTED)
def test_the_value_after_a_correction_wins(nlu, lang, expect, text, value):
    assert nlu.understand(text, lang, expect=expect).value == value
    assert nlu.parse_value(expect, text, lang) == value


@pytest.mark.parametrize("lang,expect,text,value", [
    ("en", "amount", "fifty dollars", 5000),
    ("en", "amount", "fifty dollars no", 5000),      # nothing after the marker: the whole
    ("es", "installments", "tres pagos", 3),
    ("ko", "amount", "오십 달러", 5000),
])
def test_without_a_new_value_the_words_are_read_whole(nlu, lang, expect, text, value):
    assert nlu.understand(text, lang, expect=expect).value == value


def test_a_plain_no_is_still_a_no(nlu):
    for lang, text in (("en", "no"), ("es", "no"), ("ko", "아니요")):
        assert nlu.understand(text, lang, expect="confirm").value == "no"


@pytest.mark.parametrize("lang,text,want", [
    ("en", "hey it's account one zero zero two zero zero three zero zero pin four three two one"
           " i need to pay sixty bucks",
     {"account_number": "100200300", "pin": "4321", "amount": 6000}),
    ("en", "i want to pay my bill my account number is one zero zero two zero zero three zero"
           " zero and my pin is four three two one",
     {"account_number": "100200300", "pin": "4321"}),
    ("es", "es la cuenta dos cero cero tres cero cero cuatro cero cero mi pin es dos cuatro seis"
           " ocho y quiero pagar sesenta dólares",
     {"account_number": "200300400", "pin": "2468", "amount": 6000}),
    ("ko", "계좌 번호 삼 영 영 사 영 영 오 영 영 비밀번호 팔 육 사 이 오십 달러 내고 싶어요",
     {"account_number": "300400500", "pin": "8642", "amount": 5000}),
    # the request comes first and the account number and PIN, with the words naming them, would
    # drown it: it is found in what is left once they are taken out
    ("en", "yeah hi so i wanna pay forty five dollars, the account number is 2003004001 and the"
           " pin is 1234", {"account_number": "2003004001", "pin": "1234", "amount": 4500}),
    ("ko", "네 안녕하세요 사십오 달러 내려고요 계좌 번호는 삼 영 영 사 영 영 오 영 영이고 비밀번호는"
           " 팔 육 사 이예요", {"account_number": "300400500", "pin": "8642", "amount": 4500}),
])
def test_values_said_with_the_request(nlu, lang, text, want):
    u = nlu.understand(text, lang)
    assert u.intent == "pay_bill"
    assert {key: u.value.get(key) for key in want} == want


def test_a_correction_with_the_request_replaces_the_earlier_value(nlu):
    u = nlu.understand("i want to pay forty dollars no wait fifty", "en")
    assert u.value["amount"] == 5000


@pytest.mark.parametrize("lang,text,bare", [
    ("en", "fifty", True), ("en", "1 2 3", True), ("es", "cincuenta", True), ("ko", "오십", True),
    ("en", "pay fifty", False), ("es", "pagar cincuenta", False), ("ko", "오십 달러 낼게요", False),
    ("en", "", False),
])
def test_only_a_number(nlu, lang, text, bare):
    assert nlu.only_number(text, lang) is bare


def test_grammars_let_callers_correct_and_give_a_pin(nlu):
    """A recogniser held to a step's grammar must be able to hear the correction words and,
    at the open question, the PIN cue."""
    assert {"scratch that", "i mean"} <= set(nlu.grammar_phrases("en", "amount"))
    assert "mejor" in nlu.grammar_phrases("es", "installments")
    assert "pin" in nlu.grammar_phrases("en", "intent")
    assert "비밀번호" in nlu.grammar_phrases("ko", "intent")


@pytest.mark.parametrize("lang", ["en", "es", "ko"])
def test_grammars_hear_what_the_dialogue_understands_at_each_step(nlu, lang):
    """Over voice a recogniser held to a step's grammar hears only its words: at every step the
    question words and going back (dialogue/repair.py's lists), at a yes/no also amounts, ways
    to pay and correction words (a read-back changed), at the menu the closings; each taken
    from the locale data, so a phrase added there is heard too."""
    def said(phrases):
        return {" ".join(p.lower().split()) for p in phrases}

    questions = nlu.choices(lang, "conv_question")
    asides = said(questions["anywhere"] + questions["start"]) | said(
        p for phrases in nlu.choices(lang, "conv_topic").values() for p in phrases)
    back = said(nlu.choices(lang, "conv_go_back")["back"])
    values = nlu.locale(lang).values
    markers = said(values["corrections"]["markers"])
    methods = said(p for phrases in nlu.choices(lang, "payment_method").values() for p in phrases)
    cancel = said(expand(nlu.locale(lang).intents["cancel"][0]))
    for expect in ("pin", "amount", "card_number", "card_expiry", "date", "payment_method",
                   "confirm", "installments"):
        heard = set(nlu.grammar_phrases(lang, expect))
        assert asides <= heard and back <= heard, (expect, sorted(asides - heard))
        assert cancel <= heard, expect
    confirm = set(nlu.grammar_phrases(lang, "confirm"))
    assert methods <= confirm and markers <= confirm
    assert said(values["money"]["major"]) <= confirm
    assert nlu.parse_value("amount", {"en": "sixty dollars", "es": "sesenta dólares",
                                      "ko": "육십 달러"}[lang], lang) == 6000
    assert {"sixty", "sesenta", "육십"} & confirm or {"six", "seis", "육"} & confirm
    closings = said(p for phrases in nlu.choices(lang, "conv_closing").values() for p in phrases)
    assert closings <= set(nlu.grammar_phrases(lang, "intent"))
    assert not asides & set(nlu.grammar_phrases(lang, "dispute_reason"))   # open vocabulary


@pytest.mark.parametrize("lang,table,text,key", [
    ("en", "payment_method", "card no wait bank account", "bank"),
    ("es", "payment_method", "con la tarjeta no mejor con el banco", "bank"),
    ("ko", "payment_method", "카드 아니 은행 계좌로", "bank"),
    ("en", "amount_choice", "the full balance no wait just the past due", "past_due"),
    ("es", "payment_method", "tarjeta no", "card"),
])
def test_the_choice_named_last_wins(nlu, lang, table, text, key):
    assert nlu.match_choice(text, lang, nlu.choices(lang, table))[0] == key
