"""How a number the caller gave as an account number is kept before it is verified.

Until verification succeeds the number is only a claim, and callers say the wrong thing at the
account prompt (a card number, a full SSN): failures, locks and their audit entries must not
keep it as said, in a log that cannot be purged without breaking the audit chain. They keep a
reference instead: the number's digits masked by the one masking rule (``redact.masked``: a
12+ digit number keeps its last four, anything shorter nothing) and a keyed hash (HMAC-SHA256
under a key derived from the store's pepper). The same number always gives the same reference,
so lockout still counts per number, while the database alone does not reveal the number (the
pepper lives outside it). Only a verified account number is stored as is.
"""
from __future__ import annotations

import hashlib
import hmac

from voice_agent.redact import masked

KEY_LABEL = b"voice_agent unverified account number"
DIGEST_HEX = 24         # 96 bits: no two numbers of one store share a reference in practice
SEPARATOR = "#"


def ref_key(pepper: bytes) -> bytes:
    """The hashing key, derived from the pepper (one key file, a key per purpose)."""
    return hmac.new(pepper, KEY_LABEL, hashlib.sha256).digest()


def unverified_ref(number: str, key: bytes) -> str:
    """``number`` as an unverified number is stored and shown: "*********#<keyed hash>"."""
    digits = "".join(ch for ch in number if ch.isdigit())
    digest = hmac.new(key, number.encode("utf-8"), hashlib.sha256).hexdigest()[:DIGEST_HEX]
    return f"{masked(digits)}{SEPARATOR}{digest}"
