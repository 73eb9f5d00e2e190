"""Key files that are not this database's are refused before use, naming the file: a replaced
vault key (it would seal payments that cannot be exported with the rest) or pepper (every
right PIN would fail and count toward lockout). The database records key ids, never keys."""
from __future__ import annotations

import multiprocessing
import os
import secrets
import sqlite3
import time

import pytest

from voice_agent.cli import main
from voice_agent.store import PaymentMethod, Store, StoreError
from voice_agent.store.crypto import secret_file
from voice_agent.store.keys import pepper_check

from store_helpers import CARD


@pytest.fixture
def used(settings):
    """A demo store with a card payment waiting for settlement (a vault entry)."""
    with Store.open(settings) as store:
        store.install_demo()
        store.post_payment("100200300", 2500, 0,
                           PaymentMethod(kind="card", number=CARD, expiry="12/30"), "k-1")
    return settings


def _snapshot(path) -> list:
    conn = sqlite3.connect(path)
    try:
        return [conn.execute(f"SELECT * FROM {t}").fetchall()
                for t in ("payments", "verification_failures", "lockouts", "audit_log")]
    finally:
        conn.close()


@pytest.mark.parametrize("which", ["vault_key_path", "pepper_path"])
def test_a_replaced_key_file_is_refused_naming_it(used, which, capsys):
    path = getattr(used, which)
    before = _snapshot(used.database)
    path.write_bytes(secrets.token_bytes(32))
    with pytest.raises(StoreError, match="not the key this database was made with") as caught:
        Store.open(used)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    assert main(["payments", "list", "--db", str(used.database)]) == 2
    err = capsys.readouterr().err.strip()
    assert str(path) in err and len(err.splitlines()) == 1
    # Nothing was done with the wrong key: no payment, no failure counted, no audit entry.
    assert _snapshot(used.database) == before


def test_the_right_keys_still_open_and_work(used):
    with Store.open(used) as store:
        assert store.verify("100200300", pin="4321").ok


def test_the_database_records_ids_not_keys(used):
    with Store.open(used) as store:
        recorded = dict(store.db.execute("SELECT name, value FROM key_checks").fetchall())
        assert recorded == {"vault_key_id": store.vault.key_id,
                            "pepper_check": pepper_check(store.hasher.pepper)}
        # Every vault entry names the key that sealed it.
        assert {r[0] for r in store.db.execute("SELECT key_id FROM vault")} == {store.vault.key_id}
        assert store.db.execute("SELECT COUNT(*) FROM vault").fetchone()[0] == 2
    dump = "\n".join(sqlite3.connect(used.database).iterdump()).lower()
    for path in (used.vault_key_path, used.pepper_path):
        assert path.read_bytes().hex() not in dump


def test_a_vault_entry_sealed_by_another_key_is_named_at_export(used, tmp_path):
    with Store.open(used) as store:
        store.db.execute("UPDATE vault SET key_id = 'feedfeedfeedfeed' WHERE saved = 0")
        store.db.conn.commit()
        with pytest.raises(ValueError, match=f"sealed with key feedfeedfeedfeed.*"
                                             f"{used.vault_key_path}"):
            store.settlement_export(tmp_path / "batch.bin")
        assert not (tmp_path / "batch.bin").exists()


def _forget_ids(settings) -> None:
    """The state of a database made before key ids existed, just migrated."""
    conn = sqlite3.connect(settings.database)
    conn.execute("DELETE FROM key_checks")
    conn.execute("UPDATE vault SET key_id = NULL")
    conn.commit()
    conn.close()


def test_an_older_database_gets_its_ids_on_first_open(used):
    _forget_ids(used)
    with Store.open(used) as store:
        assert store.db.execute("SELECT COUNT(*) FROM key_checks").fetchone()[0] == 2
        assert store.db.execute("SELECT COUNT(*) FROM vault WHERE key_id IS NULL"
                                ).fetchone()[0] == 0
    used.vault_key_path.write_bytes(secrets.token_bytes(32))
    with pytest.raises(StoreError, match="vault key"):
        Store.open(used)


@pytest.mark.parametrize("which, proof", [("vault_key_path", "vault entries"),
                                          ("pepper_path", "audit checkpoint")])
def test_an_older_database_with_a_wrong_key_is_refused_not_recorded(used, which, proof):
    """Before recording, the key files are checked against the data: vault entries must
    decrypt, the audit checkpoint's signature must verify."""
    _forget_ids(used)
    getattr(used, which).write_bytes(secrets.token_bytes(32))
    with pytest.raises(StoreError, match=proof):
        Store.open(used)
    conn = sqlite3.connect(used.database)
    assert conn.execute("SELECT COUNT(*) FROM key_checks").fetchone()[0] == 0


def _make_key(args) -> str:
    path, go = args
    while not os.path.exists(go):
        pass
    try:
        return secret_file(path).hex()
    except ValueError:                           # read before its maker wrote it
        return "damaged"


def test_processes_making_a_key_file_at_once_all_get_the_same_whole_key(tmp_path):
    """Found by the two-process migration test: a second process could read the new key file
    empty (between the first one's create and write) and refuse it as damaged."""
    with multiprocessing.get_context("fork").Pool(4) as pool:
        for i in range(60):
            path, go = tmp_path / f"key{i}", tmp_path / f"go{i}"
            pending = pool.map_async(_make_key, [(path, go)] * 4)
            time.sleep(0.005)
            go.touch()
            keys = pending.get(timeout=60)
            assert len(set(keys)) == 1 and keys[0] == path.read_bytes().hex(), keys
    assert not list(tmp_path.glob(".*.tmp"))
