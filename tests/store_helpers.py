"""Shared helpers for the tests that need settings or a store (no tests here; the `settings`,
`store` and agent fixtures built from these are in conftest.py).

Every test database hashes PINs and SSN digits with FAST_HASH: the real scrypt code path at a
fraction of the default cost (n=1024, 1 MiB per hash), which a demo install pays per secret.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from voice_agent.settings import Settings, load_settings

FAST_HASH = {"n": 256, "r": 8, "p": 1}
# The same cost for a command line (`voice-agent ... --set password_hash.n=256 ...`).
FAST_HASH_ARGS = [arg for key, value in FAST_HASH.items()
                  for arg in ("--set", f"password_hash.{key}={value}")]
CARD = "4111111111111111"
CARD2 = "5555555555554444"
BANK_ARGS = {"kind": "bank", "number": "000123456789", "routing": "011000015", "bank": "First Bank"}


def make_settings(folder: Path, **overrides) -> Settings:
    """Settings of a test: defaults (no environment, no settings file of the working directory),
    the database ``store.db`` in ``folder``, cheap hashing; ``overrides`` as `with_overrides`."""
    base = load_settings(env={}, cwd=folder)
    values = {"database": str(folder / "store.db"), "password_hash": FAST_HASH, **overrides}
    return base.with_overrides(**values)


def account_record(number: str, **fields) -> dict:
    rec = {"account_number": number, "name": "Test Person",
           "service_address": "1 Test St, Rock Hill, SC 29730", "zip": "29730",
           "phone": "+18035550100", "pin": "4321", "ssn_last4": "6789", "language": "en",
           "status": "active", "balance_cents": 10000, "past_due_cents": 0,
           "due_date": "2030-12-03",
           "charges": [{"id": "c1", "date": "2026-11-01", "description": "Service",
                        "amount_cents": 10000}]}
    rec.update(fields)
    return rec


def run_together(tmp_path: Path, script: str, n: int = 2, env: dict | None = None) -> list[str]:
    """Start ``n`` Python processes running ``script``; release them at the same moment.

    The script gets ``GO`` (a path) in its globals: it must call ``wait_go()`` right before the
    contended operation. Returns each process's stdout.
    """
    go = tmp_path / f"go-{time.monotonic_ns()}"
    prelude = (
        "import os, sys, time\n"
        f"GO = {str(go)!r}\n"
        "def wait_go():\n"
        "    print('ready', flush=True)\n"
        "    while not os.path.exists(GO):\n"
        "        time.sleep(0.001)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", prelude + script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                              env={**os.environ, **(env or {})}) for _ in range(n)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    go.touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(out)
    return outs
