"""One validator per slot (Rasa-forms style): each takes what was heard and returns
`(value, None)` when it is acceptable or `(None, prompt_key)` naming the polite reason it is not.

They are pure functions of their input (plus settings and today's date), so they are tested
directly and shared by every flow that collects the same slot.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from voice_agent.cards import aba_ok, card_brand, luhn_ok

Result = tuple[Any, "str | None"]


def only_digits(text: str | None) -> str:
    return "".join(ch for ch in (text or "") if ch.isdigit())


def validate_account_number(value: Any) -> Result:
    digits = only_digits(str(value or ""))
    # Any plausible length is accepted: whether such an account exists is never revealed.
    if 6 <= len(digits) <= 16:
        return digits, None
    return None, "invalid_account_number"


def validate_pin(value: Any) -> Result:
    digits = only_digits(str(value or ""))
    return (digits, None) if 4 <= len(digits) <= 8 else (None, "invalid_pin")


def validate_zip(value: Any) -> Result:
    digits = only_digits(str(value or ""))
    if len(digits) == 9:
        digits = digits[:5]
    return (digits, None) if len(digits) == 5 else (None, "invalid_zip")


def validate_ssn_last4(value: Any) -> Result:
    digits = only_digits(str(value or ""))
    return (digits, None) if len(digits) == 4 else (None, "invalid_ssn_last4")


def validate_amount(value: Any, limits) -> Result:
    """Integer cents within settings["payment_limits"] (min..max)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None, "invalid_amount"
    if value < int(limits["min_cents"]):
        return None, "amount_too_small"
    if value > int(limits["max_cents"]):
        return None, "amount_too_large"
    return value, None


def validate_card_number(value: Any) -> Result:
    digits = only_digits(str(value or ""))
    if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        return None, "invalid_card_number"
    if card_brand(digits) is None:
        return None, "card_not_accepted"
    return digits, None


def normalize_expiry(value: Any) -> tuple[int, int] | None:
    """(month, year) from the NLU's tuple or keyed "MMYY"/"MMYYYY" digits; year as four digits."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        month, year = int(value[0]), int(value[1])
    else:
        digits = only_digits(str(value or ""))
        if len(digits) == 4:
            month, year = int(digits[:2]), int(digits[2:])
        elif len(digits) == 6:
            month, year = int(digits[:2]), int(digits[2:])
        else:
            return None
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        return None
    return month, year


def validate_card_expiry(value: Any, today: dt.date) -> Result:
    expiry = normalize_expiry(value)
    if expiry is None:
        return None, "invalid_card_expiry"
    month, year = expiry
    if (year, month) < (today.year, today.month):
        return None, "card_expired"
    if year > today.year + 20:
        return None, "invalid_card_expiry"
    return expiry, None


def validate_routing_number(value: Any) -> Result:
    digits = only_digits(str(value or ""))
    return (digits, None) if aba_ok(digits) else (None, "invalid_routing_number")


def validate_bank_account_number(value: Any) -> Result:
    digits = only_digits(str(value or ""))
    return (digits, None) if 4 <= len(digits) <= 17 else (None, "invalid_bank_account_number")
