#!/usr/bin/env python3
"""Crash and concurrency soak for the store: SIGKILL during payments, several writers at once.

    python scripts/soak.py crash [--kills 300] [--seed N] [--dir DIR]
    python scripts/soak.py concurrency [--workers 4] [--ops 60] [--rounds 10]

``crash``: a child process posts payments (each printed ``try KEY AMOUNT`` before and ``ok KEY
CONFIRMATION ...`` after the store returned) and is killed with SIGKILL at a random moment, over
and over. Every next child first retries the last key the previous one tried (it may or may not
have committed) and replays one key that was confirmed. Afterwards: every confirmation that was
printed is in the database with its key and amount, no key posted twice, the balance equals the
opening balance minus the approved payments, every posted payment has exactly one audit entry,
`voice-agent audit verify` passes and ``PRAGMA integrity_check`` is ok.

``concurrency``: several processes released at the same moment pay, schedule, cancel, dispute and
run the scheduled payments on one account; the same checks, plus each scheduled payment posted at
most once and one open dispute per charge.

The tests (tests/test_faults_crash.py, tests/test_concurrency_store.py) import this module and
run short variants; this script runs the long ones. Prints the figures; exits 1 on a violation.
"""
from __future__ import annotations

import argparse
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNT = "900100200"
OPENING_BALANCE = 50_000_000          # cents; large so no limit or zero balance interferes
CHARGES = (("c1", 4200), ("c2", 1999), ("c3", 7350))
CARD = "4111111111111111"
BANK = ("011000015", "123456789")      # routing (ABA checksum ok), account

CONFIG = """\
database = {db}
password_hash = {{ n = 256, r = 8, p = 1 }}
[payment_limits]
min_cents = 100
max_cents = 100000
max_per_day_cents = 1000000000000
[schedule]
max_days_ahead = 60
"""


class Violation(AssertionError):
    """A broken promise about money: lost, doubled or unverifiable."""


# --- setup ----------------------------------------------------------------------------------

def prepare(workdir: Path) -> Path:
    """A database with the soak account; returns the settings file every process uses."""
    from voice_agent.settings import load_settings
    from voice_agent.store import Store
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "soak.toml"
    config.write_text(CONFIG.format(db=json.dumps(str(workdir / "soak.db"))), encoding="utf-8")
    settings = load_settings(config=config, env={})
    with Store.open(settings) as store:
        store.import_accounts({"accounts": [{
            "account_number": ACCOUNT, "name": "Soak Test", "service_address": "1 Soak St",
            "zip": "29730", "phone": "+18035550199", "pin": "2580", "ssn_last4": "1470",
            "language": "en", "status": "active", "balance_cents": OPENING_BALANCE,
            "past_due_cents": 0, "due_date": (date.today() + timedelta(days=45)).isoformat(),
            "charges": [{"id": cid, "date": date.today().isoformat(), "description": cid,
                         "amount_cents": cents} for cid, cents in CHARGES]}]})
    return config


def open_store(config: Path):
    from voice_agent.settings import load_settings
    from voice_agent.store import Store
    return Store.open(load_settings(config=config, env={}))


def amount_for(key: str) -> int:
    """The amount of a key is fixed, so a retry of the key is the same payment."""
    return 100 + int.from_bytes(key.encode(), "little") % 900


def method_for(i: int):
    from voice_agent.store import PaymentMethod
    if i % 2:
        return PaymentMethod(kind="bank", number=BANK[1], routing=BANK[0], bank="Soak Bank")
    return PaymentMethod(kind="card", number=CARD, expiry=(12, date.today().year + 3))


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# --- the children ---------------------------------------------------------------------------

def child_pay(config: Path, start: int, count: int, replay: str | None) -> None:
    """Post payments crash-0, crash-1, ... from ``start``; ``replay`` a confirmed key first."""
    store = open_store(config)
    say("ready")
    keys = ([replay] if replay else []) + [f"crash-{i}" for i in range(start, start + count)]
    for key in keys:
        i = int(key.rsplit("-", 1)[1])
        amount = amount_for(key)
        say(f"try {key} {amount}")
        result = store.post_payment(ACCOUNT, amount, 0, method_for(i), key)
        say(f"ok {key} {result.payment.confirmation} {amount} {int(result.duplicate)}")
    store.close()


def child_mixed(config: Path, wid: int, ops: int, go: Path, seed: int) -> None:
    """Pay, schedule, cancel, dispute and run schedules; one JSON line per completed operation."""
    rng = random.Random(seed)
    store = open_store(config)
    while not go.exists():
        time.sleep(0.002)
    scheduled: list[str] = []
    today = date.today()
    for j in range(ops):
        op = rng.choices(["pay", "schedule", "cancel", "dispute", "run"], [5, 3, 1, 1, 1])[0]
        key = f"w{wid}-{j}"
        if op == "pay" or (op == "cancel" and not scheduled):
            amount = amount_for(key)
            r = store.post_payment(ACCOUNT, amount, 0, method_for(j), key)
            out = {"op": "pay", "key": key, "conf": r.payment.confirmation, "amount": amount}
        elif op == "schedule":
            amount = amount_for(key)
            when = today + timedelta(days=rng.randint(1, 20))
            r = store.post_payment(ACCOUNT, amount, 0, method_for(j), key, scheduled_for=when)
            scheduled.append(r.payment.confirmation)
            out = {"op": "schedule", "key": key, "conf": r.payment.confirmation,
                   "amount": amount, "status": r.payment.status}
        elif op == "cancel":
            conf = scheduled.pop(rng.randrange(len(scheduled)))
            out = {"op": "cancel", "conf": conf, "ok": store.cancel_payment(ACCOUNT, conf)}
        elif op == "dispute":
            cid = rng.choice(CHARGES)[0]
            d = store.open_dispute(ACCOUNT, cid, "soak")
            out = {"op": "dispute", "charge": cid, "ticket": d.ticket, "again": d.already_open}
        else:
            posted = store.run_scheduled(today + timedelta(days=rng.randint(1, 20)))
            out = {"op": "run", "posted": [p.confirmation for p in posted]}
        say(json.dumps(out))
    store.close()


# --- checks ---------------------------------------------------------------------------------

def check_database(config: Path) -> dict:
    """The invariants every test here relies on; returns figures, raises Violation."""
    from voice_agent.settings import load_settings
    db_path = load_settings(config=config, env={}).database
    conn = sqlite3.connect(str(db_path))
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            raise Violation(f"PRAGMA integrity_check: {integrity}")
        doubled = conn.execute("SELECT idempotency_key, COUNT(*) FROM payments"
                               " GROUP BY idempotency_key HAVING COUNT(*) > 1").fetchall()
        if doubled:
            raise Violation(f"keys posted more than once: {doubled[:5]}")
        approved = conn.execute("SELECT confirmation, amount_cents FROM payments"
                                " WHERE account_number = ? AND status = 'approved'",
                                [ACCOUNT]).fetchall()
        balance = conn.execute("SELECT balance_cents FROM accounts WHERE number = ?",
                               [ACCOUNT]).fetchone()[0]
        paid = sum(a for _, a in approved)
        if balance != OPENING_BALANCE - paid:
            raise Violation(f"balance {balance} != opening {OPENING_BALANCE} - approved {paid}")
        posted_events = [json.loads(d)["confirmation"] for (d,) in conn.execute(
            "SELECT details FROM audit_log WHERE event = 'payment_posted' AND account_number = ?",
            [ACCOUNT])]
        if sorted(posted_events) != sorted(c for c, _ in approved):
            extra = set(posted_events) ^ {c for c, _ in approved}
            raise Violation(f"audit payment_posted entries do not match approved payments "
                            f"({len(posted_events)} vs {len(approved)}; differ: {sorted(extra)[:5]})")
        rows = {k: (c, a, s) for k, c, a, s in conn.execute(
            "SELECT idempotency_key, confirmation, amount_cents, status FROM payments")}
    finally:
        conn.close()
    verify = subprocess.run([sys.executable, "-m", "voice_agent", "audit", "verify",
                             "--config", str(config)], capture_output=True, text=True,
                            cwd=str(ROOT), timeout=120)
    if verify.returncode != 0:
        raise Violation(f"audit verify failed: {verify.stderr.strip() or verify.stdout.strip()}")
    return {"payments": len(rows), "approved": len(approved), "balance": balance,
            "rows": rows, "audit": verify.stdout.strip()}


def child_command(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "child", *args]


# --- crash test -----------------------------------------------------------------------------

def crash_test(workdir: Path, kills: int, seed: int = 0, max_delay_s: float = 0.3,
               log=lambda m: None) -> dict:
    """Kill a paying child ``kills`` times; check what it printed against the database."""
    rng = random.Random(seed)
    config = prepare(workdir)
    confirmed: dict[str, tuple[str, int]] = {}       # key -> (confirmation, amount)
    tried: set[str] = set()
    next_i, killed_mid_payment, retry_was_committed = 0, 0, 0
    pending = None
    for n in range(kills + 1):
        last = kills == n                             # the last child runs to the end
        replay = rng.choice(sorted(confirmed)) if confirmed else None
        start = max(0, next_i - 1)
        args = [str(config), str(start), "8" if last else "100000"] + ([replay] if replay else [])
        # stderr goes to a file: communicate() would read the pipes' raw descriptors and lose
        # whatever readline() below had already buffered (a "try" line, say).
        with tempfile.TemporaryFile("w+") as errfile:
            proc = subprocess.Popen(child_command("pay", *args), stdout=subprocess.PIPE,
                                    stderr=errfile, text=True, cwd=str(ROOT))
            ready = proc.stdout.readline()         # the store is open: kill during payments
            if not last:
                if ready.strip() == "ready":
                    time.sleep(rng.uniform(0.0, max_delay_s))
                proc.send_signal(signal.SIGKILL)
            out = ready + proc.stdout.read()       # the buffered rest, then up to EOF
            proc.stdout.close()
            proc.wait(timeout=120)
            errfile.seek(0)
            err = errfile.read()
        if not last and proc.returncode != -signal.SIGKILL:
            raise Violation(f"child ended by itself ({proc.returncode}): {err.strip()[-500:]}")
        if last and proc.returncode != 0:
            raise Violation(f"last child failed ({proc.returncode}): {err.strip()[-500:]}")
        lines = out.splitlines()
        retried, pending = pending, None
        for line in lines:
            parts = line.split()
            if parts[:1] == ["try"]:
                pending = parts[1]
                tried.add(pending)
                i = int(pending.rsplit("-", 1)[1])
                next_i = max(next_i, i + 1)
            elif parts[:1] == ["ok"] and len(parts) == 5:
                key, conf, amount, dup = parts[1], parts[2], int(parts[3]), parts[4] == "1"
                if key in confirmed and confirmed[key][0] != conf:
                    raise Violation(f"{key} confirmed twice with different codes: "
                                    f"{confirmed[key][0]} then {conf}")
                if key == replay and not dup:
                    raise Violation(f"replayed key {key} was posted again ({conf})")
                retry_was_committed += key == retried and dup     # killed after its commit
                confirmed[key] = (conf, amount)
                pending = None
        killed_mid_payment += pending is not None
        log(f"round {n}: {len(lines)} lines, {len(confirmed)} confirmed so far")
    found = check_database(config)
    rows = found["rows"]
    for key, (conf, amount) in confirmed.items():
        if key not in rows:
            raise Violation(f"payment {conf} ({key}) was confirmed to the caller but is lost")
        if rows[key][:2] != (conf, amount):
            raise Violation(f"{key}: confirmed {conf} {amount}, stored {rows[key][:2]}")
    unknown = set(rows) - tried
    if unknown:
        raise Violation(f"payments nobody tried: {sorted(unknown)[:5]}")
    return {"kills": kills, "confirmed": len(confirmed), "stored": found["payments"],
            "killed_mid_payment": killed_mid_payment,
            "killed_after_commit_before_reply": retry_was_committed,
            "committed_unconfirmed": len(set(rows) - set(confirmed)),
            "audit": found["audit"]}


# --- concurrency ----------------------------------------------------------------------------

def concurrency_test(workdir: Path, workers: int = 4, ops: int = 40, seed: int = 0) -> dict:
    """``workers`` processes on one account at once; every reported result must add up."""
    config = prepare(workdir)
    go = workdir / f"go-{time.monotonic_ns()}"
    procs = [subprocess.Popen(child_command("mixed", str(config), str(w), str(ops), str(go),
                                            str(seed * 1000 + w)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=str(ROOT)) for w in range(workers)]
    time.sleep(1.0)                         # let every child import and open the store
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        if p.returncode != 0:
            raise Violation(f"a worker failed ({p.returncode}): {err.strip()[-800:]}")
        results += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    found = check_database(config)
    rows = {conf: (key, amount, status) for key, (conf, amount, status) in found["rows"].items()}
    made = [r for r in results if r["op"] in ("pay", "schedule")]
    for r in made:
        if r["conf"] not in rows or rows[r["conf"]][:2] != (r["key"], r["amount"]):
            raise Violation(f"{r['op']} {r['key']} -> {r['conf']} is lost or changed")
    if len(rows) != len(made):
        raise Violation(f"{len(rows)} payments stored, {len(made)} reported")
    posted = [c for r in results if r["op"] == "run" for c in r["posted"]]
    if len(posted) != len(set(posted)):
        raise Violation("a scheduled payment was posted by two runners")
    cancelled = {r["conf"] for r in results if r["op"] == "cancel" and r["ok"]}
    for r in made:
        status = rows[r["conf"]][2]
        want = ("approved",) if r["op"] == "pay" else (
            ("cancelled",) if r["conf"] in cancelled else
            ("approved",) if r["conf"] in posted else ("scheduled",))
        if status not in want:
            raise Violation(f"{r['conf']} is {status}, expected {want[0]}")
    tickets: dict[str, set[str]] = {}
    firsts: dict[str, int] = {}
    for r in results:
        if r["op"] == "dispute":
            tickets.setdefault(r["charge"], set()).add(r["ticket"])
            firsts[r["charge"]] = firsts.get(r["charge"], 0) + (not r["again"])
    if any(len(t) != 1 for t in tickets.values()) or any(n != 1 for n in firsts.values()):
        raise Violation(f"a charge got more than one open dispute: {tickets}")
    with open_store(config) as store:
        held = store.account(ACCOUNT).disputed_cents
    expected_held = sum(c for cid, c in CHARGES if cid in tickets)
    if held != expected_held:
        raise Violation(f"disputed {held} cents held out, expected {expected_held}")
    return {"workers": workers, "operations": len(results), "payments": len(rows),
            "approved": found["approved"], "posted_by_runs": len(posted),
            "cancelled": len(cancelled), "disputed_charges": len(tickets),
            "audit": found["audit"]}


# --- command line ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("crash", help="SIGKILL a paying process many times")
    c.add_argument("--kills", type=int, default=300)
    c.add_argument("--seed", type=int, default=int(time.time()))
    c.add_argument("--dir", help="keep the database here (default: a temporary directory)")
    k = sub.add_parser("concurrency", help="several processes on one account, repeatedly")
    k.add_argument("--workers", type=int, default=4)
    k.add_argument("--ops", type=int, default=60)
    k.add_argument("--rounds", type=int, default=10)
    k.add_argument("--seed", type=int, default=int(time.time()))
    ch = sub.add_parser("child", help=argparse.SUPPRESS)
    ch.add_argument("role", choices=["pay", "mixed"])
    ch.add_argument("rest", nargs="*")
    args = ap.parse_args(argv)
    if args.cmd == "child":
        if args.role == "pay":
            config, start, count, *replay = args.rest
            child_pay(Path(config), int(start), int(count), replay[0] if replay else None)
        else:
            config, wid, ops, go, seed = args.rest
            child_mixed(Path(config), int(wid), int(ops), Path(go), int(seed))
        return 0
    try:
        if args.cmd == "crash":
            with tempfile.TemporaryDirectory() as tmp:
                where = Path(args.dir) if args.dir else Path(tmp)
                started = time.monotonic()
                report = crash_test(where, args.kills, args.seed,
                                    log=lambda m: print(m, file=sys.stderr))
                report["seconds"] = round(time.monotonic() - started, 1)
                print(json.dumps({"seed": args.seed, **report}))
        else:
            for r in range(args.rounds):
                with tempfile.TemporaryDirectory() as tmp:
                    report = concurrency_test(Path(tmp), args.workers, args.ops, args.seed + r)
                print(json.dumps({"round": r, "seed": args.seed + r, **report}), flush=True)
    except Violation as exc:
        print(f"VIOLATION: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
