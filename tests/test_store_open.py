"""Which databases the product opens: only `db init` creates one; a missing database, an empty
file or a newer schema is refused with one line naming the path (issue 14, item 8)."""
from __future__ import annotations

import sqlite3

import pytest

from voice_agent.cli import main
from voice_agent.store import Store, StoreError, migrations

from store_helpers import FAST_HASH_ARGS, make_settings

READ_COMMANDS = [
    ["payments", "list"], ["payments", "list", "--json"], ["payments", "run-scheduled"],
    ["audit", "verify"], ["calls", "list"], ["calls", "show", "1"],
    ["settlement", "export", "--out", "batch.bin"],
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_mistyped_db_is_refused_and_nothing_is_created(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    typo = tmp_path / "typo" / "agent.db"
    assert main([*command, "--db", str(typo), *FAST_HASH_ARGS]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"voice-agent: no database at {typo}; create it with `voice-agent db init --db {typo}`"
    assert sorted(p.name for p in tmp_path.rglob("*")) == []      # no database, key, log or folder


def test_db_import_needs_an_existing_database(tmp_path, capsys):
    accounts = tmp_path / "accounts.json"
    accounts.write_text('{"accounts": []}')
    typo = tmp_path / "typo.db"
    assert main(["db", "import", str(accounts), "--db", str(typo), *FAST_HASH_ARGS]) == 2
    assert f"no database at {typo}" in capsys.readouterr().err
    assert not typo.exists()
    assert main(["db", "init", "--db", str(typo), *FAST_HASH_ARGS]) == 0
    assert main(["db", "import", str(accounts), "--db", str(typo), *FAST_HASH_ARGS]) == 0


def test_chat_refuses_a_missing_database(tmp_path, capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("pay my bill\n"))
    typo = tmp_path / "typo.db"
    assert main(["chat", "--db", str(typo), "--lang", "en", *FAST_HASH_ARGS]) == 2
    out = capsys.readouterr()
    assert out.out == "" and f"no database at {typo}" in out.err
    assert list(tmp_path.iterdir()) == []


def test_an_empty_file_is_not_taken_for_a_database(tmp_path, capsys):
    empty = tmp_path / "empty.db"
    empty.touch()
    assert main(["payments", "list", "--db", str(empty), *FAST_HASH_ARGS]) == 2
    assert "holds no voice_agent data" in capsys.readouterr().err
    assert not (tmp_path / "empty.db.pepper").exists()
    assert not (tmp_path / "empty.db.vault-key").exists()


def test_a_newer_schema_is_refused_not_used(tmp_path, capsys):
    settings = make_settings(tmp_path)
    Store.open(settings).close()
    with sqlite3.connect(settings.database) as conn:    # what a later version would have added
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
                     " VALUES ('voice_agent.store', 'm999_from_the_future', '2030-01-01')")
    with pytest.raises(StoreError, match="newer schema.*m999_from_the_future"):
        Store.open(settings)
    db = str(settings.database)
    assert main(["payments", "list", "--db", db, *FAST_HASH_ARGS]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and db in err and "newer version of voice_agent" in err
    assert main(["db", "init", "--db", db, *FAST_HASH_ARGS]) == 2    # not even migrated
    with sqlite3.connect(settings.database) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert names == [*migrations.known(), "m999_from_the_future"]
