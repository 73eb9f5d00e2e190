"""The event lines of `serve --sip`: one JSON object per line on stdout, for an operator's tools.

Why stamped here: every line must be tied to a moment and a process without each emitter knowing
either, so the writer adds ``ts`` (UTC, ISO 8601 with milliseconds, ``Z``) and ``worker`` (the
worker's number from ``VOICE_AGENT_WORKER``, 0 for a single process; the supervisor of
``--workers`` sets it). Per-call events carry ``call`` (a running number inside one worker process:
``worker`` + ``call`` tells calls apart across workers), ``sip_call_id`` (the SIP Call-ID, the key
a PBX's own logs and CDRs use) and ``call_id`` (the ``calls`` table row, once the dialogue opened
it). ``RefusalLog`` turns every refused request into a ``refused`` line, at most a few a second per
peer, so a flood cannot flood stdout.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TextIO

WORKER_ENV = "VOICE_AGENT_WORKER"

Emit = Callable[[dict], None]


def worker_number(env: Mapping[str, str] = os.environ) -> int:
    """This process's worker number (``VOICE_AGENT_WORKER``); 0 when unset or not a number."""
    try:
        return max(0, int(env.get(WORKER_ENV, "0")))
    except ValueError:
        return 0


def utc_stamp(seconds: float) -> str:
    """``1764616273.5`` -> ``"2025-12-01T19:11:13.500Z"``."""
    whole = int(seconds)
    millis = int(round((seconds - whole) * 1000))
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


class EventLines:
    """Writes events as JSON lines, stamped with ``ts`` and ``worker``; safe from any thread.

    Without a fixed ``worker`` the number is read from the environment at each line: a worker
    forked from the process that made this writer sets ``VOICE_AGENT_WORKER`` after the fork.
    An event naming its own ``worker`` (the supervisor's, about one of its workers) keeps it."""

    def __init__(self, stream: TextIO | None = None, *, worker: int | None = None,
                 clock: Callable[[], float] = time.time):
        self.stream = stream
        self.fixed_worker = worker
        self.clock = clock
        self._lock = threading.Lock()

    @property
    def worker(self) -> int:
        return worker_number() if self.fixed_worker is None else self.fixed_worker

    def stamp(self, event: dict) -> dict:
        """``event`` with ``ts`` and ``worker`` right after its name (what an operator greps first)."""
        head = {"event": event.get("event"), "ts": utc_stamp(self.clock()),
                "worker": event.get("worker", self.worker)}
        return {**head, **{k: v for k, v in event.items() if k not in head}}

    def __call__(self, event: dict) -> None:
        line = json.dumps(self.stamp(event), ensure_ascii=False)
        with self._lock:
            stream = self.stream if self.stream is not None else sys.stdout
            stream.write(line + "\n")     # one write: lines from forked workers never interleave
            stream.flush()


def line_event(line, name: str, **data) -> dict:
    """A per-call event for ``line`` (a ``CallLine``): its number, SIP Call-ID and store call id
    (None until known), then ``data``."""
    return {"event": name, "call": line.number, "sip_call_id": line.sip_call_id,
            "call_id": line.call_id, **data}


def peer_host(peer: str) -> str:
    """``"1.2.3.4:5060"`` -> ``"1.2.3.4"``, ``"[::1]:5060"`` -> ``"::1"``: a flood varies its port."""
    peer = (peer or "").strip()
    if peer.startswith("["):
        return peer[1:peer.find("]")] if "]" in peer else peer
    return peer.split(":")[0] if peer.count(":") == 1 else peer


class RefusalLog:
    """One ``refused`` event per refused request (403 at the front door or by policy, 486 busy,
    488 no common codec, 400 malformed), at most ``per_peer_per_s`` a second per peer address and
    ``total_per_s`` in all. The refusals held back are not lost: the next line for that peer says
    how many (``suppressed``), and within a second of a flood ending a last line reports the
    rest. ``close()`` reports what is still held back."""

    MAX_PEERS = 1024       # peers held back at once; beyond that (a spoofed flood) they share one entry

    def __init__(self, emit: Emit, *, per_peer_per_s: int = 5, total_per_s: int = 50,
                 clock: Callable[[], float] = time.monotonic):
        self.emit = emit
        self.per_peer_per_s = per_peer_per_s
        self.total_per_s = total_per_s
        self.clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._sent_total = 0
        self._sent: dict[str, int] = {}             # peer host -> lines this window
        self._held: dict[str, tuple[int, dict]] = {}  # peer host -> (count, the last one held)
        self._timer: threading.Timer | None = None
        self._closed = False

    def refused(self, status: int, reason: str, peer: str, **extra) -> None:
        """Report one refusal; ``extra`` may add ``method`` and ``sip_call_id``."""
        event = {"event": "refused", "status": int(status), "reason": reason, "peer": peer, **extra}
        key = peer_host(peer)
        with self._lock:
            self._roll()
            if (self._sent_total < self.total_per_s
                    and self._sent.get(key, 0) < self.per_peer_per_s):
                held, _ = self._held.pop(key, (0, None))
                self._count(key)
                out = {**event, "suppressed": held}
            else:
                if key not in self._held and len(self._held) >= self.MAX_PEERS:
                    key = "*"
                count, _ = self._held.get(key, (0, None))
                self._held[key] = (count + 1, event)
                self._schedule()
                out = None
        if out is not None:
            self.emit(out)

    def flush(self) -> None:
        """Report what is held back: for each peer its last refusal, with the others counted;
        beyond ``total_per_s`` peers, the rest in one line with peer ``*``."""
        with self._lock:
            self._timer = None
            held, self._held = list(self._held.values()), {}
            self._roll()
            self._sent_total += min(len(held), self.total_per_s)
        if len(held) > self.total_per_s:
            rest = held[self.total_per_s - 1:]
            last = {k: v for k, v in rest[-1][1].items() if k in ("event", "status", "reason")}
            held = held[:self.total_per_s - 1] + [(sum(c for c, _ in rest), {**last, "peer": "*"})]
        for count, event in held:
            self.emit({**event, "suppressed": count - 1})

    def close(self) -> None:
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self.flush()

    def _roll(self) -> None:
        window = int(self.clock())
        if window != self._window:
            self._window, self._sent_total, self._sent = window, 0, {}

    def _count(self, key: str) -> None:
        self._sent_total += 1
        self._sent[key] = self._sent.get(key, 0) + 1

    def _schedule(self) -> None:
        if self._timer is None and not self._closed:
            self._timer = threading.Timer(1.0, self.flush)
            self._timer.daemon = True
            self._timer.start()
