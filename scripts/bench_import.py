#!/usr/bin/env python3
"""Measure `db import` on synthetic accounts with the real (default) scrypt cost: the two
figures README gives (issue 15).

    python scripts/bench_import.py                      # both figures
    python scripts/bench_import.py --new 10000 --reimport 0
    python scripts/bench_import.py --reimport 100000 --changed 0.05 --new 0

1. *new*: importing ``--new`` accounts into an empty store (every secret hashed).
2. *re-import*: a store already holding ``--reimport`` accounts gets the whole base again with
   ``--changed`` of the records changed (new balance; every tenth of them a new PIN). Unchanged
   records are recognised by their keyed fingerprint and skipped; changed ones are hashed at the
   real cost. The store is filled beforehand at a trivial scrypt cost (not timed): the cost of
   hashes already stored does not enter a re-import, which never recomputes them.

Every account has a PIN and SSN last four (two hashes), the worst case. Prints the figures, the
CPU time they took in all processes (the hashing workers included: on a shared machine the wall
time depends on the other jobs, the CPU time does not) and the machine's load; asserts nothing.
Runs in a temporary directory that is removed afterwards.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voice_agent.settings import load_settings  # noqa: E402
from voice_agent.store import Store  # noqa: E402


def synthetic(n: int, first: int = 700000000) -> dict:
    rng = random.Random(7)
    accounts = []
    for i in range(n):
        balance = rng.randrange(1000, 40000)
        accounts.append({
            "account_number": f"{first + i}", "name": f"Customer {i}",
            "service_address": f"{i} Main St, Rock Hill, SC 29730", "zip": "29730",
            "phone": f"+1803555{i % 10000:04d}", "pin": f"{rng.randrange(10000):04d}",
            "ssn_last4": f"{rng.randrange(10000):04d}", "language": rng.choice(["en", "es", "ko"]),
            "status": "active", "balance_cents": balance, "past_due_cents": 0,
            "due_date": "2026-12-15",
            "charges": [{"id": "c1", "date": "2026-11-01", "description": "Service",
                         "amount_cents": balance}]})
    return {"accounts": accounts}


def changed(data: dict, share: float) -> tuple[dict, int]:
    """The same base with ``share`` of the records changed (spread evenly)."""
    step = max(1, round(1 / share)) if share > 0 else 0
    count = 0
    for i, rec in enumerate(data["accounts"]):
        if step and i % step == 0:
            rec["balance_cents"] += 1234
            rec["charges"][0]["amount_cents"] += 1234
            if count % 10 == 0:
                rec["pin"] = f"{(int(rec['pin']) + 1) % 10000:04d}"
            count += 1
    return data, count


def settings_for(tmp: str, workers: int, n: int = 0):
    overrides = {"database": str(Path(tmp) / "bench.db"), "import_workers": workers}
    if n:
        overrides["password_hash"] = {"n": n, "r": 8 if n > 16 else 1, "p": 1}
    return load_settings(env={}, cwd=Path(tmp)).with_overrides(**overrides)


def cpu_seconds() -> tuple[float, float]:
    """CPU time of this process, and of its finished children (the hashing workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def cpu_text(before: tuple[float, float], workers: int) -> str:
    """The CPU used since ``before``, and the wall time it means on free cores: the main
    process's part runs alone, the workers' part is shared among them (an upper bound)."""
    main_s, kids_s = (a - b for a, b in zip(cpu_seconds(), before))
    return (f"CPU {main_s:.1f} s main + {kids_s:.1f} s in the hashing workers: on {workers} free"
            f" cores at most {main_s + kids_s / workers:.0f} s")


def timed_import(settings, data: dict):
    """(report, wall seconds, CPU text): on a shared machine the wall time depends on the other
    jobs; the CPU time is the work itself."""
    workers = int(settings["import_workers"]) or os.cpu_count() or 1
    with Store.open(settings) as store:
        cpu, started = cpu_seconds(), time.perf_counter()
        report = store.import_accounts(data)
        return report, time.perf_counter() - started, cpu_text(cpu, workers)


def bench_new(count: int, workers: int, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report, seconds, cpu = timed_import(settings_for(tmp, workers, n), synthetic(count))
    print(f"new: {report.created} new accounts ({2 * report.created} hashes): {seconds:.1f} s"
          f" ({report.created / seconds:.0f} accounts/s); {cpu}")


def bench_reimport(count: int, share: float, workers: int, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        seeded = time.perf_counter()
        timed_import(settings_for(tmp, workers, 2), synthetic(count))
        seeded = time.perf_counter() - seeded
        data, changes = changed(synthetic(count), share)
        report, seconds, cpu = timed_import(settings_for(tmp, workers, n), data)
    print(f"re-import: {report.accounts} accounts, {changes} changed ({report.updated} updated,"
          f" {report.unchanged} unchanged, {2 * report.updated} hashes): {seconds:.1f} s; {cpu}"
          f" (the store was filled first in {seeded:.0f} s, not counted)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new", type=int, default=10000, help="accounts for figure 1 (0: skip)")
    ap.add_argument("--reimport", type=int, default=100000, help="accounts for figure 2 (0: skip)")
    ap.add_argument("--changed", type=float, default=0.05, help="share changed in figure 2")
    ap.add_argument("--workers", type=int, default=0, help="0 = one per CPU")
    ap.add_argument("--n", type=int, default=0, help="scrypt n (default: the setting's default)")
    args = ap.parse_args()
    cost = settings_for(tempfile.gettempdir(), args.workers, args.n)["password_hash"]
    one = time.perf_counter()
    for _ in range(5):
        hashlib.scrypt(b"x", salt=b"s" * 16, n=cost["n"], r=cost["r"], p=cost["p"], maxmem=2**28)
    per_hash = (time.perf_counter() - one) / 5
    memory = 128 * cost["n"] * cost["r"] * cost["p"] / 2**20
    workers = args.workers or os.cpu_count()
    print(f"scrypt n={cost['n']} r={cost['r']} p={cost['p']} ({memory:.0f} MiB per hash):"
          f" {per_hash * 1000:.1f} ms per hash, one core; {workers} worker(s) on"
          f" {os.cpu_count()} CPU(s); load average before: {os.getloadavg()[0]:.2f}")
    if args.new:
        bench_new(args.new, args.workers, args.n)
    if args.reimport:
        bench_reimport(args.reimport, args.changed, args.workers, args.n)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
