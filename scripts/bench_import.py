#!/usr/bin/env python3
"""Measure `db import` on synthetic accounts with the real (default) scrypt cost.

    python scripts/bench_import.py                 # 10,000 accounts, one worker per CPU
    python scripts/bench_import.py --accounts 1000 --workers 1

Prints the figures; asserts nothing. Every account has a PIN and SSN last four (two hashes),
the worst case. Runs in a temporary directory that is removed afterwards.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voice_agent.settings import load_settings  # noqa: E402
from voice_agent.store import Store  # noqa: E402


def synthetic(n: int) -> dict:
    rng = random.Random(7)
    accounts = []
    for i in range(n):
        balance = rng.randrange(1000, 40000)
        accounts.append({
            "account_number": f"{700000000 + i}", "name": f"Customer {i}",
            "service_address": f"{i} Main St, Rock Hill, SC 29730", "zip": "29730",
            "phone": f"+1803555{i % 10000:04d}", "pin": f"{rng.randrange(10000):04d}",
            "ssn_last4": f"{rng.randrange(10000):04d}", "language": rng.choice(["en", "es", "ko"]),
            "status": "active", "balance_cents": balance, "past_due_cents": 0,
            "due_date": "2026-12-15",
            "charges": [{"id": "c1", "date": "2026-11-01", "description": "Service",
                         "amount_cents": balance}]})
    return {"accounts": accounts}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=0, help="0 = one per CPU")
    ap.add_argument("--n", type=int, default=0, help="scrypt n (default: the setting's default)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        overrides = {"database": str(Path(tmp) / "bench.db"), "import_workers": args.workers}
        if args.n:
            overrides["password_hash"] = {"n": args.n}
        settings = load_settings(env={}, cwd=Path(tmp)).with_overrides(**overrides)
        cost = settings["password_hash"]
        store = Store.open(settings)
        one = time.perf_counter()
        for _ in range(5):
            hashlib.scrypt(b"x", salt=b"s" * 16, n=cost["n"], r=cost["r"], p=cost["p"],
                           maxmem=2**28)
        per_hash = (time.perf_counter() - one) / 5
        data = synthetic(args.accounts)
        started = time.perf_counter()
        report = store.import_accounts(data)
        total = time.perf_counter() - started
        again = time.perf_counter()
        ok = store.verify(data["accounts"][-1]["account_number"],
                          pin=data["accounts"][-1]["pin"]).ok
        verify_s = time.perf_counter() - again
        store.close()
    hashes = 2 * args.accounts
    workers = args.workers or os.cpu_count()
    memory = 128 * cost["n"] * cost["r"] * cost["p"] / 2**20
    print(f"scrypt n={cost['n']} r={cost['r']} p={cost['p']} ({memory:.0f} MiB per hash):"
          f" {per_hash * 1000:.1f} ms per hash, one core")
    print(f"imported {report.accounts} accounts ({hashes} hashes) with {workers} worker(s)"
          f" on {os.cpu_count()} CPU(s): {total:.1f} s"
          f" ({report.accounts / total:.0f} accounts/s)")
    print(f"one verification after import: {verify_s * 1000:.0f} ms (ok={ok})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
