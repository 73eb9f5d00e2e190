"""The line as a PBX sees it: the address in our SDP, 503 while draining, a dead caller's line freed.

The server runs in this process with a tiny handler (hold the call until it ends); a bare UDP
caller (sip_raw.py) reads our answers, and baresip plays the caller whose phone dies (SIGSTOP:
no more RTP, no answer to our BYE).
"""
import os
import signal
import threading
import time

import pytest
from sip_raw import RawCall, header, sdp_address, status

from voice_agent.sip import address
from voice_agent.sip import baresip as bs

pytest.importorskip("pjsua2", reason="the sip extra (pjsua2-python) is not installed")

from voice_agent.sip.server import SipServer  # noqa: E402  (needs pjsua2)


def hold(line) -> None:
    while not line.hung_up.is_set():
        line.read_audio(0.1)


def test_sdp_addresses_are_rewritten_to_the_one_given():
    offer = ("v=0\r\no=- 5 5 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
             "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.2\r\n")
    out = address.rewrite_sdp(offer, "127.0.0.1")
    assert "192.0.2.2" not in out and out.count("IN IP4 127.0.0.1") == 3
    assert "c=IN IP6 ::1" in address.rewrite_sdp(offer, "::1")
    assert address.media_host(offer) == "192.0.2.2" and address.media_host("") is None
    assert address.route_address("127.0.0.1") == "127.0.0.1"
    # No offer in the INVITE: the SIP source decides.
    assert address.answer_address("", "127.0.0.1:5060") == "127.0.0.1"
    assert address.route_address("not an address") is None


@pytest.mark.parametrize("listen,public,expected", [
    ("0.0.0.0", "", "127.0.0.1"),            # routed towards the caller, not eth0's address
    ("127.0.0.1", "192.0.2.77", "192.0.2.77"),
])
def test_the_answer_advertises_an_address_the_caller_can_use(listen, public, expected):
    port = bs.free_udp_port()
    server = SipServer(listen, port, hold, allowed_peers=["127.0.0.1"], max_calls=2,
                       public_address=public).start()
    call = RawCall("127.0.0.1", port)
    try:
        answer = call.invite()
        assert status(answer) == 200, answer
        assert sdp_address(answer) == expected, answer
        if public:
            assert public in header(answer, "Contact")
        assert status(call.bye()) == 200
    finally:
        call.close()
        server.stop()


def test_draining_answers_new_calls_503_and_waits_for_the_calls_in_progress():
    port = bs.free_udp_port()
    server = SipServer("127.0.0.1", port, hold, allowed_peers=["127.0.0.1"], max_calls=2).start()
    first, second = RawCall("127.0.0.1", port), RawCall("127.0.0.1", port)
    left = []
    try:
        assert status(first.invite()) == 200
        drain = threading.Thread(target=lambda: left.append(server.drain(20)))
        drain.start()
        time.sleep(0.3)
        assert status(second.invite()) == 503            # not taking calls any more
        assert drain.is_alive()                          # the call in progress is waited for
        t0 = time.monotonic()
        assert status(first.bye()) == 200
        drain.join(10)
        assert left == [0] and time.monotonic() - t0 < 2
        assert server.stats.unavailable == 1 and server.stats.answered == 1
    finally:
        first.close()
        second.close()
        server.stop()


def test_drain_gives_up_after_its_time_or_when_told():
    port = bs.free_udp_port()
    server = SipServer("127.0.0.1", port, hold, allowed_peers=["127.0.0.1"], max_calls=2).start()
    call = RawCall("127.0.0.1", port)
    try:
        assert status(call.invite()) == 200
        t0 = time.monotonic()
        assert server.drain(0.5) == 1 and 0.4 < time.monotonic() - t0 < 2
        now = threading.Event()
        now.set()
        assert server.drain(60, now) == 1                # a second signal: stop at once
    finally:
        server.stop()                                    # hangs up the call that is left
        call.close()
    assert server.stats.completed == 1


@pytest.mark.skipif(not bs.available(), reason="baresip with aufile/sndfile/aubridge is not installed")
def test_a_caller_that_stops_sending_rtp_frees_its_line(tmp_path):
    events = []
    port = bs.free_udp_port()
    server = SipServer("127.0.0.1", port, hold, allowed_peers=["127.0.0.1"], max_calls=1,
                       rtp_timeout_s=2, on_event=events.append).start()
    dead = bs.BaresipCaller(tmp_path / "dead", f"sip:agent@127.0.0.1:{port}").start()
    callers = [dead]
    try:
        dead.dial()
        assert dead.wait_established(10)
        time.sleep(1.5)
        assert not server.stats.rtp_timeouts             # RTP flowing: not judged silent
        os.kill(dead.proc.pid, signal.SIGSTOP)           # the phone dies: no RTP, no SIP
        stopped = time.monotonic()
        answered_again = None
        for i in range(8):
            time.sleep(1)
            nxt = bs.BaresipCaller(tmp_path / f"next{i}", f"sip:agent@127.0.0.1:{port}").start()
            callers.append(nxt)
            nxt.dial()
            if nxt.wait_established(1.5):
                answered_again = time.monotonic() - stopped
                break
            nxt.quit()
        timeouts = [e for e in events if e["event"] == "rtp_timeout"]
        assert len(timeouts) == 1 and 2 <= timeouts[0]["silent_s"] < 3.5
        # The line is free within the timeout plus PJSIP's shortened BYE transaction (2 s).
        assert answered_again is not None and answered_again < 2 + 1 + 2 + 3, events
    finally:
        os.kill(dead.proc.pid, signal.SIGCONT)
        for caller in callers:
            caller.quit()
        server.stop()
