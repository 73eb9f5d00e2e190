"""The event lines of `serve --sip`: stamps (ts, worker) and rate-limited `refused` events.

Pure Python, no SIP stack: the end-to-end checks (a real `serve`, raw SIP on 127.0.0.1) are in
test_sip_cli.py and test_sip_guard.py.
"""
import io
import json
import re

from voice_agent.sip.events import EventLines, RefusalLog, peer_host, utc_stamp, worker_number


def test_lines_carry_a_utc_millisecond_timestamp_and_the_worker():
    out = io.StringIO()
    emit = EventLines(out, worker=3, clock=lambda: 1764616273.5)
    emit({"event": "answered", "call": 7, "peer": "127.0.0.1:5060"})
    line = json.loads(out.getvalue())
    assert line == {"event": "answered", "ts": "2025-12-01T19:11:13.500Z", "worker": 3,
                    "call": 7, "peer": "127.0.0.1:5060"}
    assert list(line)[:3] == ["event", "ts", "worker"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", utc_stamp(1764616273.9996))


def test_worker_number_comes_from_the_environment(monkeypatch):
    assert worker_number({}) == 0
    assert worker_number({"VOICE_AGENT_WORKER": "2"}) == 2
    assert worker_number({"VOICE_AGENT_WORKER": "x"}) == 0
    out = io.StringIO()
    emit = EventLines(out)                       # made before the worker's number is set ...
    monkeypatch.setenv("VOICE_AGENT_WORKER", "4")   # ... as a forked worker sets it
    emit({"event": "ready"})
    emit({"event": "worker_started", "worker": 2, "pid": 9})   # the supervisor's own line
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["worker"] == 4 and second["worker"] == 2


def test_the_worker_variable_is_not_a_setting():
    from voice_agent.settings import load_settings
    settings = load_settings(env={"VOICE_AGENT_WORKER": "3"})
    assert "worker" not in settings.data


def test_peer_host_drops_the_port():
    assert peer_host("10.0.0.5:5060") == "10.0.0.5"
    assert peer_host("[::1]:5060") == "::1"
    assert peer_host("") == ""


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_refusals_are_limited_per_peer_and_the_held_ones_counted():
    events, clock = [], Clock()
    log = RefusalLog(events.append, per_peer_per_s=3, total_per_s=50, clock=clock)
    for port in range(1000, 1100):                      # a flood from one address, many ports
        log.refused(403, "peer not allowed", f"192.0.2.9:{port}", method="INVITE", sip_call_id=f"c{port}")
    log.refused(486, "all lines busy", "127.0.0.1:5060", method="INVITE", sip_call_id="pbx-1")
    assert [e["peer"] for e in events] == ["192.0.2.9:1000", "192.0.2.9:1001", "192.0.2.9:1002",
                                           "127.0.0.1:5060"]
    assert all(e["suppressed"] == 0 for e in events)
    assert events[-1] == {"event": "refused", "status": 486, "reason": "all lines busy",
                          "peer": "127.0.0.1:5060", "method": "INVITE", "sip_call_id": "pbx-1",
                          "suppressed": 0}
    clock.now += 1.0                                    # next second: the next line says how many
    log.refused(403, "peer not allowed", "192.0.2.9:2000", method="OPTIONS", sip_call_id="x")
    assert events[-1]["suppressed"] == 97 and events[-1]["method"] == "OPTIONS"
    log.close()
    assert len(events) == 5                              # nothing left held back


def test_refusals_held_back_are_reported_when_the_flood_stops():
    events, clock = [], Clock()
    log = RefusalLog(events.append, per_peer_per_s=1, clock=clock)
    for _ in range(10):
        log.refused(403, "peer not allowed", "192.0.2.9:5060", method="INVITE", sip_call_id="a")
    assert len(events) == 1
    clock.now += 1.0
    log.flush()                                         # what the timer does a second later
    assert len(events) == 2 and events[1]["suppressed"] == 8   # the last held one + 8 others
    log.close()
    assert len(events) == 2


def test_the_total_limit_holds_for_many_peers():
    events, clock = [], Clock()
    log = RefusalLog(events.append, per_peer_per_s=5, total_per_s=10, clock=clock)
    for i in range(200):
        log.refused(403, "peer not allowed", f"198.51.100.{i}:5060")
    assert len(events) == 10
    log.close()                                          # 190 peers held: 10 lines, not 190
    assert len(events) == 20 and events[-1]["peer"] == "*"
    assert sum(1 + e["suppressed"] for e in events) == 200
