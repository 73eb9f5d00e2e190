"""The workers' supervisor alone (no SIP): restart a worker that dies, pass signals on, report.

It runs in a subprocess of its own (it forks and installs signal handlers), with workers that are
small Python functions: they say ready, then wait for SIGTERM; one dies once on its first start.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent('''
    import json, os, signal, sys, time
    from pathlib import Path
    from voice_agent.sip.workers import Supervisor
    marker = Path(sys.argv[1])

    def emit(event):
        print(json.dumps(event), flush=True)

    def run_worker(index, ready):
        if index == 1 and not marker.exists():       # dies once, after it was ready
            marker.write_text("x")
            ready()
            time.sleep(0.3)
            os._exit(3)
        if index == 2 and sys.argv[2] == "broken":    # never gets ready
            return 2
        got = []
        signal.signal(signal.SIGTERM, lambda *_: got.append(1))
        ready()
        emit({"event": "worker_env", "worker": int(os.environ["VOICE_AGENT_WORKER"])})
        while len(got) < int(sys.argv[3]):
            time.sleep(0.05)
        return 0

    sys.exit(Supervisor(3, run_worker, on_event=emit, kill_after_s=5).run())
''')


def start(tmp_path, mode: str = "ok", signals_to_stop: int = 1):
    script = tmp_path / "sup.py"
    script.write_text(SCRIPT)
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "died"), mode,
                             str(signals_to_stop)], stdout=subprocess.PIPE, text=True)


def read_until(proc, name: str, events: list, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        events.append(json.loads(line))
        if events[-1]["event"] == name:
            return events[-1]
    raise AssertionError(f"no {name}: {events}")


def test_a_dead_worker_is_restarted_and_sigterm_stops_them_all(tmp_path):
    proc = start(tmp_path)
    events: list[dict] = []
    read_until(proc, "workers_ready", events)
    exited = read_until(proc, "worker_exited", events)
    assert exited["worker"] == 1 and exited["status"] == 3
    restarted = read_until(proc, "worker_started", events)
    assert restarted["worker"] == 1 and restarted["pid"] != exited["pid"]
    while sorted(e["worker"] for e in events if e["event"] == "worker_env") != [0, 1, 2]:
        read_until(proc, "worker_env", events)
    proc.send_signal(signal.SIGTERM)
    stopped = read_until(proc, "workers_stopped", events)
    assert proc.wait(10) == 0 and stopped["restarts"] == 1
    assert sum(1 for e in events if e["event"] == "worker_exited" and e.get("status") == 0) == 3


def test_the_second_signal_is_passed_on_too(tmp_path):
    (tmp_path / "died").write_text("x")               # nobody dies here
    proc = start(tmp_path, signals_to_stop=2)
    events: list[dict] = []
    read_until(proc, "workers_ready", events)
    proc.send_signal(signal.SIGTERM)
    time.sleep(1)
    assert proc.poll() is None                        # the workers drain: still up
    proc.send_signal(signal.SIGINT)                   # Ctrl-C: the second signal
    read_until(proc, "workers_stopped", events)
    assert proc.wait(10) == 0


def test_a_worker_that_never_gets_ready_stops_the_others_with_status_2(tmp_path):
    (tmp_path / "died").write_text("x")
    proc = start(tmp_path, mode="broken")
    events: list[dict] = []
    failed = read_until(proc, "worker_failed", events)
    assert failed["worker"] == 2
    read_until(proc, "workers_stopped", events)
    assert proc.wait(10) == 2
    assert not [e for e in events if e["event"] == "workers_ready"]
