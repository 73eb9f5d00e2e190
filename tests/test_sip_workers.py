"""`voice-agent serve --workers N` and drain, as a PBX would meet them: real processes, baresip calls.

Two workers take eight calls at once (four each, the wheel's cap) and the ninth is busy; a worker
killed mid-call comes back on its port and its call ends `interrupted` in the store; SIGTERM lets
a call in progress go on (new calls get 503) and the process ends when it does.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from sip_serve import CHEAP_HASH, Serve, calls_list, demo_db

from voice_agent.sip import baresip as bs

pytest.importorskip("pjsua2", reason="the sip extra (pjsua2-python) is not installed")
if not bs.available():
    pytest.skip("baresip with aufile/sndfile/aubridge is not installed", allow_module_level=True)

pytestmark = pytest.mark.slow


def free_ports(count: int) -> int:
    """A first port such that it and the next ``count - 1`` are free (UDP, 127.0.0.1)."""
    for _ in range(50):
        first = bs.free_udp_port()
        socks = []
        try:
            for port in range(first, first + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no run of free ports")


@pytest.fixture
def workers(tmp_path):
    db = demo_db(tmp_path)
    port = free_ports(2)
    server = Serve(db, port, "--workers", "2", worker=None)
    server.wait(lambda e: e.get("event") == "workers_ready", 120)
    server.port, server.db = port, db
    yield server
    if server.proc.poll() is None:
        server.stop(signals=2)


def caller(tmp_path, name: str, port: int, user: str = "+18035550100") -> bs.BaresipCaller:
    return bs.BaresipCaller(tmp_path / name, f"sip:agent@127.0.0.1:{port}", user=user).start()


def test_two_workers_answer_eight_calls_at_once_and_the_ninth_is_busy(workers, tmp_path):
    ready = [e for e in workers.events if e.get("event") == "ready"]
    assert sorted(e["sip"] for e in ready) == [f"127.0.0.1:{workers.port}",
                                                f"127.0.0.1:{workers.port + 1}"]
    assert all(e["max_calls"] == 4 for e in ready)
    if "worker" in ready[0]:          # event lines tell the workers apart (VOICE_AGENT_WORKER)
        assert {e["sip"]: e["worker"] for e in ready} == {f"127.0.0.1:{workers.port}": 0,
                                                          f"127.0.0.1:{workers.port + 1}": 1}
    callers = []
    try:
        for i in range(8):
            c = caller(tmp_path, f"c{i}", workers.port + i % 2, user=f"+1803555{i:04d}")
            callers.append(c)
            c.dial()
        for c in callers:
            assert c.wait_established(15), c.log()[-1500:]
        extra = caller(tmp_path, "ninth", workers.port)
        callers.append(extra)
        extra.dial()
        assert extra.wait_closed(10) and "486" in extra.log(), extra.log()[-1500:]
        assert sum(1 for e in workers.events if e.get("event") == "answered") == 8
        for c in callers[:8]:
            c.hangup()
        for c in callers[:8]:
            assert c.wait_closed(10)
    finally:
        for c in callers:
            c.quit()
    code, _ = workers.stop()
    assert code == 0
    stopped = [e for e in workers.events if e.get("event") == "stopped"]
    assert len(stopped) == 2 and sum(e["answered"] for e in stopped) == 8
    assert workers.events[-1]["event"] == "workers_stopped"


def test_a_worker_killed_mid_call_comes_back_and_its_call_ends_interrupted(workers, tmp_path):
    victim = caller(tmp_path, "victim", workers.port + 1)
    callers = [victim]
    try:
        victim.dial()
        assert victim.wait_established(10)
        workers.wait(lambda e: e.get("event") == "prompt" and e["expecting"] == "language", 30)
        started = [e for e in workers.events if e.get("event") == "worker_started"]
        pid = next(e["pid"] for e in reversed(started) if e["worker"] == 1)
        os.kill(pid, signal.SIGKILL)
        _, at = workers.wait(lambda e: e.get("event") == "worker_exited" and e["pid"] == pid, 10)
        assert workers.events[at - 1]["signal"] == "SIGKILL"
        _, at = workers.wait(lambda e: e.get("event") == "worker_started" and e["worker"] == 1,
                             10, at)
        workers.wait(lambda e: e.get("event") == "ready"
                     and e["sip"] == f"127.0.0.1:{workers.port + 1}", 60, at)
        # The new worker opened the store and closed the dead one's call.
        assert "interrupted" in calls_list(workers.db)
        again = caller(tmp_path, "again", workers.port + 1)
        callers.append(again)
        again.dial()
        assert again.wait_established(10)
        again.hangup()
        assert again.wait_closed(10)
        # The other worker never noticed.
        assert not [e for e in workers.events if e.get("event") == "worker_exited"
                    and e["pid"] != pid]
    finally:
        for c in callers:
            c.quit()
    code, _ = workers.stop()
    assert code == 0
    last = workers.events[-1]
    assert last["event"] == "workers_stopped" and last["restarts"] == 1


def test_a_worker_that_cannot_start_stops_the_whole_service(workers, tmp_path):
    run = subprocess.run([sys.executable, "-m", "voice_agent", "serve", "--sip",
                          f"127.0.0.1:{workers.port + 1}", "--workers", "2", "--db",
                          str(workers.db), *CHEAP_HASH], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "in use" in run.stderr, run.stderr
    assert '"worker_failed"' in run.stdout


def test_sigterm_drains_a_call_in_progress_finishes_and_new_calls_get_503(tmp_path):
    db = demo_db(tmp_path)
    port = bs.free_udp_port()
    serve = Serve(db, port)
    serve.wait(lambda e: e.get("event") == "ready", 60)
    first = caller(tmp_path, "first", port)
    callers = [first]
    try:
        first.dial()
        assert first.wait_established(10)
        serve.wait(lambda e: e.get("event") == "prompt" and e["expecting"] == "language", 30)
        serve.proc.send_signal(signal.SIGTERM)
        draining, at = serve.wait(lambda e: e.get("event") == "draining", 10)
        assert draining["calls"] == 1 and draining["drain_s"] == 120
        late = caller(tmp_path, "late", port)
        callers.append(late)
        late.dial()
        assert late.wait_closed(10) and "503" in late.log(), late.log()[-1500:]
        # The call in progress goes on: a key at the language menu brings the main menu.
        time.sleep(0.3)
        first.keys("1")
        serve.wait(lambda e: e.get("event") == "prompt" and e["expecting"] == "intent", 30, at)
        assert serve.proc.poll() is None
        first.hangup()
        assert first.wait_closed(10)
        t0 = time.monotonic()
        code = serve.proc.wait(20)                  # the last call ended: the process stops
        assert time.monotonic() - t0 < 15
    finally:
        for c in callers:
            c.quit()
    serve.reader.join(5)
    assert code == 0
    names = [e.get("event") for e in serve.events]
    assert "drain_ended" not in names and names[-1] == "stopped"
    done = next(e for e in serve.events if e.get("event") == "call_done")
    assert done["outcome"] == "abandoned"
