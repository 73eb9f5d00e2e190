"""pjsua2 objects die before the SIP stack does, in its loop thread, and never after.

Why: a pjsua2 object's C++ destructor calls into PJSIP (a Call hangs up, an AudioMediaPort leaves
the conference bridge, an Account unregisters). Run after ``libDestroy``, or from a thread PJSIP
does not know, it touches freed memory, and the process dies later at some unrelated allocation
(the full suite segfaulted about one run in three under load). So after ``stop()`` no instance of
a pjsua2 class may be left, and every one that had such a destructor must have died in the
"sip-loop" thread - including a call whose dialogue worker was still busy when ``stop()`` gave up
waiting for it.
"""
import gc
import threading
import time

import pytest

from voice_agent.sip import baresip as bs

pj = pytest.importorskip("pjsua2", reason="the sip extra (pjsua2-python) is not installed")
if not bs.available():
    pytest.skip("baresip is not installed", allow_module_level=True)

from voice_agent.sip.server import SipServer  # noqa: E402  (needs pjsua2)

# The pjsua2 classes whose C++ destructors call into PJSIP.
CALLS_INTO_PJSIP = (pj.Call, pj.Account, pj.AudioMedia, pj.Endpoint)


@pytest.fixture
def deaths(monkeypatch):
    """(class name, thread name) of every pjsua2 object with a PJSIP destructor that died."""
    seen: list[tuple[str, str]] = []

    def record(obj) -> None:
        seen.append((type(obj).__name__, threading.current_thread().name))
    for cls in CALLS_INTO_PJSIP:
        monkeypatch.setattr(cls, "__del__", record, raising=False)
    gc.collect()
    seen.clear()
    return seen


def pjsua2_objects() -> list:
    found = []
    for obj in gc.get_objects():
        try:
            mro = type(obj).__mro__
        except Exception:  # noqa: BLE001 - odd objects without a type we can read
            continue
        if any(c.__module__ in ("pjsua2", "pjsua2.pjsua2") for c in mro):
            found.append(obj)
    return found


class Talker:
    """Plays, listens until the caller hangs up; with ``linger_s`` it keeps the worker busy
    that long after the hang-up (a dialogue still finishing while the server stops)."""

    def __init__(self, linger_s: float = 0.0):
        self.linger_s = linger_s
        self.done = threading.Event()

    def __call__(self, line):
        try:
            line.play(b"\1\0" * 16000)
            deadline = time.monotonic() + 20
            while not line.hung_up.is_set() and time.monotonic() < deadline:
                line.read_audio(0.05)
            time.sleep(self.linger_s)
            line.play(b"\1\0" * 160)            # the late worker still uses its line
        finally:
            self.done.set()


def one_call(tmp_path, handler, *, caller_hangs_up: bool, stop_timeout: float = 10.0) -> SipServer:
    port = bs.free_udp_port()
    server = SipServer("127.0.0.1", port, handler, allowed_peers=["127.0.0.1"], max_calls=2,
                       rtp_timeout_s=30).start()
    caller = bs.BaresipCaller(tmp_path / "caller", f"sip:agent@127.0.0.1:{port}").start()
    try:
        caller.dial()
        assert caller.wait_established(10), caller.log()[-2000:]
        time.sleep(1.0)                                  # media flows both ways
        if caller_hangs_up:
            caller.hangup()
            assert caller.wait_closed(10)
            time.sleep(0.3)
    finally:
        server.stop(timeout=stop_timeout)
        caller.quit()
    return server


def assert_nothing_outlives_the_stack(deaths, server: SipServer) -> None:
    assert server.endpoint._thread.is_alive() is False
    gc.collect()
    assert [type(o).__name__ for o in pjsua2_objects()] == []
    died = {name for name, _ in deaths}
    assert {"SipCall", "CallAudioPort", "_Account", "_Endpoint"} <= died, deaths
    assert [d for d in deaths if d[1] != "sip-loop"] == []


def test_after_a_call_the_caller_ended_nothing_of_pjsua2_outlives_the_stack(tmp_path, deaths):
    server = one_call(tmp_path, Talker(), caller_hangs_up=True)
    assert server.stats.completed == 1
    assert_nothing_outlives_the_stack(deaths, server)


def test_a_call_still_up_at_stop_dies_in_the_loop_thread(tmp_path, deaths):
    server = one_call(tmp_path, Talker(), caller_hangs_up=False)
    assert server.stats.completed == 1
    assert_nothing_outlives_the_stack(deaths, server)


def test_a_worker_outliving_stop_leaves_nothing_to_die_after_the_stack(tmp_path, deaths):
    handler = Talker(linger_s=1.5)
    server = one_call(tmp_path, handler, caller_hangs_up=False, stop_timeout=0.3)
    assert handler.done.wait(10)
    time.sleep(0.3)                                    # the worker's own clean-up
    assert_nothing_outlives_the_stack(deaths, server)
