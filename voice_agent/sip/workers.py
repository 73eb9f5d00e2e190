"""`serve --workers N`: N phone-line processes under one supervisor.

Why processes: the pjsua2-python wheel is built for at most 4 calls per process (stack.py), so
more lines per machine take more processes. Worker ``i`` listens on PORT+i (the PBX or Kamailio
spreads calls over the ports, README "Phone line (SIP)"); each gets ``VOICE_AGENT_WORKER=<i>``
in its environment.

Why fork: the supervisor loads the speech models once, before forking, so every worker shares
those pages copy-on-write (Vosk's model is read-only after loading and its loading starts no
thread; measured: ~20 MB of its own per idle worker instead of ~540 MB for a second copy). A
worker that dies is forked again from the same loaded parent: it is back in well under a second,
and its ``Store.open`` closes the dead worker's calls as ``interrupted`` (store/owner.py). Each
worker opens its own store, SIP stack and threads after the fork; the supervisor itself holds no
database connection and runs no thread, which is what makes forking it safe.

Signals: the first SIGTERM or Ctrl-C is passed on to every worker, which drains (503 to new calls,
calls in progress get ``sip.drain_s``); a second one is passed on too and the workers stop at
once; workers still running ``kill_after_s`` later are killed. Ctrl-C reaches the workers only
through the supervisor (they ignore SIGINT), so one keypress counts once.
"""
from __future__ import annotations

import os
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

WORKER_ENV = "VOICE_AGENT_WORKER"

# A worker that dies sooner than this after its start is restarted after a growing delay (a
# worker that cannot start at all must not spin the machine).
STABLE_S = 10.0
FIRST_DELAY_S, MAX_DELAY_S = 0.5, 30.0


@dataclass
class _Worker:
    index: int
    pid: int = 0
    ready_fd: int = -1          # read end of the pipe the worker writes one byte to when ready
    started_at: float = 0.0
    ready: bool = False
    ever_ready: bool = False
    restarts: int = 0
    delay_s: float = FIRST_DELAY_S
    restart_at: float | None = None


class Supervisor:
    """``Supervisor(2, run_worker, on_event=emit).run()``: ``run_worker(index, ready)`` runs in the
    forked worker and returns its exit status; it calls ``ready()`` once it answers calls."""

    def __init__(self, count: int, run_worker: Callable[[int, Callable[[], None]], int], *,
                 on_event: Callable[[dict], None], kill_after_s: float = 150.0):
        if count < 1:
            raise ValueError("at least one worker")
        self.workers = [_Worker(i) for i in range(count)]
        self.run_worker = run_worker
        self.on_event = on_event
        self.kill_after_s = kill_after_s
        self.signals = 0
        self._stop_at: float | None = None

    # -- the supervisor's loop ---------------------------------------------------------------------
    def run(self) -> int:
        """Until every worker has stopped after a signal; 2 when a worker could not start at all."""
        previous = {sig: signal.signal(sig, self._signalled) for sig in (signal.SIGTERM, signal.SIGINT)}
        # Every process writes event lines to the same stdout: each line must go out in one
        # write() (atomic on a pipe), not as text and newline apart, which is what an unbuffered
        # stdout (PYTHONUNBUFFERED, as under systemd setups) does. The workers inherit this.
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(line_buffering=True, write_through=False)
        forwarded = 0
        status = 0
        try:
            for worker in self.workers:
                self._fork(worker)
            announced = False
            while any(w.pid for w in self.workers) or (not self.signals and status == 0):
                if self.signals > forwarded:
                    forwarded = self.signals
                    self._stop_at = self._stop_at or time.monotonic() + self.kill_after_s
                    self._send(signal.SIGTERM)
                if self._stop_at is not None and time.monotonic() > self._stop_at:
                    self._send(signal.SIGKILL)
                self._read_ready()
                if not announced and all(w.ready for w in self.workers):
                    announced = True
                    self.on_event({"event": "workers_ready", "workers": len(self.workers),
                                   "pids": [w.pid for w in self.workers]})
                failed = self._reap()
                if failed is not None and status == 0:
                    status = 2            # could not start: stop the others, report
                    self.on_event({"event": "worker_failed", "worker": failed})
                    self.signals = max(self.signals, 1)
                if not self.signals and status == 0:
                    self._restart_due()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.on_event({"event": "workers_stopped",
                       "restarts": sum(w.restarts for w in self.workers)})
        return status

    def _signalled(self, signum, frame) -> None:
        self.signals += 1

    def _send(self, sig: int) -> None:
        for worker in self.workers:
            if worker.pid:
                try:
                    os.kill(worker.pid, sig)
                except ProcessLookupError:
                    pass

    def _read_ready(self) -> None:
        fds = [w.ready_fd for w in self.workers if w.pid and w.ready_fd >= 0]
        try:
            readable, _, _ = select.select(fds, [], [], 0.2) if fds else ([], [], [])
        except InterruptedError:
            return
        if not fds:
            time.sleep(0.2)
        for worker in self.workers:
            if worker.ready_fd in readable:
                data = os.read(worker.ready_fd, 1)
                self._close_pipe(worker)
                if data:
                    worker.ready = worker.ever_ready = True

    def _reap(self) -> int | None:
        """Collect dead workers; a restart is scheduled for each. Returns the index of a worker that
        died before it was ever ready (it cannot start: a port in use, a bad setting)."""
        failed = None
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return failed
            if pid == 0:
                return failed
            worker = next((w for w in self.workers if w.pid == pid), None)
            if worker is None:
                continue
            self._close_pipe(worker)
            worker.pid, worker.ready = 0, False
            code = os.waitstatus_to_exitcode(wait_status)
            event = {"event": "worker_exited", "worker": worker.index, "pid": pid}
            event.update({"signal": signal.Signals(-code).name} if code < 0 else {"status": code})
            self.on_event(event)
            if not worker.ever_ready:
                failed = worker.index
                continue
            lived = time.monotonic() - worker.started_at
            worker.delay_s = FIRST_DELAY_S if lived >= STABLE_S else min(MAX_DELAY_S, worker.delay_s * 2)
            worker.restart_at = time.monotonic() + (0.0 if lived >= STABLE_S else worker.delay_s)

    def _restart_due(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            if not worker.pid and worker.restart_at is not None and now >= worker.restart_at:
                worker.restart_at = None
                worker.restarts += 1
                self._fork(worker)

    @staticmethod
    def _close_pipe(worker: _Worker) -> None:
        if worker.ready_fd >= 0:
            os.close(worker.ready_fd)
            worker.ready_fd = -1

    # -- one worker ------------------------------------------------------------------------------
    def _fork(self, worker: _Worker) -> None:
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:                                    # the worker
            os.close(read_fd)
            os._exit(self._child(worker.index, write_fd))
        os.close(write_fd)
        worker.pid, worker.ready_fd, worker.started_at = pid, read_fd, time.monotonic()
        self.on_event({"event": "worker_started", "worker": worker.index, "pid": pid})

    def _child(self, index: int, ready_fd: int) -> int:
        signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C comes through the supervisor
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for other in self.workers:                      # the others' pipes are not ours
            if other.ready_fd >= 0:
                os.close(other.ready_fd)
        os.environ[WORKER_ENV] = str(index)

        def ready() -> None:
            try:
                os.write(ready_fd, b"1")
                os.close(ready_fd)
            except OSError:
                pass
        status = 1
        try:
            status = int(self.run_worker(index, ready) or 0)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:  # noqa: BLE001 - reported, then this process ends
            print(f"voice-agent: worker {index}: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return status
