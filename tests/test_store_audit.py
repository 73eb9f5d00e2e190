"""The audit chain: `audit verify` names the first changed, deleted or reordered entry, and a
deleted tail is caught through the checkpoint file."""
from __future__ import annotations

import sqlite3

import pytest

from voice_agent.cli import main
from voice_agent.store import PaymentMethod, Store

from store_helpers import BANK_ARGS


@pytest.fixture
def db_path(settings):
    store = Store.open(settings)
    store.install_demo()
    bank = PaymentMethod(**BANK_ARGS)
    for i in range(3):
        store.post_payment("200300400", 1000 + i, 0, bank, f"a-{i}")
    store.open_dispute("300400500", "c3", "unknown calls")
    store.request_callback("+18035550100", "evening")
    n = store.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    assert n == 7
    store.close()
    return settings.database


def _tamper(path, *sql):
    """What an attacker with the file can do: drop the guards, then edit."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _verify(settings):
    store = Store.open(settings)
    try:
        return store.audit_verify()
    finally:
        store.close()


def test_intact_chain(settings, db_path, capsys):
    report = _verify(settings)
    assert report.ok and report.first_bad is None and report.entries == 7
    assert main(["audit", "verify", "--db", str(db_path)]) == 0
    assert "intact" in capsys.readouterr().out


def test_the_database_refuses_edits(settings, db_path):
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_log SET details = '{}' WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_log WHERE seq = 2")


def test_changed_entry(settings, db_path, capsys):
    _tamper(db_path, "UPDATE audit_log SET details = replace(details, '1001', '9001')"
                     " WHERE seq = 4")
    report = _verify(settings)
    assert not report.ok and report.first_bad == 4 and "changed" in report.message
    assert main(["audit", "verify", "--db", str(db_path)]) == 1
    assert "first broken entry: 4" in capsys.readouterr().err


def test_deleted_entry(settings, db_path):
    _tamper(db_path, "DELETE FROM audit_log WHERE seq = 3")
    report = _verify(settings)
    assert not report.ok and report.first_bad == 3


def test_deleted_and_renumbered(settings, db_path):
    _tamper(db_path, "DELETE FROM audit_log WHERE seq = 3",
            "UPDATE audit_log SET seq = seq - 1 WHERE seq > 3")
    report = _verify(settings)
    assert not report.ok and report.first_bad == 3


def test_reordered_entries(settings, db_path):
    # Swap the contents of entries 3 and 4 (each keeps its own hashes: a copy of real rows).
    _tamper(db_path,
            "UPDATE audit_log SET seq = -3 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = 4",
            "UPDATE audit_log SET seq = 4 WHERE seq = -3")
    report = _verify(settings)
    assert not report.ok and report.first_bad == 3


def test_deleted_tail(settings, db_path, capsys):
    n = sqlite3.connect(db_path).execute("SELECT MAX(seq) FROM audit_log").fetchone()[0]
    _tamper(db_path, f"DELETE FROM audit_log WHERE seq >= {n - 1}")
    report = _verify(settings)
    assert not report.ok and report.first_bad == n - 1 and "deleted" in report.message
    assert main(["audit", "verify", "--db", str(db_path)]) == 1
    assert f"first broken entry: {n - 1}" in capsys.readouterr().err


def test_missing_checkpoint(settings, db_path):
    settings.audit_checkpoint_path.unlink()
    report = _verify(settings)
    assert not report.ok and "missing" in report.message


def test_checkpoint_tracks_every_commit(settings, db_path):
    store = Store.open(settings)
    seq, digest = store.audit.read_checkpoint()
    last = store.db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    assert (seq, digest) == tuple(last)


def test_forged_checkpoint(settings, db_path):
    """Cutting the tail and rewriting the checkpoint to match needs the pepper."""
    import json
    conn = sqlite3.connect(db_path)
    n = conn.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0]
    prev = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", [n - 1]).fetchone()[0]
    conn.close()
    _tamper(db_path, f"DELETE FROM audit_log WHERE seq = {n}")
    settings.audit_checkpoint_path.write_text(json.dumps({"seq": n - 1, "hash": prev,
                                                          "mac": "0" * 64}))
    report = _verify(settings)
    assert not report.ok and "rewritten" in report.message
    # New entries do not overwrite the evidence.
    store = Store.open(settings)
    store.request_callback("+18035550100", "morning")
    assert not store.audit_verify().ok


def test_deleted_checkpoint_is_not_recreated(settings, db_path):
    settings.audit_checkpoint_path.unlink()
    store = Store.open(settings)
    store.request_callback("+18035550100", "morning")
    assert not settings.audit_checkpoint_path.exists()
    assert not store.audit_verify().ok


def test_cut_tail_refilled_by_later_use_stays_caught(settings, db_path, capsys):
    """The issue's experiment: cut the tail, then use the store until the log is longer than the
    checkpoint. The checkpoint must not move past the cut (it no longer leads there)."""
    n = sqlite3.connect(db_path).execute("SELECT MAX(seq) FROM audit_log").fetchone()[0]
    _tamper(db_path, f"DELETE FROM audit_log WHERE seq >= {n - 2}")
    for _ in range(6):                          # refills n-2..n and goes 3 entries beyond
        assert main(["payments", "list", "--db", str(db_path)]) == 0
    capsys.readouterr()
    assert sqlite3.connect(db_path).execute("SELECT MAX(seq) FROM audit_log").fetchone()[0] > n
    report = _verify(settings)
    assert not report.ok and report.first_bad == n
    assert main(["audit", "verify", "--db", str(db_path)]) == 1
    assert f"entry {n} does not match the checkpoint" in capsys.readouterr().err


def test_the_checkpoint_follows_the_chain_after_a_valid_append(settings, db_path):
    store = Store.open(settings)
    store.request_callback("+18035550100", "morning")
    assert store.audit.read_checkpoint() == store.audit.head(store.db)
    assert store.audit_verify().ok
    store.close()


def test_an_emptied_log_is_refused_while_accounts_exist(settings, db_path):
    _tamper(db_path, "DELETE FROM audit_log")
    settings.audit_checkpoint_path.unlink()
    report = _verify(settings)
    assert not report.ok and "audit log is empty" in report.message and "4 accounts" in report.message
    # Use after the wipe does not start a new checkpoint that would make it look fresh.
    store = Store.open(settings)
    store.payments(reader="staff")
    assert not settings.audit_checkpoint_path.exists()
    assert not store.audit_verify().ok
    store.close()


def test_a_new_store_starts_its_checkpoint(settings):
    store = Store.open(settings)
    assert store.audit.read_checkpoint() == (0, "0" * 64)
    report = store.audit_verify()
    assert report.ok and report.newest_seq == 0
    store.install_demo()
    assert store.audit.read_checkpoint() == store.audit.head(store.db)
    store.close()


def test_audit_verify_prints_the_newest_hash(settings, db_path, capsys):
    seq, digest = sqlite3.connect(db_path).execute(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    assert main(["audit", "verify", "--db", str(db_path)]) == 0
    assert f"newest entry: {seq} {digest}" in capsys.readouterr().out.splitlines()


def test_every_settlement_file_carries_the_audit_head(settings, db_path, tmp_path):
    from voice_agent.store.settlement import read_settlement
    store = Store.open(settings)
    head = store.audit.head(store.db)
    assert store.settlement_export(tmp_path / "b1.bin") == 3
    assert store.settlement_export(tmp_path / "b2.bin") == 0
    store.close()
    b1 = read_settlement(tmp_path / "b1.bin", settings.vault_key_path)
    b2 = read_settlement(tmp_path / "b2.bin", settings.vault_key_path)
    assert (b1["audit_seq"], b1["audit_hash"]) == head
    # The second batch names the first export's entry: each file pins the log up to itself.
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT event, hash FROM audit_log WHERE seq = ?",
                        [b2["audit_seq"]]).fetchone() == ("settlement_export", b2["audit_hash"])


def test_a_recorded_hash_catches_a_rewrite_by_someone_with_the_pepper(settings, db_path, capsys):
    """Someone holding the pepper can rewrite the log and re-sign the checkpoint: the chain and
    checkpoint agree again, but not with the hash staff wrote down outside the machine."""
    from voice_agent.store.audit import entry_hash
    db = str(db_path)
    assert main(["audit", "verify", "--db", db]) == 0
    book = capsys.readouterr().out.splitlines()[-1].removeprefix("newest entry: ")
    number = int(book.split()[0])
    assert main(["audit", "verify", "--db", db, "--recorded", book.replace(" ", ":")]) == 0
    assert f"entry {number} matches the recorded hash" in capsys.readouterr().out
    _tamper(db, "UPDATE audit_log SET details = replace(details, '1001', '9001') WHERE seq = 4")
    conn = sqlite3.connect(db)
    prev = conn.execute("SELECT hash FROM audit_log WHERE seq = 3").fetchone()[0]
    for seq, at, event, acc, call, details in conn.execute(
            "SELECT seq, at, event, account_number, call_id, details FROM audit_log"
            " WHERE seq >= 4 ORDER BY seq").fetchall():
        prev = entry_hash(prev, seq, at, event, acc, call, details)
        conn.execute("UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq ="
                     " ?), hash = ? WHERE seq = ?", [seq - 1, prev, seq])
    conn.commit()
    conn.close()
    with Store.open(settings) as store:
        store.audit.checkpoint_path.unlink()
        store.audit._write_checkpoint(number, prev, create=True)
    assert main(["audit", "verify", "--db", db]) == 0           # the chain alone looks intact
    capsys.readouterr()
    assert main(["audit", "verify", "--db", db, "--recorded", book.replace(" ", ":")]) == 1
    assert "does not have the hash recorded outside the machine" in capsys.readouterr().err
    assert main(["audit", "verify", "--db", db, "--recorded", "12:abc"]) == 2
