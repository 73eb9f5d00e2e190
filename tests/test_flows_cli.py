"""Issue 5 through the command line: an arrangement made in `voice-agent chat`, its later
installment posted by `voice-agent payments run-scheduled` on its date - and only then, once."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from voice_agent.settings import load_settings
from voice_agent.store import Store

CLI = [sys.executable, "-m", "voice_agent"]
# Carlos Rivera (demo): $72.50 past due, PIN 2468, Spanish preferred (declined here).
SCRIPT = ["payment plan", "dtmf:200300400#", "dtmf:2468#", "no", "two payments",
          "bank account", "dtmf:011000015#", "dtmf:12345678#", "yes", "goodbye"]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    done = subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def test_chat_arrangement_then_run_scheduled_posts_installment_on_its_date(tmp_path):
    db = str(tmp_path / "cli.db")
    run("db", "init", "--demo", "--db", db)
    chat = run("chat", "--db", db, "--lang", "en", "--json", stdin="\n".join(SCRIPT) + "\n")
    turns = [json.loads(line) for line in chat.stdout.splitlines()]
    assert turns[-1]["ended"] and turns[-1]["outcome"] == "paid"
    assert any("arrangement is set up" in t["say"] for t in turns)

    store = Store.open(load_settings(env={}, cli={"database": db}))
    try:
        scheduled = store.scheduled_payments("200300400")
        assert [p.amount_cents for p in scheduled] == [3625]
        due = scheduled[0].scheduled_for
        assert store.account("200300400").past_due_cents == 3625
    finally:
        store.close()
    assert due > dt.date.today()

    early = run("payments", "run-scheduled", "--db", db,
                "--today", (due - dt.timedelta(days=1)).isoformat())
    assert "0 scheduled payment(s) posted" in early.stdout
    on_time = run("payments", "run-scheduled", "--db", db, "--today", due.isoformat())
    assert f"posted {scheduled[0].confirmation} 200300400" in on_time.stdout
    assert "1 scheduled payment(s) posted" in on_time.stdout
    again = run("payments", "run-scheduled", "--db", db, "--today", due.isoformat())
    assert "0 scheduled payment(s) posted" in again.stdout

    store = Store.open(load_settings(env={}, cli={"database": db}))
    try:
        assert store.scheduled_payments("200300400") == []
        assert store.active_arrangement("200300400") is None       # completed
        assert store.account("200300400").past_due_cents == 0
        statuses = {p.status for p in store.payments(account="200300400")}
        assert statuses == {"approved"}
    finally:
        store.close()
