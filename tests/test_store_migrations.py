"""Migrations apply once, in order, and reopening (or two openers at once) changes nothing."""
from __future__ import annotations

from voice_agent.store import Store, migrations

from store_helpers import FAST_HASH, make_settings, run_together


def _schema(store: Store) -> list[tuple]:
    return store.db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()


def test_open_twice_is_idempotent(settings):
    first = Store.open(settings)
    schema = _schema(first)
    applied = [m.name for m in migrations.MIGRATIONS.applied(first.db)]
    first.close()
    assert applied == [m.name for m in migrations.MIGRATIONS._migrations]
    second = Store.open(settings)
    assert _schema(second) == schema
    assert [m.name for m in migrations.MIGRATIONS.applied(second.db)] == applied
    assert migrations.apply(second.db) == []
    second.close()


def test_pragmas(settings):
    store = Store.open(settings)
    db = store.db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2      # FULL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    store.close()


def test_two_processes_create_the_same_fresh_database(tmp_path):
    db = tmp_path / "fresh.db"
    script = (
        "from voice_agent.settings import load_settings\n"
        "from voice_agent.store import Store, migrations\n"
        f"s = load_settings(env={{}}).with_overrides(database={str(db)!r},"
        f" password_hash={FAST_HASH!r})\n"
        "wait_go()\n"
        "st = Store.open(s)\n"
        "print(len(migrations.MIGRATIONS.applied(st.db)))\n"
    )
    outs = run_together(tmp_path, script)
    every = str(len(migrations.MIGRATIONS._migrations))
    assert [o.split()[-1] for o in outs] == [every, every]
    store = Store.open(make_settings(tmp_path, database=str(db)))
    rows = store.db.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0]
    assert rows == len(migrations.MIGRATIONS._migrations)
