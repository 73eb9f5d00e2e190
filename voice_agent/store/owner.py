"""Which process opened a call, and whether that process is gone (calls.py closes its calls).

Several processes may share one database (``serve`` runs, staff commands), so "open at start"
does not mean "abandoned": another live process may be in that call. Each call records its
owner: the host (host name and pid namespace), the pid, and the process's start (the kernel boot
id and the process's start time in clock ticks, from /proc). A call's owner is gone when, on
this host, the boot id differs (the machine restarted), or no process has that pid, or the
process with that pid started at another time (the pid was reused). Calls owned by another host
are never judged (SQLite's WAL needs every process on one host anyway; a container with its own
host name or pid namespace counts as another host: its pids mean nothing here).

Why not a heartbeat: it would write (and, with ``synchronous=FULL``, fsync) every few seconds
per process, and a process that is paused or starved past the timeout would have its live calls
closed under it. The owner check costs nothing while calls run and is exact on one host.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start: str          # "<boot id>:<start ticks>"; "" where /proc is not available


def _host() -> str:
    try:
        namespace = os.readlink(PROC / "self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()} {namespace}".strip()


def _boot_id() -> str:
    try:
        return (PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat (after the parenthesised command name); None: no process."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def _start(pid: int) -> str:
    boot, ticks = _boot_id(), _start_ticks(pid)
    return f"{boot}:{ticks}" if boot and ticks else ""


_cached: tuple[int, Owner] | None = None


def this_process() -> Owner:
    """This process as a call owner (computed once per pid: a forked child is another owner)."""
    global _cached
    pid = os.getpid()
    if _cached is None or _cached[0] != pid:
        _cached = (pid, Owner(_host(), pid, _start(pid)))
    return _cached[1]


def is_gone(owner: Owner) -> bool:
    """True only when the owner is certainly not running: same host, and no process with that
    pid, or one that started at another time (or in another boot)."""
    me = this_process()
    if owner.host != me.host:
        return False
    if owner.pid == me.pid and owner.start == me.start:
        return False
    if owner.start and me.start:
        boot, _, ticks = owner.start.partition(":")
        if boot != me.start.partition(":")[0]:
            return True
        now = _start_ticks(owner.pid)
        if now is None:
            return True
        if now:
            return now != ticks
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:         # alive, another user's
        return False
    return False
