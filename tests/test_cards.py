"""Card and bank checks (voice_agent.cards): Luhn, the card network by prefix and length, ABA.

The numbers are the networks' published test numbers where they exist; the others were made
Luhn-valid by hand so that only the prefix or the length decides.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from voice_agent.cards import aba_ok, card_brand, luhn_ok


@pytest.mark.parametrize("number, brand", [
    ("4111111111111111", "visa"), ("4012888888881881", "visa"),
    ("4222222222222", "visa"),                      # 13 digits
    ("4111111111111111110", "visa"),                # 19 digits
    ("5555555555554444", "mastercard"), ("5105105105105100", "mastercard"),
    ("2223003122003222", "mastercard"),             # the 2-series
    ("2221000000000009", "mastercard"), ("2720999999999996", "mastercard"),   # its ends
    ("378282246310005", "amex"), ("371449635398431", "amex"),
    ("6011111111111117", "discover"), ("6011000990139424", "discover"),
    ("6445644564456445", "discover"), ("6430000000000007", None),            # 644-649 only
    ("6490000000000004", "discover"), ("6500000000000002", "discover"),
    ("650000000000000002", "discover"),             # Discover issues 16 to 19 digits
    ("6011000000000000001", "discover"),
    # Luhn-valid but of a network we do not accept, or outside the published ranges.
    ("3530111333300000", None),                     # JCB
    ("30569309025904", None),                       # Diners Club
    ("6200000000000005", None),                     # UnionPay
    ("9000000000000001", None),
    ("2721000000000004", None), ("2220999999999991", None),
    # A network's prefix with a length it does not issue.
    ("411111111117", None), ("41111111111111113", None),    # Visa: 12 and 17 digits
    ("5555555555554", None),                                # Mastercard: 13
    ("3782822463105", None),                                # Amex: 13
    ("60110000000004", None),                               # Discover: 14
    ("", None), ("4111 1111 1111 1111", None), ("4111-1111", None),
])
def test_card_brand_by_published_prefix_and_length(number, brand):
    assert card_brand(number) == brand


@pytest.mark.parametrize("number", [
    "4111111111111111", "5555555555554444", "378282246310005", "6011111111111117",
    "4222222222222", "3530111333300000", "0",
])
def test_luhn_accepts_valid_numbers(number):
    assert luhn_ok(number)


@pytest.mark.parametrize("number", [
    "4111111111111112", "5555555555554445", "378282246310006", "6011111111111118",
    "41111111111111114",
    "", "4111 1111 1111 1111", "4111-1111-1111-1111", "abcd", "411111111111111x",
])
def test_luhn_refuses_bad_checksums_and_non_digits(number):
    assert not luhn_ok(number)


@pytest.mark.parametrize("routing, ok", [
    ("011000015", True),          # Federal Reserve Bank of Boston (the demo's test number)
    ("021000021", True),          # JPMorgan Chase
    ("026009593", True), ("121000358", True), ("322271627", True),
    ("011000016", False), ("021000022", False),     # checksum off by one
    ("01100001", False), ("0110000150", False),     # eight and ten digits
    ("01100001a", False), ("", False), ("011 000 015", False),
])
def test_aba_routing_checksum(routing, ok):
    assert aba_ok(routing) is ok


def test_cards_is_a_leaf_module():
    """It imports nothing of voice_agent, so the store and the dialogue can both use it."""
    code = ("import sys, voice_agent.cards; "
            "print(sorted(m for m in sys.modules if m.startswith('voice_agent.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['voice_agent.cards']"
