#!/usr/bin/env python3
"""Concurrent calls on the phone line, measured end to end: prints figures, asserts nothing.

    python scripts/bench_sip.py [--calls 1,2,4] [--json FILE]
    python scripts/bench_sip.py --workers 3 --calls 4,8,12 [--flood 0]

For each N, N baresip callers dial the agent on 127.0.0.1 at once and each pays a bill by keypad
(RFC 4733) through the whole dialogue (language menu, verification, amount, card, read-back,
consent), then hangs up. Reported per N: calls that ended "paid", wall time for the batch,
answer time (dial -> 200 OK), the agent's reply time per caller turn (turn complete -> reply audio
queued: NLU, dialogue, store, speech rendering), and the CPU the agent process used per call.
Then a flood: INVITEs from a stranger as fast as one socket sends them, and whether a real call
still gets through. The baresip callers run on the same machine and take CPU too.

With ``--workers W`` each batch runs against the real ``voice-agent serve --workers W`` (caller i
dials worker i mod W, so W x 4 lines exist) and the memory of the supervisor and of each worker is
read from /proc while every call is up: RSS, and the worker's private memory (what one more worker
costs, the loaded models being shared since the fork).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voice_agent.app import build  # noqa: E402
from voice_agent.settings import load_settings  # noqa: E402
from voice_agent.sip import baresip as bs  # noqa: E402
from voice_agent.sip.server import SipServer  # noqa: E402
from voice_agent.sip.session import PhoneCall  # noqa: E402


def accounts(n: int) -> dict:
    return {"accounts": [
        {"account_number": f"9100000{i:02d}", "name": f"Bench Caller {i}", "zip": "29730",
         "phone": f"+1803555{i:04d}", "pin": "1357", "language": "en", "status": "active",
         "balance_cents": 5000 + i, "past_due_cents": 0, "due_date": "2099-01-01",
         "service_address": "1 Bench St", "charges": []} for i in range(n)]}


def keys_for(i: int) -> list[tuple[str, str]]:
    return [("language", "1"), ("intent", "2"), ("account_number", f"9100000{i:02d}#"),
            ("pin", "1357#"), ("amount", "1"), ("payment_method", "1"),
            ("card_number", "4111111111111111#"), ("card_expiry", "1230#"), ("confirm", "1"),
            ("confirm", "2")]


class Events:
    def __init__(self):
        self.cond = threading.Condition()
        self.by_call: dict[int, list[dict]] = {}
        self.answered: list[int] = []

    def __call__(self, event: dict) -> None:
        with self.cond:
            if event.get("event") == "answered":
                self.answered.append((event["call"], int(event["peer"].rsplit(":", 1)[1])))
            if "call" in event:
                self.by_call.setdefault(event["call"], []).append(event)
            self.cond.notify_all()

    def call_from(self, sip_port: int, timeout: float = 10) -> int:
        """The server's number for the call placed from the caller's SIP port."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while time.monotonic() < deadline:
                for call, port in self.answered:
                    if port == sip_port:
                        return call
                self.cond.wait(0.2)
        raise TimeoutError(f"no call from port {sip_port}")

    def wait(self, call: int, pred, start: int, timeout: float = 90) -> int:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                evs = self.by_call.get(call, [])
                for i in range(start, len(evs)):
                    if pred(evs[i]):
                        return i + 1
                if time.monotonic() > deadline:
                    raise TimeoutError(f"call {call}: {evs[-3:]}")
                self.cond.wait(0.5)


def one_call(i: int, port: int, work: Path, events: Events, out: dict) -> None:
    caller = bs.BaresipCaller(work / f"c{i}", f"sip:agent@127.0.0.1:{port}",
                              user=f"+1803555{i:04d}").start()
    try:
        t0 = time.monotonic()
        caller.dial()
        caller.wait_established(15)
        out["answer_s"] = time.monotonic() - t0
        call = events.call_from(caller.port)
        at = 0
        for expecting, digits in keys_for(i):
            at = events.wait(call, lambda e, want=expecting: e.get("event") == "prompt"
                             and e["expecting"] == want, at)
            time.sleep(0.2)
            caller.keys(digits)
        events.wait(call, lambda e: e.get("event") == "prompt" and e["expecting"] == "intent", at)
        caller.hangup()
        caller.wait_closed(10)
        out["call_s"] = time.monotonic() - t0
    except Exception as exc:  # noqa: BLE001 - reported in the figures
        out["error"] = str(exc)[:200]
    finally:
        caller.quit()


def round_of(n: int, settings_base, work: Path) -> dict:
    db = work / f"bench-{n}.db"
    settings = settings_base.with_overrides(database=str(db))
    services = build(settings, create=True, load_models=True)
    services.store.import_accounts(accounts(n))
    events = Events()
    reports = []
    lock = threading.Lock()

    def handler(line):
        report = PhoneCall(services, line, on_event=events).run()
        with lock:
            reports.append(report)

    port = bs.free_udp_port()
    server = SipServer("127.0.0.1", port, handler, allowed_peers=["127.0.0.1"], max_calls=max(n, 1),
                       on_event=events).start()
    busy0 = server.stats.busy
    outs = [dict() for _ in range(n)]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    threads = []
    for i in range(n):
        t = threading.Thread(target=one_call, args=(i, port, work / f"r{n}", events, outs[i]))
        t.start()
        threads.append(t)
        time.sleep(0.3)        # callers do not all press dial in the same millisecond
    for t in threads:
        t.join(300)
    wall = time.monotonic() - t0
    time.sleep(1)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    server.stop()
    services.close()
    reply = [s for r in reports for s in r.reply_s]
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"calls": n, "paid": sum(1 for r in reports if r.outcome == "paid"),
            "busy": server.stats.busy - busy0,
            "errors": [o["error"] for o in outs if "error" in o],
            "wall_s": round(wall, 1),
            "answer_ms_median": round(1000 * statistics.median(o["answer_s"] for o in outs if "answer_s" in o), 1)
            if any("answer_s" in o for o in outs) else None,
            "call_s_median": round(statistics.median(o["call_s"] for o in outs if "call_s" in o), 1)
            if any("call_s" in o for o in outs) else None,
            "reply_ms_median": round(1000 * statistics.median(reply), 1) if reply else None,
            "reply_ms_p95": round(1000 * sorted(reply)[int(0.95 * (len(reply) - 1))], 1) if reply else None,
            "agent_cpu_s_per_call": round(cpu / max(n, 1), 2)}


def invite(port: int, src: str, src_port: int) -> bytes:
    return (f"INVITE sip:agent@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {src}:{src_port};branch=z9hG4bK{uuid.uuid4().hex[:12]}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:x@{src}>;tag=1\r\nTo: <sip:agent@127.0.0.1>\r\n"
            f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()


def flood(settings_base, work: Path, count: int) -> dict:
    settings = settings_base.with_overrides(database=str(work / "flood.db"))
    services = build(settings, create=True)
    services.store.install_demo()
    port = bs.free_udp_port()
    server = SipServer("127.0.0.1", port, lambda line: line.hung_up.wait(5),
                       allowed_peers=["127.0.0.1"], max_calls=2).start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.2", 0))
    t0 = time.monotonic()
    for _ in range(count):
        sock.sendto(invite(port, "127.0.0.2", sock.getsockname()[1]), ("127.0.0.1", port))
    send_s = time.monotonic() - t0
    time.sleep(1.0)
    caller = bs.BaresipCaller(work / "after-flood", f"sip:agent@127.0.0.1:{port}").start()
    caller.dial()
    ok = caller.wait_established(10)
    caller.hangup()
    caller.wait_closed(5)
    caller.quit()
    result = {"invites": count, "sent_per_s": round(count / send_s), "door_received": server.door.received,
              "door_403s": server.door.replied, "reached_pjsip": server.stats.answered - (1 if ok else 0),
              "real_call_after_flood": ok, "front_door": server.door_open}
    server.stop()
    services.close()
    return result


# Run inside `serve`: events get the worker's index from VOICE_AGENT_WORKER when the command does
# not add it itself (the bench tells calls of different workers apart by it).
SERVE_WITH_WORKER = """
import json, os, sys
class _Tagged:
    def __init__(self, out):
        self.out = out
    def write(self, text):
        if text.startswith("{") and '"worker"' not in text and "VOICE_AGENT_WORKER" in os.environ:
            event = json.loads(text)
            event["worker"] = int(os.environ["VOICE_AGENT_WORKER"])
            text = json.dumps(event)
        return self.out.write(text)
    def __getattr__(self, name):
        return getattr(self.out, name)
os.register_at_fork(after_in_child=lambda: setattr(sys, "stdout", _Tagged(sys.stdout)))
from voice_agent.cli import main
sys.exit(main(sys.argv[1:]))
"""


def memory_mb(pid: int) -> dict:
    """RSS and private memory (MB) of one process, from /proc/<pid>/smaps_rollup."""
    fields = {}
    try:
        for row in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = row.split()[:2]
            fields[name.rstrip(":")] = int(value) / 1024
    except OSError:
        return {}
    return {"rss": round(fields.get("Rss", 0)), "pss": round(fields.get("Pss", 0)),
            "private": round(fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0))}


def cpu_s(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


class ServeProcess:
    """`voice-agent serve --workers W` on consecutive ports; its events keyed (worker, call)."""

    def __init__(self, db: Path, port: int, workers: int, events: Events):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE_WITH_WORKER, "serve", "--sip", f"127.0.0.1:{port}",
             "--workers", str(workers), "--db", str(db), "--set", "password_hash.n=1024"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))
        self.workers: dict[int, int] = {}
        self.ready = threading.Event()
        self.cpu_done = 0.0           # CPU of workers that already ended
        self._events = events
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for text in self.proc.stdout:
            try:
                event = json.loads(text)
            except ValueError:
                continue
            if event.get("event") == "worker_started":
                self.workers[event["worker"]] = event["pid"]
            elif event.get("event") == "workers_ready":
                self.ready.set()
            if "call" in event:
                event["call"] = (event.get("worker", 0), event["call"])
            self._events(event)

    def pids(self) -> list[int]:
        return [self.proc.pid, *self.workers.values()]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def workers_round(n: int, workers: int, settings_base, work: Path) -> dict:
    db = work / f"bench-w{workers}-{n}.db"
    services = build(settings_base.with_overrides(database=str(db)), create=True)
    services.store.import_accounts(accounts(n))
    services.close()
    events = Events()
    port = free_port_run(workers)
    serve = ServeProcess(db, port, workers, events)
    if not serve.ready.wait(180):
        serve.stop()
        raise RuntimeError("serve --workers did not start")
    idle = {"supervisor": memory_mb(serve.proc.pid),
            "worker": [memory_mb(pid) for pid in serve.workers.values()]}
    outs = [dict() for _ in range(n)]
    cpu0 = sum(cpu_s(pid) for pid in serve.pids())
    t0 = time.monotonic()
    threads = []
    for i in range(n):
        t = threading.Thread(target=one_call, args=(i, port + i % workers, work / f"w{workers}-{n}",
                                                    events, outs[i]))
        t.start()
        threads.append(t)
        time.sleep(0.3)
    busy_mem = {"supervisor": memory_mb(serve.proc.pid),
                "worker": [memory_mb(pid) for pid in serve.workers.values()]}
    for t in threads:
        t.join(300)
    wall = time.monotonic() - t0
    time.sleep(1)
    cpu = sum(cpu_s(pid) for pid in serve.pids()) - cpu0
    serve.stop()
    done = [e for evs in events.by_call.values() for e in evs if e.get("event") == "call_done"]
    answered = {e["call"] for evs in events.by_call.values() for e in evs
                if e.get("event") == "answered"}
    return {"workers": workers, "calls": n, "paid": sum(1 for e in done if e.get("outcome") == "paid"),
            "outcomes": sorted(str(e.get("outcome")) for e in done), "answered": len(answered),
            "errors": [o["error"] for o in outs if "error" in o],
            "wall_s": round(wall, 1),
            "answer_ms_median": round(1000 * statistics.median(o["answer_s"] for o in outs if "answer_s" in o), 1)
            if any("answer_s" in o for o in outs) else None,
            "agent_cpu_s_per_call": round(cpu / max(n, 1), 2),
            "memory_idle_mb": idle, "memory_busy_mb": busy_mem}


def free_port_run(count: int) -> int:
    """A port such that it and the next ``count - 1`` are free on 127.0.0.1."""
    for _ in range(50):
        first, socks = bs.free_udp_port(), []
        try:
            for port in range(first, first + count):
                socks.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
                socks[-1].bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no run of free ports")


def print_workers_round(r: dict) -> None:
    busy = r["memory_busy_mb"]
    per_worker = "/".join(str(m.get("private", "?")) for m in busy["worker"])
    print(f"{r['workers']:>7} {r['calls']:>5} {r['answered']:>8} {r['paid']:>4} {r['wall_s']:>7} "
          f"{r['answer_ms_median']!s:>9} {r['agent_cpu_s_per_call']:>9} "
          f"{busy['supervisor'].get('rss', '?'):>14} {per_worker:>22}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", default="1,2,4,6", help="batch sizes, comma-separated (one process "
                    "takes at most 4 calls with the pjsua2-python wheel: the rest get 486)")
    ap.add_argument("--flood", type=int, default=5000, help="INVITEs in the flood (0: skip)")
    ap.add_argument("--workers", type=int, default=0,
                    help="run each batch against `serve --workers W` (4 lines per worker)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    if not bs.available():
        print("bench_sip: baresip with aufile/sndfile/aubridge is needed", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-sip-"))
    base = load_settings(env={}, cwd=work, cli={"password_hash": {"n": 1024, "r": 8, "p": 1}})
    results = {"rounds": [], "flood": None}
    if args.workers:
        print(f"{'workers':>7} {'calls':>5} {'answered':>8} {'paid':>4} {'wall s':>7} {'answer ms':>9} "
              f"{'CPU s/call':>9} {'supervisor MB':>14} {'worker private MB':>22}")
        for n in [int(x) for x in args.calls.split(",") if x.strip()]:
            r = workers_round(n, args.workers, base, work)
            results["rounds"].append(r)
            print_workers_round(r)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
        return 0
    print(f"{'calls':>5} {'paid':>4} {'busy':>4} {'wall s':>7} {'answer ms':>9} {'call s':>7} "
          f"{'reply ms med':>12} {'p95':>7} {'agent CPU s/call':>16}")
    for n in [int(x) for x in args.calls.split(",") if x.strip()]:
        r = round_of(n, base, work)
        results["rounds"].append(r)
        print(f"{r['calls']:>5} {r['paid']:>4} {r['busy']:>4} {r['wall_s']:>7} {r['answer_ms_median']!s:>9} "
              f"{r['call_s_median']!s:>7} {r['reply_ms_median']!s:>12} {r['reply_ms_p95']!s:>7} "
              f"{r['agent_cpu_s_per_call']:>16}" + (f"  ({len(r['errors'])} callers not answered)"
                                                     if r["errors"] else ""))
    if args.flood:
        f = flood(base, work, args.flood)
        results["flood"] = f
        print(f"flood: {f['invites']} INVITEs from a stranger at {f['sent_per_s']}/s: door took "
              f"{f['door_received']}, answered {f['door_403s']} (rate-limited 403), "
              f"{f['reached_pjsip']} reached PJSIP; real call afterwards: "
              f"{'answered' if f['real_call_after_flood'] else 'FAILED'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
