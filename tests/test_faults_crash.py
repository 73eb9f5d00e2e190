"""SIGKILL during payments: what was confirmed survives, nothing posts twice, the audit holds.

The harness is scripts/soak.py (``crash``); here a reduced run (the soak runs hundreds of kills).
"""
from __future__ import annotations

import pytest

from fault_helpers import load_script, scaled

soak = load_script("soak")


@pytest.mark.slow
def test_payments_survive_sigkill_at_random_moments(tmp_path):
    kills = scaled(20, 150)
    report = soak.crash_test(tmp_path, kills=kills, seed=7)
    # The kills really landed while payments were in flight, and payments were confirmed.
    assert report["killed_mid_payment"] >= kills // 2
    assert report["confirmed"] > kills
    # Some kills landed after a commit and before the reply: the retry found it, posted nothing.
    assert report["killed_after_commit_before_reply"] >= 1
    assert report["stored"] == report["confirmed"] + report["committed_unconfirmed"]


def test_the_checks_catch_a_lost_and_a_doubled_payment(tmp_path):
    """The invariants would fail on real damage (so a passing crash test means something)."""
    import sqlite3
    config = soak.prepare(tmp_path)
    with soak.open_store(config) as store:
        for i in range(3):
            store.post_payment(soak.ACCOUNT, 500, 0, soak.method_for(i), f"k-{i}")
    soak.check_database(config)                              # intact: passes
    conn = sqlite3.connect(str(tmp_path / "soak.db"))
    conn.execute("UPDATE accounts SET balance_cents = balance_cents + 500")   # a lost write
    conn.commit()
    with pytest.raises(soak.Violation, match="balance"):
        soak.check_database(config)
    conn.execute("UPDATE accounts SET balance_cents = balance_cents - 500")
    # A payment posted twice under a second key, balance moved, but no audit entry for it.
    conn.execute("INSERT INTO payments (confirmation, idempotency_key, account_number, amount_cents,"
                 " fee_cents, method, last4, token, status, created_at)"
                 " SELECT 'ZZZZZZZZ', 'k-0-again', account_number, amount_cents, fee_cents, method,"
                 " last4, token, status, created_at FROM payments WHERE idempotency_key = 'k-0'")
    conn.execute("UPDATE accounts SET balance_cents = balance_cents - 500")
    conn.commit()
    conn.close()
    with pytest.raises(soak.Violation, match="audit"):
        soak.check_database(config)
