"""One validator per slot: each accepts good input and names the reason for bad input."""
import datetime as dt

from voice_agent.cards import card_brand
from voice_agent.dialogue import validators as v

LIMITS = {"min_cents": 100, "max_cents": 100000}
TODAY = dt.date(2026, 11, 25)


def test_luhn_and_brand():
    assert v.validate_card_number("4111 1111 1111 1111") == ("4111111111111111", None)
    assert card_brand("5555555555554444") == "mastercard"
    assert card_brand("378282246310005") == "amex"
    assert card_brand("6011111111111117") == "discover"
    assert v.validate_card_number("4111111111111112") == (None, "invalid_card_number")
    assert v.validate_card_number("12345") == (None, "invalid_card_number")
    # Passes Luhn but belongs to no accepted network.
    assert v.validate_card_number("9000000000000001") == (None, "card_not_accepted")


def test_expiry_not_in_the_past():
    assert v.validate_card_expiry((12, 2028), TODAY) == ((12, 2028), None)
    assert v.validate_card_expiry("1128", TODAY) == ((11, 2028), None)
    assert v.validate_card_expiry((11, 26), TODAY) == ((11, 2026), None)  # this month is fine
    assert v.validate_card_expiry((10, 2026), TODAY) == (None, "card_expired")
    assert v.validate_card_expiry("1328", TODAY) == (None, "invalid_card_expiry")
    assert v.validate_card_expiry(None, TODAY) == (None, "invalid_card_expiry")


def test_aba_routing_checksum():
    assert v.validate_routing_number("011000015") == ("011000015", None)
    assert v.validate_routing_number("021000021") == ("021000021", None)
    assert v.validate_routing_number("011000016") == (None, "invalid_routing_number")
    assert v.validate_routing_number("01100001") == (None, "invalid_routing_number")


def test_amount_limits():
    assert v.validate_amount(5000, LIMITS) == (5000, None)
    assert v.validate_amount(100, LIMITS) == (100, None)
    assert v.validate_amount(99, LIMITS) == (None, "amount_too_small")
    assert v.validate_amount(100001, LIMITS) == (None, "amount_too_large")
    assert v.validate_amount("50", LIMITS) == (None, "invalid_amount")
    assert v.validate_amount(True, LIMITS) == (None, "invalid_amount")


def test_identity_fields():
    assert v.validate_account_number("100 200 300") == ("100200300", None)
    assert v.validate_account_number("12") == (None, "invalid_account_number")
    assert v.validate_pin("4321") == ("4321", None)
    assert v.validate_pin("12") == (None, "invalid_pin")
    assert v.validate_zip("29730") == ("29730", None)
    assert v.validate_zip("297301234") == ("29730", None)
    assert v.validate_ssn_last4("123") == (None, "invalid_ssn_last4")
    assert v.validate_bank_account_number("12345678") == ("12345678", None)
    assert v.validate_bank_account_number("12") == (None, "invalid_bank_account_number")
