"""`voice-agent serve` in a subprocess, for the phone-line tests that run the real command."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

CHEAP_HASH = ["--set", "password_hash.n=1024"]


def demo_db(tmp_path):
    """A database with the demo accounts."""
    db = tmp_path / "line.db"
    subprocess.run([sys.executable, "-m", "voice_agent", "db", "init", "--demo", "--db", str(db),
                    *CHEAP_HASH], check=True, capture_output=True)
    return db


def calls_list(db) -> str:
    return subprocess.run([sys.executable, "-m", "voice_agent", "calls", "list", "--db", str(db),
                           *CHEAP_HASH], capture_output=True, text=True, check=True).stdout


class Serve:
    """`voice-agent serve` in a subprocess; its stdout events are collected by a thread."""

    def __init__(self, db, port: int, *extra: str, worker: int | None = 1):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if worker is not None:     # as the supervisor of --workers starts a worker: lines say which
            env["VOICE_AGENT_WORKER"] = str(worker)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voice_agent", "serve", "--sip", f"127.0.0.1:{port}",
             "--db", str(db), "--sip-log-level", "3", *CHEAP_HASH, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.events: list[dict] = []
        self.raw: list[str] = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.cond:
                self.raw.append(line)
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    pass
                self.cond.notify_all()

    def wait(self, predicate, timeout: float = 60.0, start: int = 0) -> tuple[dict, int]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.events)):
                    if predicate(self.events[i]):
                        return self.events[i], i + 1
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no matching event; got {self.events}; "
                                         f"stderr: {self.proc.stderr.read() if self.proc.poll() is not None else ''}")
                self.cond.wait(min(left, 0.5))

    def stop(self, signals: int = 1) -> tuple[int, str]:
        """SIGTERM drains (calls in progress may finish); a second one stops at once."""
        for i in range(signals):
            if i:
                try:
                    self.wait(lambda e: e.get("event") == "draining", 10)
                except AssertionError:        # it had nothing to drain and is gone already
                    break
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.reader.join(5)
        return code, self.proc.stderr.read()
