"""Imports that scale (issue 15): a re-import skips records unchanged since their last import (a
keyed fingerprint of the source record), hashing only what is new or changed; progress is
reported, and shown as a bar on a terminal only."""
import io
import json

from voice_agent.cli import main
from voice_agent.cli.progress import ProgressBar
from voice_agent.store import Store

from store_helpers import FAST_HASH_ARGS, account_record, make_settings


def rows(store: Store) -> dict:
    return {r[0]: r[1:] for r in store.db.execute(
        "SELECT number, pin_hash, ssn_hash, updated_at, source_fingerprint, balance_cents"
        " FROM accounts")}


def base() -> list[dict]:
    return [account_record(f"11122233{i}", pin=f"432{i}") for i in range(4)]


def test_unchanged_records_are_skipped_and_changed_ones_rehashed(settings):
    store = Store.open(settings)
    first = store.import_accounts({"accounts": base()})
    assert (first.created, first.updated, first.unchanged) == (4, 0, 0)
    before = rows(store)
    seen = []
    again = store.import_accounts({"accounts": base()}, progress=lambda d, t: seen.append((d, t)))
    assert (again.accounts, again.created, again.updated, again.unchanged) == (4, 0, 0, 4)
    assert rows(store) == before and seen == []            # nothing hashed, nothing written
    changed = base()
    changed[1]["pin"] = "9999"
    changed[2]["balance_cents"] = 777
    third = store.import_accounts({"accounts": changed}, progress=lambda d, t: seen.append((d, t)))
    assert (third.created, third.updated, third.unchanged) == (0, 2, 2)
    assert seen[-1] == (4, 4)                               # PIN + SSN of the two changed only
    after = rows(store)
    assert after["111222330"] == before["111222330"] and after["111222333"] == before["111222333"]
    assert after["111222331"][0] != before["111222331"][0]
    assert after["111222332"][4] == 777
    assert store.verify("111222331", pin="9999").ok and not store.verify("111222331", pin="4321").ok
    assert store.verify("111222333", pin="4323").ok
    events = [json.loads(d) for (d,) in store.db.execute(
        "SELECT details FROM audit_log WHERE event = 'import' ORDER BY seq")]
    assert [(e["created"], e["updated"], e["unchanged"]) for e in events] == \
        [(4, 0, 0), (0, 0, 4), (0, 2, 2)]
    store.close()


def test_the_fingerprint_is_keyed_by_the_pepper(tmp_path):
    prints = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        with Store.open(make_settings(folder)) as store:
            store.import_accounts({"accounts": [account_record("111222333", pin="4321")]})
            prints.append(store.db.execute("SELECT source_fingerprint FROM accounts"
                                           ).fetchone()[0])
    assert prints[0] != prints[1]                           # two peppers, two fingerprints
    assert all(len(p) == 64 and "4321" not in p for p in prints)


def test_db_import_reports_unchanged_records(tmp_path, capsys):
    db = tmp_path / "store.db"
    assert main(["db", "init", "--db", str(db), *FAST_HASH_ARGS]) == 0
    export = tmp_path / "accounts.json"
    export.write_text(json.dumps({"accounts": base()}), encoding="utf-8")
    for _ in range(2):
        assert main(["db", "import", str(export), "--db", str(db), *FAST_HASH_ARGS]) == 0
    out, err = capsys.readouterr()
    assert "(4 new, 0 updated, 0 unchanged)" in out and "(0 new, 0 updated, 4 unchanged)" in out
    assert "\r" not in err                                  # not a terminal: no bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_on_a_terminal_only_for_long_work():
    tty = Terminal()
    bar = ProgressBar("hashing", stream=tty, after=0.0)
    bar(5, 10)
    bar(10, 10)
    bar.close()
    assert "\rhashing [" in tty.getvalue() and "10/10" in tty.getvalue()
    assert tty.getvalue().endswith("\n")
    quick = Terminal()
    bar = ProgressBar("hashing", stream=quick, after=60.0)  # done before it would show
    bar(10, 10)
    bar.close()
    assert quick.getvalue() == ""
    piped = io.StringIO()
    bar = ProgressBar("hashing", stream=piped, after=0.0)
    bar(5, 10)
    bar.close()
    assert piped.getvalue() == ""
