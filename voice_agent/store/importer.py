"""Checking an account export from the billing system before anything is written.

The format is the one in issue 2 (``{"accounts": [{...}]}``). ``validate`` refuses the whole file
at the first fault, naming the record (index and account number) and the field; it returns clean
rows ready for the database, secrets still in clear (they are hashed next, then dropped).

Digits are ASCII 0-9 only: a PIN of full-width or other script digits would be stored but could
never be keyed or said. A key given twice in one JSON object (``loads`` keeps the file's pairs)
is refused rather than the last one silently winning.

``fingerprint`` names a clean record by a keyed hash (HMAC-SHA256 under a key derived from the
pepper) of all its fields, secrets included, so a re-import can tell an unchanged record without
hashing its secrets again (accounts.py). Keyed: without the pepper the fingerprint says nothing
of the PIN or SSN digits in it (README, "Import speed and the hashing parameters").
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from voice_agent.store.models import ImportError_

REQUIRED = ("account_number", "name", "zip", "language", "status", "balance_cents",
            "past_due_cents", "due_date")
OPTIONAL = ("service_address", "phone", "pin", "ssn_last4", "charges")
CHARGE_FIELDS = ("id", "date", "description", "amount_cents")

# re.ASCII: \d is 0-9 only (without it, "４３２１" would pass as a PIN).
ACCOUNT_NUMBER = re.compile(r"^\d{6,16}$", re.ASCII)
ZIP = re.compile(r"^\d{5}(-\d{4})?$", re.ASCII)
PIN = re.compile(r"^\d{4,8}$", re.ASCII)
SSN4 = re.compile(r"^\d{4}$", re.ASCII)
LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
PHONE = re.compile(r"^\+?[0-9 ()\-.]{0,20}$")


@dataclass
class CleanAccount:
    number: str
    name: str
    service_address: str
    zip: str
    phone: str
    language: str
    status: str
    balance_cents: int
    past_due_cents: int
    due_date: str
    pin: str | None
    ssn_last4: str | None
    charges: list[dict]


def fingerprint_key(pepper: bytes) -> bytes:
    """The fingerprints' own key, derived from the pepper (never the pepper itself)."""
    return hmac.new(pepper, b"voice_agent import fingerprint", hashlib.sha256).digest()


def fingerprint(account: CleanAccount, key: bytes) -> str:
    """A keyed hash of every field of the record as imported (canonical JSON)."""
    text = json.dumps(asdict(account), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


class _Object(dict):
    """A JSON object that remembers the keys the file gave more than once."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        obj.duplicates = tuple(k for k, _ in pairs if k in seen or seen.add(k))
    return obj


def loads(text: str) -> Any:
    """Parse an export like ``json.loads``, keeping note of duplicate keys for ``validate``."""
    return json.loads(text, object_pairs_hook=_object)


def _twice(obj: Any) -> str | None:
    """The first key ``obj`` was given twice in the file, if any."""
    duplicates = getattr(obj, "duplicates", ())
    return duplicates[0] if duplicates else None


def _is_cents(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _iso_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def validate(data: Any) -> list[CleanAccount]:
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
        raise ImportError_('the file must be a JSON object with an "accounts" list')
    unknown_top = set(data) - {"accounts"}
    if unknown_top:
        raise ImportError_(f"unknown top-level field {sorted(unknown_top)[0]!r}")
    if _twice(data):
        raise ImportError_(f"top-level field {_twice(data)!r} appears twice")
    seen: set[str] = set()
    clean = []
    for index, record in enumerate(data["accounts"]):
        clean.append(_validate_record(index, record, seen))
    return clean


def _validate_record(index: int, rec: Any, seen: set[str]) -> CleanAccount:
    label = f"record {index + 1}"
    if not isinstance(rec, dict):
        raise ImportError_(f"{label}: not an object")
    if isinstance(rec.get("account_number"), str):
        label += f" (account {rec['account_number']})"

    def fail(field: str, problem: str) -> ImportError_:
        # Never echo a secret's value back: only the field name and what is wrong.
        return ImportError_(f"{label}: field {field!r}: {problem}")

    if _twice(rec):
        raise fail(_twice(rec), "given twice in this record (which one is meant?)")
    for field in REQUIRED:
        if field not in rec:
            raise fail(field, "missing")
    for field in rec:
        if field not in REQUIRED and field not in OPTIONAL:
            raise fail(field, "unknown field")
    number = rec["account_number"]
    if not isinstance(number, str) or not ACCOUNT_NUMBER.match(number):
        raise fail("account_number", "must be a string of 6 to 16 digits 0-9")
    if number in seen:
        raise fail("account_number", "appears twice in the file")
    seen.add(number)
    if not isinstance(rec["name"], str) or not rec["name"].strip():
        raise fail("name", "must be non-empty text")
    for field in ("service_address", "phone"):
        if field in rec and not isinstance(rec[field], str):
            raise fail(field, "must be text")
    if not isinstance(rec["zip"], str) or not ZIP.match(rec["zip"]):
        raise fail("zip", "must be a 5-digit ZIP code (or ZIP+4), digits 0-9")
    if "phone" in rec and not PHONE.match(rec["phone"]):
        raise fail("phone", "is not a phone number")
    if not isinstance(rec["language"], str) or not LANG.match(rec["language"]):
        raise fail("language", "must be a language code such as \"en\"")
    if rec["status"] not in ("active", "suspended"):
        raise fail("status", 'must be "active" or "suspended"')
    if not _is_cents(rec["balance_cents"]):
        raise fail("balance_cents", "must be a whole number of cents")
    if not _is_cents(rec["past_due_cents"]) or rec["past_due_cents"] < 0:
        raise fail("past_due_cents", "must be a whole number of cents, 0 or more")
    if not _iso_date(rec["due_date"]):
        raise fail("due_date", "must be a date YYYY-MM-DD")
    pin, ssn = rec.get("pin"), rec.get("ssn_last4")
    if pin is not None and (not isinstance(pin, str) or not PIN.match(pin)):
        raise fail("pin", "must be a string of 4 to 8 digits 0-9")
    if ssn is not None and (not isinstance(ssn, str) or not SSN4.match(ssn)):
        raise fail("ssn_last4", "must be a string of 4 digits 0-9")
    if pin is None and ssn is None:
        raise fail("pin", "an account needs a pin or ssn_last4 (or both)")
    charges = rec.get("charges", [])
    if not isinstance(charges, list):
        raise fail("charges", "must be a list")
    ids: set[str] = set()
    clean_charges = []
    for ci, charge in enumerate(charges):
        where = f"charges[{ci}]"
        if not isinstance(charge, dict):
            raise fail(where, "not an object")
        if _twice(charge):
            raise fail(f"{where}.{_twice(charge)}", "given twice in this charge")
        for field in CHARGE_FIELDS:
            if field not in charge:
                raise fail(f"{where}.{field}", "missing")
        for field in charge:
            if field not in CHARGE_FIELDS:
                raise fail(f"{where}.{field}", "unknown field")
        if not isinstance(charge["id"], str) or not charge["id"].strip():
            raise fail(f"{where}.id", "must be non-empty text")
        if charge["id"] in ids:
            raise fail(f"{where}.id", "appears twice in this account")
        ids.add(charge["id"])
        if not _iso_date(charge["date"]):
            raise fail(f"{where}.date", "must be a date YYYY-MM-DD")
        if not isinstance(charge["description"], str):
            raise fail(f"{where}.description", "must be text")
        if not _is_cents(charge["amount_cents"]):
            raise fail(f"{where}.amount_cents", "must be a whole number of cents")
        clean_charges.append({"charge_id": charge["id"], "date": charge["date"],
                              "description": charge["description"],
                              "amount_cents": charge["amount_cents"]})
    return CleanAccount(
        number=number, name=rec["name"].strip(), service_address=rec.get("service_address", ""),
        zip=rec["zip"], phone=rec.get("phone", ""), language=rec["language"],
        status=rec["status"], balance_cents=rec["balance_cents"],
        past_due_cents=rec["past_due_cents"], due_date=rec["due_date"], pin=pin, ssn_last4=ssn,
        charges=clean_charges)
