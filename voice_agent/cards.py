"""Card and bank number checks: the Luhn checksum, the card network, the ABA routing checksum.

A leaf module (standard library only, nothing from voice_agent), so the dialogue's validators,
the store's payment checks and the masking rules all use the same answers without pulling each
other in. Every function takes a string of digits and never raises: anything else is simply
not valid.

Card networks are recognised by the prefixes *and* lengths their networks publish (only the
networks we accept; anything else is ``None``):

=========== ========================================= ===========
Network     Prefixes (IIN ranges)                     Lengths
=========== ========================================= ===========
Visa        4                                         13, 16, 19
Mastercard  51-55, 2221-2720                          16
Amex        34, 37                                    15
Discover    6011, 644-649, 65                         16-19
=========== ========================================= ===========
"""
from __future__ import annotations

# (network, lengths, prefix ranges as (low, high) over the same number of leading digits)
NETWORKS: tuple[tuple[str, frozenset[int], tuple[tuple[str, str], ...]], ...] = (
    ("visa", frozenset({13, 16, 19}), (("4", "4"),)),
    ("mastercard", frozenset({16}), (("51", "55"), ("2221", "2720"))),
    ("amex", frozenset({15}), (("34", "34"), ("37", "37"))),
    ("discover", frozenset({16, 17, 18, 19}), (("6011", "6011"), ("644", "649"), ("65", "65"))),
)
ROUTING_WEIGHTS = (3, 7, 1) * 3


def luhn_ok(number: str) -> bool:
    """The Luhn checksum every payment card number carries (False for empty or non-digits)."""
    if not number.isdecimal():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(number: str) -> str | None:
    """The accepted card network of a card number ("visa", "mastercard", "amex", "discover")
    from its prefix and length, or None when it belongs to none of them."""
    if not number.isdecimal():
        return None
    for brand, lengths, ranges in NETWORKS:
        if len(number) in lengths and any(low <= number[:len(low)] <= high
                                          for low, high in ranges):
            return brand
    return None


def aba_ok(routing: str) -> bool:
    """The ABA routing number checksum: nine digits whose 3-7-1 weighted sum is a multiple
    of 10."""
    if len(routing) != 9 or not routing.isdecimal():
        return False
    return sum(int(d) * w for d, w in zip(routing, ROUTING_WEIGHTS)) % 10 == 0
