"""Call records and transcripts: redaction, the `calls list` / `calls show` commands, and calls
left open by a process that died (closed as `interrupted` on the next start)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

from voice_agent.cli import main
from voice_agent.redact import mask_caller_turn, mask_card_numbers
from voice_agent.store import Store

from store_helpers import CARD, FAST_HASH


def test_turns_in_order_with_redaction(store):
    call = store.start_call("phone", "es", caller_id="+18035550142")
    store.add_turn(call, "agent", "¿Cuál es su PIN?", expecting="pin")
    store.add_turn(call, "caller", "2468", expecting="pin", confidence=0.92, redact=True)
    # What the dialogue gives the store: the caller's turn masked (voice_agent.redact).
    store.add_turn(call, "caller", mask_caller_turn("mi cuenta es 200300400", "es"))
    store.end_call(call, "verified", account_number="200300400", summary="verified")
    record = store.call(call)
    assert [t["text"] for t in record["turns"]] == [     # 4+ digits in a caller turn: masked
        "¿Cuál es su PIN?", "[redacted]", "mi cuenta es *********"]
    assert record["turns"][1]["redacted"] == 1 and record["turns"][1]["confidence"] == 0.92
    assert record["outcome"] == "verified" and record["account_number"] == "200300400"
    assert store.db.execute("SELECT COUNT(*) FROM turns WHERE text LIKE '%2468%'"
                            ).fetchone()[0] == 0
    assert store.call(9999) is None
    assert [t["text"] for t in store.calls()[0]["turns"]] == [t["text"] for t in record["turns"]]


def test_card_numbers_masked_even_unflagged():
    assert mask_card_numbers(f"card {CARD} thanks") == "card [card ending 1111] thanks"
    assert mask_card_numbers("4111-1111-1111-1111") == "[card ending 1111]"
    # Not a card (fails Luhn) and short numbers stay: account numbers are not secrets.
    assert mask_card_numbers("4111111111111112") == "4111111111111112"
    assert mask_card_numbers("100200300") == "100200300"


def test_calls_cli(settings, capsys):
    store = Store.open(settings)
    call = store.start_call("text", "en")
    store.add_turn(call, "agent", "Welcome", expecting="menu")
    store.add_turn(call, "caller", "4321", redact=True)
    store.end_call(call, "hangup")
    store.close()
    db = str(settings.database)
    assert main(["calls", "list", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "hangup" in out and "text" in out
    assert main(["calls", "show", str(call), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "agent: Welcome" in out and "caller: [redacted]" in out and "4321" not in out
    assert main(["calls", "show", str(call), "--db", db, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["turns"]) == 2
    assert main(["calls", "show", "77", "--db", db]) == 1
    assert "no call 77" in capsys.readouterr().err


def _open_call_in_child(settings, then: str) -> subprocess.Popen:
    """A process that opens the database, starts a call, prints its id, then runs ``then``."""
    script = ("import sys, time\n"
              "from voice_agent.settings import load_settings\n"
              "from voice_agent.store import Store\n"
              f"s = load_settings(env={{}}).with_overrides(database={str(settings.database)!r},"
              f" password_hash={FAST_HASH!r})\n"
              "store = Store.open(s)\n"
              "print(store.start_call('phone', 'en'), flush=True)\n" + then)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)


def _outcome(settings, call_id):
    with Store.open(settings) as store:
        record = store.call(call_id)
    return record["outcome"], record["ended_at"] is not None


def test_a_call_killed_mid_way_is_closed_as_interrupted_on_the_next_start(settings):
    Store.open(settings).close()
    child = _open_call_in_child(settings, "time.sleep(600)\n")
    call_id = int(child.stdout.readline())
    try:
        # Another process sharing the database (a second `serve`) leaves a live call alone.
        assert _outcome(settings, call_id) == (None, False)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert _outcome(settings, call_id) == ("interrupted", True)


def test_call_records_do_not_show_their_owner(settings, capsys):
    with Store.open(settings) as store:
        store.start_call("text", "en")
    assert main(["calls", "list", "--db", str(settings.database), "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {
        "id", "channel", "lang", "languages", "caller_id", "started_at", "ended_at", "outcome",
        "account_number", "summary", "turns"}


def test_own_and_other_hosts_calls_are_left_open(store, settings):
    mine = store.start_call("text", "en")
    elsewhere = store.start_call("text", "en")
    store.db.execute("UPDATE calls SET owner_host = 'another-host', owner_pid = 1 WHERE id = ?",
                     [elsewhere])
    store.db.conn.commit()
    assert store.close_abandoned_calls() == []
    with Store.open(settings) as second:          # a second Store in this same process
        assert second.call(mine)["outcome"] is None
        assert second.call(elsewhere)["outcome"] is None


def test_a_reused_pid_does_not_keep_a_call_open(store):
    """The owner's pid now names another process (this one, started at another time)."""
    call_id = store.start_call("text", "en")
    owner_start = store.db.execute("SELECT owner_start FROM calls WHERE id = ?",
                                   [call_id]).fetchone()[0]
    assert owner_start, "this test needs /proc"
    boot, _, ticks = owner_start.partition(":")
    store.db.execute("UPDATE calls SET owner_start = ? WHERE id = ?",
                     [f"{boot}:{int(ticks) - 1}", call_id])
    store.db.conn.commit()
    assert store.close_abandoned_calls() == [call_id]
    assert store.call(call_id)["outcome"] == "interrupted"


def test_calls_from_before_owners_were_recorded_close_after_a_day(store):
    old, recent = store.start_call("text", "en"), store.start_call("text", "en")
    store.db.execute("UPDATE calls SET owner_host = NULL, owner_pid = NULL, owner_start = NULL")
    store.db.execute("UPDATE calls SET started_at = '2020-01-01T00:00:00+00:00' WHERE id = ?",
                     [old])
    store.db.conn.commit()
    assert store.close_abandoned_calls() == [old]
    assert store.call(recent)["outcome"] is None
