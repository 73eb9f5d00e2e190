"""voice_agent.redact owns the masking policy: 4+ digits masked, only 12+ keep their last four,
in numerals and in number words alike; logs keep no digit; a caller's turn is masked once, by
``mask_caller_turn``, before the store (tests/test_store_layers.py: the store masks nothing)."""
from __future__ import annotations

import pytest

from voice_agent.redact import (
    digit_words,
    mask_caller_digits,
    mask_caller_turn,
    mask_card_numbers,
    mask_digit_runs,
    mask_digit_words,
    mask_digits,
    masked,
    redact_entry,
)


@pytest.mark.parametrize("digits, shown", [
    ("7395", "****"), ("20030040", "********"), ("80355501000", "***********"),
    ("411111111111", "********1111"), ("4111111111111111", "************1111"),
])
def test_only_twelve_or_more_digits_keep_their_last_four(digits, shown):
    assert masked(digits) == shown
    assert mask_digit_runs(digits) == shown
    assert mask_caller_digits(f"it is {digits}", "en") == f"it is {shown}"


def test_digit_words_under_twelve_are_masked_whole():
    words = digit_words(("en",))
    assert mask_digit_words("acct one two three four five six", words) == "acct * * * * * *"


def test_logs_keep_no_digit_even_of_a_card():
    assert mask_digits("4111 1111 1111 1111") == "**** **** **** ****"


@pytest.mark.parametrize("text, expecting, shown", [
    ("7395", "pin", "[redacted]"), ("1234", "ssn_last4", "[redacted]"),
    ("4111111111111111", "card_number", "************1111"),
    ("20030040", "bank_account_number", "[redacted]"),     # under 12 digits: nothing kept
    ("200300400", "account_number", "*********"),          # not a secret, but 4+ digits
    ("card 4111111111111111", "intent", "card ************1111"),   # keyed/said at the menu
    ("1230", "payment_method", "****"), ("2", "payment_method", "2"),
    (None, "pin", None),
])
def test_redact_entry(text, expecting, shown):
    assert redact_entry(text, expecting) == shown


def before_the_store_was_told_to_store(text: str, lang: str) -> str:
    """What a caller's turn went through before masking moved out of the store: the dialogue's
    numerals and digit words, then the store's card numbers and number words."""
    text = mask_digit_words(mask_digit_runs(text), digit_words(("en", "es", "ko")))
    return mask_caller_digits(mask_card_numbers(text), lang)


@pytest.mark.parametrize("lang, said, stored", [
    ("en", "my card is 4111 1111 1111 1111 ok", "my card is **** **** **** 1111 ok"),
    ("en", "dtmf:4111111111111111#", "dtmf:************1111#"),
    ("en", "card four one one one one one one one one one one one one one one one",
     "card * * * * * * * * * * * * one one one one"),
    ("ko", "사 일 일 일 일 일 일 일 일 일 일 일 일 일 일 일", "* * * * * * * * * * * * 일 일 일 일"),
    ("en", "my pin is 7395 and my social is eight two six four",
     "my pin is **** and my social is * * * *"),
    ("en", "my pin is seventy three ninety five", "my pin is ****"),    # needs the parser
    ("en", "mi pin es siete tres nueve cinco", "mi pin es * * * *"),  # not the call's language
    ("es", "mi seguro social es ocho dos seis cuatro", "mi seguro social es * * * *"),
    ("ko", "비밀번호는 칠삼구오요", "비밀번호는 ****"),
    ("en", "비밀번호는 칠삼구오", "비밀번호는 ****"),
    ("en", "call me at 803.555.0100", "call me at ***.***.****"),
    ("en", "pay 50 dollars for option 2", "pay 50 dollars for option 2"),
    ("es", "quiero pagar doscientos dólares", "quiero pagar doscientos dólares"),
    ("en", "pay one two three", "pay one two three"),
    ("en", "[no input]", "[no input]"),
])
def test_a_caller_turn_is_masked_once_as_strongly_as_before(lang, said, stored):
    assert mask_caller_turn(said, lang, ("en", "es", "ko")) == stored
    assert before_the_store_was_told_to_store(said, lang) == stored


def test_digit_words_of_every_language_even_when_only_one_is_enabled():
    said = "mi pin es siete tres nueve cinco"
    assert mask_caller_turn(said, "en", ("en",)) == "mi pin es * * * *"
    assert mask_caller_turn("사 일 일 일", None) == "* * * *"
