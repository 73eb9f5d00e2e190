"""Whether an answer is already whole (voice/complete.py): the rules come from the question's
record, the NLU's value parsers, the choice lists and the dialogue's validators."""
from __future__ import annotations

import datetime as dt

import pytest

from voice_agent.settings import load_settings
from voice_agent.voice.complete import NO, NOW, SOON, keyed_complete, spoken_complete

AUDIO = load_settings(env={})["audio"]
TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize("expecting,keys,whole", [
    ("account_number", "300400500", NOW), ("account_number", "30040050", NO),
    ("card_number", "4111111111111111", SOON),          # a Visa may have 19 digits
    ("card_number", "5555555555554444", NOW),           # a Mastercard has 16, no more
    ("card_number", "4111111111111112", NO),            # fails Luhn
    ("card_number", "411111111111", NO),
    ("routing_number", "011000015", NOW), ("routing_number", "011000016", NO),
    ("zip", "29708", SOON), ("zip", "297081234", NOW), ("ssn_last4", "2580", NOW),
    ("card_expiry", "1230", NOW), ("card_expiry", "1320", NO), ("card_expiry", "0124", NO),
    ("pin", "8642", NO),                                 # 4 to 8 digits: only "#" or a pause
    ("bank_account_number", "12345678", NO), ("card_number", "4111#", NO), (None, "123", NO),
])
def test_keyed_numbers(expecting, keys, whole):
    assert keyed_complete(expecting, keys, AUDIO, TODAY) == whole


def test_the_account_length_is_a_setting():
    nine = load_settings(env={}, sets=["audio.account_number_digits=10"])["audio"]
    assert keyed_complete("account_number", "300400500", nine) == NO
    assert keyed_complete("account_number", "3004005001", nine) == NOW
    off = load_settings(env={}, sets=["audio.account_number_digits=0"])["audio"]
    assert keyed_complete("account_number", "300400500", off) == NO


@pytest.mark.parametrize("expecting,text,lang,whole", [
    ("confirm", "네", "ko", True), ("confirm", "음", "ko", False), ("confirm", "yes", "en", True),
    ("language", "한국어", "ko", True), ("payment_method", "카드", "ko", True),
    ("payment_method", "um", "en", False), ("installments", "three", "en", True),
    ("amount", "오만 원", "ko", True), ("amount", "오만", "ko", False),
    ("amount", "fifty dollars", "en", True), ("amount", "fifty", "en", False),
    ("card_number", "four one one one", "en", False),
    ("card_number", "four one one one one one one one one one one one one one one one", "en", True),
    ("account_number", "three zero zero four zero zero five zero zero", "en", True),
    ("card_expiry", "december twenty thirty", "en", True),
    ("card_expiry", "december twenty twenty", "en", False),      # expired: not a valid answer
    ("date", "next friday", "en", True),
    ("charge", "the mobile plan", "en", False),
    # A request: whole when it is a listed one no other goes on from, or (Korean) a sentence
    # with its ending that names one intent.
    ("intent", "i want to make a payment", "en", True), ("intent", "what's my balance", "en", True),
    ("intent", "pay my bill", "en", False),         # "pay my bill on the fifth" is listed
    ("intent", "cancel", "en", False),              # "cancel my scheduled payment" is listed
    ("intent", "do you", "en", False), ("intent", "uh", "en", False),
    ("intent", "요금 내고 게 요", "ko", True),      # espeak-ng "요금 낼게요" as the model heard it
    ("intent", "인터넷 요금", "ko", False), ("intent", "납부 기한", "ko", False),
    ("confirm", "", "en", False),
])
def test_spoken_answers(nlu, expecting, text, lang, whole):
    assert spoken_complete(expecting, text, lang, nlu, AUDIO, TODAY) == whole
