"""Caller verification and the lockout policy (which survives a restart)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from voice_agent.store import Store, crypto

from store_helpers import make_settings

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def _events(store, event):
    return store.db.execute("SELECT account_number FROM audit_log WHERE event = ?",
                            [event]).fetchall()


def test_pin_and_zip_ssn(store):
    assert store.verify("100200300", pin="4321", now=T0).ok
    assert store.verify("100200300", pin="4321", zip="29730", now=T0).ok
    assert not store.verify("100200300", pin="4321", zip="10001", now=T0).ok
    assert not store.verify("100200300", pin="4322", now=T0).ok
    assert store.verify("400500600", zip="29715", ssn_last4="3690", now=T0).ok
    assert not store.verify("400500600", zip="29715", ssn_last4="3691", now=T0).ok
    assert not store.verify("400500600", zip="29716", ssn_last4="3690", now=T0).ok
    # No PIN on file: a PIN never verifies; a ZIP alone is not enough.
    assert not store.verify("400500600", pin="3690", now=T0).ok
    assert not store.verify("100200300", zip="29730", now=T0).ok
    assert len(_events(store, "verify_success")) == 3
    assert len(_events(store, "verify_failure")) == 6


def test_unknown_account_costs_one_hash(store, monkeypatch):
    calls = []
    real = crypto.check_secret
    monkeypatch.setattr(crypto, "check_secret", lambda *a: calls.append(1) or real(*a))
    result = store.verify("999999999", pin="4321", now=T0)
    assert not result.ok and not result.locked
    unknown = len(calls)
    calls.clear()
    store.verify("100200300", pin="0000", now=T0)
    assert unknown == len(calls) == 1


def test_lockout_after_max_failures_survives_restart(settings):
    store = Store.open(settings)
    store.install_demo()
    for i in range(4):
        v = store.verify("100200300", pin="0000", now=T0 + timedelta(minutes=i))
        assert not v.ok and not v.locked
    v = store.verify("100200300", pin="0000", now=T0 + timedelta(minutes=4))
    assert v.locked and v.locked_until == T0 + timedelta(minutes=34)
    store.close()

    reopened = Store.open(settings)
    later = T0 + timedelta(minutes=10)
    assert reopened.is_locked("100200300", now=later)
    # Even the right PIN is refused while locked, and says only "locked".
    v = reopened.verify("100200300", pin="4321", now=later)
    assert not v.ok and v.locked
    assert _events(reopened, "lockout") == [(reopened.unverified_number("100200300"),)]
    after = T0 + timedelta(minutes=35)
    assert not reopened.is_locked("100200300", now=after)
    assert reopened.verify("100200300", pin="4321", now=after).ok


def test_failures_outside_window_do_not_count(store):
    for i in range(4):
        store.verify("100200300", pin="0000", now=T0 + timedelta(minutes=i))
    v = store.verify("100200300", pin="0000", now=T0 + timedelta(minutes=45))
    assert not v.locked


def test_success_clears_the_count(store):
    for i in range(4):
        store.verify("100200300", pin="0000", now=T0 + timedelta(minutes=i))
    assert store.verify("100200300", pin="4321", now=T0 + timedelta(minutes=5)).ok
    for i in range(4):
        v = store.verify("100200300", pin="0000", now=T0 + timedelta(minutes=6 + i))
        assert not v.locked


def test_policy_comes_from_settings(tmp_path):
    settings = make_settings(tmp_path, lockout={"max_failures": 2, "lock_minutes": 5})
    store = Store.open(settings)
    store.install_demo()
    store.verify("200300400", pin="1111", now=T0)
    v = store.verify("200300400", pin="1111", now=T0)
    assert v.locked and v.locked_until == T0 + timedelta(minutes=5)


def test_unknown_account_can_lock_too(store):
    """Locking looks the same for unknown numbers: the lock itself reveals nothing."""
    for _ in range(5):
        v = store.verify("123123123", pin="0000", now=T0)
    assert v.locked


def test_attempts_on_a_locked_account_are_audited_without_the_secret(store):
    for i in range(5):
        store.verify("100200300", pin="0000", now=T0 + timedelta(minutes=i))
    call = store.start_call("phone", "en")
    later = T0 + timedelta(minutes=10)
    assert store.verify("100200300", pin="4321", call_id=call, now=later).locked
    assert store.verify("100200300", zip="29730", ssn_last4="6789", now=later).locked
    rows = store.db.execute("SELECT account_number, call_id, details FROM audit_log"
                            " WHERE event = 'verify_locked' ORDER BY seq").fetchall()
    held = store.unverified_number("100200300")              # never the number as said
    assert [(r[0], r[1]) for r in rows] == [(held, call), (held, None)]
    assert [json.loads(r[2])["factor"] for r in rows] == ["pin", "zip+ssn"]
    assert json.loads(rows[0][2])["until"] == (T0 + timedelta(minutes=34)).isoformat()
    everything = "".join(r[2] for r in rows)
    assert "4321" not in everything and "6789" not in everything and "29730" not in everything
    assert store.audit_verify().ok
