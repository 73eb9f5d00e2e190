"""One validator per slot (Rasa-forms style): each takes what was heard and returns
`(value, None)` when it is acceptable or `(None, prompt_key)` naming the polite reason it is not.

They are pure functions of their input (plus settings and today's date), so they are tested
directly and shared by every flow that collects the same slot.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

Result = tuple[Any, "str | None"]


def only_digits(text: str | None) -> str:
    return "".join(ch for ch in (text or "") if ch.isdigit())


def luhn_ok(number: str) -> bool:
    """The Luhn checksum every payment card number carries."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(number: str) -> str | None:
    """The card network from the number's leading digits (IIN ranges), or None if not accepted."""
    n = len(number)
    if number.startswith("4") and n in (13, 16, 19):
        return "visa"
    if n == 16 and (51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720):
        return "mastercard"
    if n == 15 and number[:2] in ("34", "37"):
        return "amex"
    if n in (16, 19) and (number.startswith("6011") or number.startswith("65")
                          or 644 <= int(number[:3]) <= 649):
        return "discover"
    return None


def aba_ok(routing: str) -> bool:
    """The ABA routing number checksum: 3-7-1 weights over the nine digits sum to a multiple of 10."""
    if len(routing) != 9 or not routing.isdigit():
        return False
    d = [int(c) for c in routing]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


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
