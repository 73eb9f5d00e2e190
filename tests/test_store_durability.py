"""Issue 14 item 6: every acknowledged payment is on disk before the caller is told it was taken.

A SIGKILL cannot tell ``synchronous=FULL`` from ``OFF`` (the page cache survives it), so this
watches the system calls instead: a real `voice-agent chat` pays a bill under
``strace -f -e trace=pwrite64,write,fsync,fdatasync``. The payment's write is the first write to
the WAL that holds its confirmation code (the payments row); the acknowledgement is the line on
stdout that reads that code to the caller. Between them the WAL must be synced, after the last
WAL write before the acknowledgement (the commit frame), so nothing the reply depends on is
only in the page cache. The same call with ``synchronous=OFF`` patched in shows no such sync:
the check can fail. strace comes from scripts/setup.sh's Debian packages.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from store_helpers import FAST_HASH_ARGS

ROOT = Path(__file__).resolve().parent.parent
STRACE = shutil.which("strace")
CALL = ["pay my bill", "dtmf:100200300#", "dtmf:4321#", "other amount", "ten dollars", "dtmf:3",
        "yes", "no"]
SYNCS = ("fsync", "fdatasync")
# Runs the CLI; with "off" as first argument every connection's synchronous pragma is OFF.
RUNNER = """
import sqlite3, sys
if sys.argv[1] == "off":
    class Unsynced(sqlite3.Connection):
        def execute(self, sql, *args):
            if sql.replace(" ", "").lower().startswith("pragmasynchronous="):
                sql = "PRAGMA synchronous = OFF"
            return super().execute(sql, *args)
    real = sqlite3.connect
    sqlite3.connect = lambda *a, **k: real(*a, **{**k, "factory": Unsynced})
from voice_agent.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _strace_works() -> str | None:
    """Why strace cannot be used here, or None."""
    if STRACE is None:
        return "strace is not installed (scripts/setup.sh installs it)"
    probe = subprocess.run([STRACE, "-f", "-e", "trace=none", "true"], capture_output=True,
                           text=True)
    if probe.returncode != 0:
        return f"strace cannot trace here: {probe.stderr.strip()[:200]}"
    return None


UNUSABLE = _strace_works()
pytestmark = pytest.mark.skipif(UNUSABLE is not None, reason=UNUSABLE or "")


@dataclass
class Call:
    name: str          # pwrite64, write, fsync, fdatasync
    path: str          # the file the descriptor names (strace -y)
    data: str          # the data written, as strace prints it


LINE = re.compile(r'^\d+\s+(\w+)\(\d+<([^>]*)>(?:, "((?:[^"\\]|\\.)*)")?')


def _calls(trace: str) -> list[Call]:
    """The traced calls in the order they finished (a call interrupted by another thread's is
    put together from its "unfinished" and "resumed" halves)."""
    calls, pending = [], {}
    for line in trace.splitlines():
        pid = line.split(None, 1)[0]
        if line.endswith("<unfinished ...>"):
            pending[pid] = line.removesuffix("<unfinished ...>")
            continue
        if "resumed>" in line and pid in pending:
            line = pending.pop(pid) + line.split("resumed>", 1)[1]
        m = LINE.match(line)
        if m:
            calls.append(Call(m.group(1), m.group(2), m.group(3) or ""))
    return calls


def _pay_under_strace(tmp_path: Path, sync: str) -> tuple[list[Call], str]:
    db = tmp_path / sync / "agent.db"
    common = ["--db", str(db), *FAST_HASH_ARGS]
    subprocess.run([sys.executable, "-c", RUNNER, sync, "db", "init", "--demo", *common],
                   check=True, capture_output=True, cwd=ROOT)
    trace = tmp_path / f"{sync}.trace"
    proc = subprocess.run(
        [STRACE, "-f", "-y", "-s", "65536", "-e", "trace=pwrite64,write,fsync,fdatasync",
         "-o", str(trace), sys.executable, "-c", RUNNER, sync, "chat", "--lang", "en", "--json",
         *common], input="\n".join(CALL) + "\n", capture_output=True, text=True, cwd=ROOT,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '"outcome": "paid"' in proc.stdout, proc.stdout[-1000:]
    return _calls(trace.read_text(encoding="utf-8", errors="replace")), str(db) + "-wal"


def _syncs_between_payment_and_reply(calls: list[Call], wal: str) -> tuple[int, int]:
    """(WAL syncs between the payment's first write and its acknowledgement, WAL syncs after
    the last WAL write before the acknowledgement)."""
    ack = next(i for i, c in enumerate(calls)
               if c.name == "write" and c.path.startswith("pipe:") and "accepted" in c.data)
    spelled = re.search(r"confirmation code is ((?:\w, )+\w)\.", calls[ack].data).group(1)
    code = spelled.replace(", ", "")
    wrote = next(i for i, c in enumerate(calls) if c.path == wal and code in c.data)
    assert wrote < ack, "the payment was written after the caller was told it was taken"
    last_write = max(i for i in range(ack) if calls[i].path == wal
                     and calls[i].name == "pwrite64")
    synced = [i for i in range(wrote, ack) if calls[i].name in SYNCS and calls[i].path == wal]
    return len(synced), sum(i > last_write for i in synced)


def test_an_acknowledged_payment_was_fsynced_before_the_confirmation(tmp_path):
    calls, wal = _pay_under_strace(tmp_path, "full")
    between, after_last_write = _syncs_between_payment_and_reply(calls, wal)
    assert between >= 1 and after_last_write >= 1, (between, after_last_write)


def test_the_check_fails_when_commits_are_not_synced(tmp_path):
    """The same call with synchronous = OFF: the confirmation goes out with the payment only in
    the page cache, and the check above sees it."""
    calls, wal = _pay_under_strace(tmp_path, "off")
    assert _syncs_between_payment_and_reply(calls, wal) == (0, 0)
