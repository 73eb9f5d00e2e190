"""Every SIP request gets a final answer: raw UDP requests from an allowed peer on 127.0.0.1.

Before, REGISTER, unknown methods and BYE/INFO/NOTIFY/UPDATE outside a dialog got no answer at
all (the sender retransmits for 32 s) and an OPTIONS inside a call got 500.
"""
import socket
import time
import uuid

import pytest

from voice_agent.sip.answers import Answer, answer_for, parse_head

pytest.importorskip("pjsua2", reason="the sip extra (pjsua2-python) is not installed")

from voice_agent.sip import baresip as bs  # noqa: E402
from voice_agent.sip.server import SipServer  # noqa: E402


def test_answer_for_each_kind_of_request():
    assert answer_for("REGISTER", False, False) == Answer(405, allow=True)
    assert answer_for("PUBLISH", False, False) == Answer(405, allow=True)
    assert answer_for("FOO", False, False) == Answer(501, allow=True)
    assert answer_for("FOO", True, True) == Answer(501, allow=True)
    for method in ("BYE", "INFO", "NOTIFY", "UPDATE", "PRACK"):
        assert answer_for(method, False, False) == Answer(481)
        assert answer_for(method, True, True) is None            # the call's own business
    assert answer_for("OPTIONS", True, True) == Answer(200, allow=True)
    assert answer_for("OPTIONS", True, False) is None            # PJSIP's dialog layer: 481
    for method in ("INVITE", "ACK", "CANCEL", "OPTIONS", "MESSAGE", "SUBSCRIBE"):
        assert answer_for(method, False, False) is None          # PJSIP answers these itself


def test_parse_head_reads_method_call_id_and_tags():
    head = parse_head(b"OPTIONS sip:a@h SIP/2.0\r\ni: abc@h\r\nf: <sip:p@h>;tag=1a\r\n"
                      b"To: \"Agent\" <sip:a@h;transport=udp>;tag=9z\r\n\r\nbody")
    assert (head.method, head.call_id, head.from_tag, head.to_tag) == ("OPTIONS", "abc@h", "1a", "9z")
    assert parse_head(b"BYE sip:a@h SIP/2.0\r\nTo: <sip:a@h;tag=x>\r\nCall-ID: c\r\n\r\n").to_tag == ""
    assert parse_head(b"garbage") is None


@pytest.fixture
def server():
    port = bs.free_udp_port()
    srv = SipServer("127.0.0.1", port, lambda line: line.hung_up.wait(10),
                    allowed_peers=["127.0.0.1"], max_calls=1).start()
    srv.port = port
    yield srv
    srv.stop()


class Peer:
    """A raw SIP peer on 127.0.0.1 talking to the server."""

    def __init__(self, port: int):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.local = self.sock.getsockname()[1]

    def request(self, method: str, *, call_id: str | None = None, from_tag: str = "p1",
                to_tag: str = "", cseq: int = 1, extra: str = "", body: str = "") -> str:
        """Send one request and return the first final response (text), or "" after 2 s."""
        to = f"<sip:agent@127.0.0.1:{self.port}>" + (f";tag={to_tag}" if to_tag else "")
        msg = (f"{method} sip:agent@127.0.0.1:{self.port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{self.local};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:+18035550123@127.0.0.1>;tag={from_tag}\r\n"
               f"To: {to}\r\nCall-ID: {call_id or uuid.uuid4().hex}\r\nCSeq: {cseq} {method}\r\n"
               f"Contact: <sip:peer@127.0.0.1:{self.local}>\r\n{extra}"
               f"Content-Length: {len(body)}\r\n\r\n{body}")
        self.sock.sendto(msg.encode(), ("127.0.0.1", self.port))
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65535).decode("utf-8", "replace")
            except TimeoutError:
                break
            if (data.startswith("SIP/2.0 ") and int(data[8:11]) >= 200
                    and f"\r\nCSeq: {cseq} {method}\r\n" in data):      # not a retransmission
                return data
        return ""


def status(response: str) -> int:
    return int(response[8:11]) if response else 0


@pytest.mark.parametrize("method,to_tag,code", [
    ("REGISTER", "", 405), ("PUBLISH", "", 405), ("REFER", "", 405), ("FOO", "", 501),
    ("BYE", "", 481), ("INFO", "", 481), ("NOTIFY", "", 481), ("UPDATE", "", 481), ("PRACK", "", 481),
    ("BYE", "x", 481), ("INFO", "x", 481), ("OPTIONS", "x", 481),    # a dialog that does not exist
    ("OPTIONS", "", 200), ("CANCEL", "", 481),
])
def test_every_request_kind_gets_a_final_answer(server, method, to_tag, code):
    response = Peer(server.port).request(method, to_tag=to_tag)
    assert status(response) == code, response or "no answer"
    if code in (405, 501):
        assert "\r\nAllow: " in response and "INVITE" in response


def test_message_and_subscribe_are_answered_too(server):
    peer = Peer(server.port)
    assert status(peer.request("MESSAGE", extra="Content-Type: text/plain\r\n", body="hi")) >= 200
    assert status(peer.request("SUBSCRIBE", extra="Event: presence\r\nExpires: 60\r\n")) >= 200


def sdp() -> str:
    return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def test_options_inside_a_call_gets_200_with_allow(server):
    peer, call_id = Peer(server.port), uuid.uuid4().hex
    ok = peer.request("INVITE", call_id=call_id, extra="Content-Type: application/sdp\r\n", body=sdp())
    assert status(ok) == 200, ok
    to_tag = next(line for line in ok.split("\r\n") if line.startswith("To:")).split("tag=")[1]
    peer.request("ACK", call_id=call_id, to_tag=to_tag)    # no answer to an ACK: returns ""
    options = peer.request("OPTIONS", call_id=call_id, to_tag=to_tag, cseq=2)
    assert status(options) == 200 and "\r\nAllow: " in options, options
    bye = peer.request("BYE", call_id=call_id, to_tag=to_tag, cseq=3)
    assert status(bye) == 200, bye                         # the call itself still works
    assert server.endpoint.answers.answered.get(200) == 1


def test_calls_refused_by_pjsip_are_refused_events_with_the_peer():
    events: list[dict] = []
    port = bs.free_udp_port()
    srv = SipServer("127.0.0.1", port, lambda line: line.hung_up.wait(10), allowed_peers=["127.0.0.1"],
                    max_calls=1, on_event=events.append).start()
    try:
        peer, call_id = Peer(port), uuid.uuid4().hex
        gsm_only = sdp().replace("RTP/AVP 0\r\na=rtpmap:0 PCMU/8000", "RTP/AVP 3\r\na=rtpmap:3 GSM/8000")
        refused = peer.request("INVITE", call_id=call_id, extra="Content-Type: application/sdp\r\n",
                               body=gsm_only)
        assert status(refused) == 488, refused
    finally:
        srv.stop()                                       # reports what is held back, if anything
    lines = [e for e in events if e["event"] == "refused"]
    assert len(lines) == 1 and lines[0]["status"] == 488 and lines[0]["method"] == "INVITE"
    assert lines[0]["peer"] == f"127.0.0.1:{peer.local}" and lines[0]["sip_call_id"] == call_id


def test_a_refer_from_the_far_end_is_declined_and_nothing_is_dialled(server):
    peer, call_id = Peer(server.port), uuid.uuid4().hex
    ok = peer.request("INVITE", call_id=call_id, extra="Content-Type: application/sdp\r\n", body=sdp())
    to_tag = next(line for line in ok.split("\r\n") if line.startswith("To:")).split("tag=")[1]
    peer.request("ACK", call_id=call_id, to_tag=to_tag)
    target = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)    # where a dial-out would go
    target.bind(("127.0.0.1", 0))
    refer = peer.request("REFER", call_id=call_id, to_tag=to_tag, cseq=2,
                         extra=f"Refer-To: <sip:8005550199@127.0.0.1:{target.getsockname()[1]}>\r\n")
    assert status(refer) == 603, refer
    target.settimeout(1.0)
    with pytest.raises(TimeoutError):
        target.recv(65535)                               # no INVITE went out
    assert status(peer.request("BYE", call_id=call_id, to_tag=to_tag, cseq=3)) == 200


def test_a_build_laid_out_otherwise_is_left_alone(monkeypatch, caplog):
    from voice_agent.sip import answers
    monkeypatch.setattr(answers, "PACKET_OFFSET", 8)     # not where this build keeps the packet
    port = bs.free_udp_port()
    srv = SipServer("127.0.0.1", port, lambda line: None, allowed_peers=["127.0.0.1"], max_calls=1).start()
    try:
        peer = Peer(port)
        assert peer.request("REGISTER") == ""            # PJSIP's own behaviour: no answer
        assert status(peer.request("OPTIONS")) == 200    # and nothing else disturbed
    finally:
        srv.stop()
    warnings = [r for r in caplog.records if "not laid out as expected" in r.getMessage()]
    assert len(warnings) == 1 and srv.endpoint.answers.answered == {}
