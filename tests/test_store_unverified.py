"""Issue 14 item 1: a number given as an account number is kept only masked with a keyed hash
until it is verified (a card number or a full SSN said at the account prompt must not stay in
the audit log or the failure counts), while lockout still counts per number."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from voice_agent.store import Store

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
CARD = "4012888888881881"
SSN = "123456789"


def _files(settings) -> bytes:
    db = settings.database
    return b"".join(p.read_bytes() for p in db.parent.iterdir()
                    if p.is_file() and p.name.startswith(db.name))


def _stored_numbers(store) -> list[str]:
    rows = store.db.execute(
        "SELECT account_number FROM audit_log WHERE account_number IS NOT NULL"
        " UNION ALL SELECT account_number FROM verification_failures"
        " UNION ALL SELECT account_number FROM lockouts").fetchall()
    return [r[0] for r in rows]


def test_unverified_numbers_are_kept_masked_with_a_keyed_hash(settings):
    store = Store.open(settings)
    store.install_demo()
    for number in (CARD, SSN, CARD):
        assert not store.verify(number, pin="1234", now=T0).ok
    assert store.verify("100200300", pin="4321", now=T0).ok
    stored = _stored_numbers(store)
    assert "100200300" in stored                       # verified: stored as is
    refs = [s for s in stored if s != "100200300"]
    assert refs and all(re.fullmatch(r"\**\d{0,4}#[0-9a-f]{24}", r) for r in refs), refs
    assert store.unverified_number(CARD).startswith("************1881#")
    assert store.unverified_number(SSN).startswith("*********#")     # under 12: nothing kept
    store.close()
    data = _files(settings)
    for secret in (CARD, SSN, CARD[:12], SSN[:5]):
        assert secret.encode() not in data, secret


def test_the_reference_is_keyed_stable_and_per_number(settings, tmp_path):
    store = Store.open(settings)
    assert store.unverified_number(SSN) == store.unverified_number(SSN)
    assert store.unverified_number(SSN) != store.unverified_number("123456788")
    from store_helpers import make_settings
    other = Store.open(make_settings(tmp_path / "other"))        # another pepper
    assert other.unverified_number(SSN) != store.unverified_number(SSN)


def test_lockout_counts_per_unverified_number(store):
    for i in range(4):
        assert not store.verify(CARD, pin="0000", now=T0 + timedelta(minutes=i)).locked
        assert not store.verify(SSN, pin="0000", now=T0 + timedelta(minutes=i)).locked
    assert store.verify(CARD, pin="0000", now=T0 + timedelta(minutes=5)).locked
    assert store.is_locked(CARD, now=T0 + timedelta(minutes=6))
    assert not store.is_locked(SSN, now=T0 + timedelta(minutes=6))
    assert not store.verify(SSN, pin="0000", now=T0 + timedelta(minutes=6)).ok
    assert store.is_locked(SSN, now=T0 + timedelta(minutes=7))
    events = store.db.execute("SELECT account_number FROM audit_log WHERE event = 'lockout'")
    assert [r[0] for r in events] == [store.unverified_number(CARD), store.unverified_number(SSN)]
