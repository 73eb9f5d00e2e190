"""The phone line's logs: what an operator needs stays (addresses, ports, methods, status codes),
what the caller put in is masked (their number beyond the last four, keys), and a malformed request
is summarized, never dumped.

The last tests run PJSIP on 127.0.0.1 at its most verbose levels and send it raw SIP.
"""
import logging
import socket
import time
import uuid

import pytest

from voice_agent.cli.logs import DigitMask
from voice_agent.redact import mask_sip_log


@pytest.mark.parametrize("line,shown", [
    ("Dropping 335 bytes packet from UDP 127.0.0.1:34575 : syntax error",
     "Dropping 335 bytes packet from UDP 127.0.0.1:34575 : syntax error"),
    ("From: <sip:+18035550123@10.20.30.40:5060>;tag=1", "From: <sip:+*******0123@10.20.30.40:5060>;tag=1"),
    ("To <sip:4111111111111111@pbx.example:5080>", "To <sip:************1111@pbx.example:5080>"),
    ("SIP/2.0 486 Busy Here [status=171039]", "SIP/2.0 486 Busy Here [status=171039]"),
    ("[code 171050] from [2001:db8::7]:5062", "[code 171050] from [2001:db8::7]:5062"),
    ("19:16:40.579  strm0x7fb  Received DTMF digit 9, vol=10",
     "19:16:40.579  strm0x7fb  Received DTMF digit *, vol=**"),
    ("Signal=5", "Signal=*"),
    ("card 4111 1111 1111 1111 pin 7395 ssn 1234", "card **** **** **** **** pin **** ssn ****"),
    ("INFO sip:agent@127.0.0.1 SIP/2.0\r\nCSeq: 1 INFO\r\n\r\nSignal=5\r\nDuration=160",
     "INFO sip:agent@127.0.0.1 SIP/2.0\r\nCSeq: 1 INFO\r\n\r\nSignal=*\r\nDuration=***"),
])
def test_the_sip_mask_keeps_addresses_and_codes_and_masks_caller_content(line, shown):
    assert mask_sip_log(line) == shown
    assert mask_sip_log(shown) == shown                  # masking twice changes nothing


def record(name: str, msg: str) -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, __file__, 1, msg, None, None)


def test_the_log_filter_uses_the_sip_mask_for_the_phone_line_only():
    text = "peer 10.0.0.5:5060 sent pin 7395"
    sip, other = record("voice_agent.sip", text), record("voice_agent.store", text)
    DigitMask().filter(sip)
    DigitMask().filter(other)
    assert sip.getMessage() == "peer 10.0.0.5:5060 sent pin ****"
    assert other.getMessage() == "peer **.*.*.*:**** sent pin ****"     # any other log: no digit


pytest.importorskip("pjsua2", reason="the sip extra (pjsua2-python) is not installed")

from voice_agent.sip import baresip as bs  # noqa: E402
from voice_agent.sip.server import SipServer  # noqa: E402
from voice_agent.sip.stack import pjsip_log_record  # noqa: E402

# What PJSIP 2.15 logs (level 1) for a request it cannot process, with the whole packet.
DUMP = ("Error processing packet from 127.0.0.1:38071: Missing required header(s) "
        "(PJSIP_EMISSINGHDR)  Via [code 171050]:\n"
        "INFO sip:agent@127.0.0.1:50045 SIP/2.0\nFrom: <sip:+18035550123@127.0.0.1>;tag=x1\n"
        "Content-Type: application/dtmf-relay\n\nSignal=5\nDuration=160\n\n-- end of packet.\n")


def test_a_packet_dump_becomes_a_one_line_summary():
    level, msg = pjsip_log_record(1, DUMP)
    assert level == logging.WARNING
    assert msg == ("Error processing packet from 127.0.0.1:38071: Missing required header(s) "
                   "(PJSIP_EMISSINGHDR)  Via [code 171050] (INFO request, not logged)")


def test_other_multi_line_entries_keep_their_first_line_only():
    level, msg = pjsip_log_record(4, "  [CALLING] To: <sip:+18035550123@127.0.0.1>\n"
                                     "    Call time: 00h:00m:00s\n    #0 audio PCMU")
    assert level == logging.INFO
    assert msg == "  [CALLING] To: <sip:+*******0123@127.0.0.1> (2 more lines not logged)"


def test_pjsip_levels_three_and_up_reach_the_log_at_info():
    assert pjsip_log_record(1, "x")[0] == logging.ERROR
    assert pjsip_log_record(2, "x")[0] == logging.WARNING
    assert {pjsip_log_record(n, "x")[0] for n in (3, 4, 5, 6)} == {logging.INFO}


def info_without_via(port: int, src_port: int) -> bytes:
    body = "Signal=7\r\nDuration=160\r\n"
    return (f"INFO sip:agent@127.0.0.1:{port} SIP/2.0\r\nMax-Forwards: 70\r\n"
            f"From: <sip:+18035550123@127.0.0.1:{src_port}>;tag=x1\r\nTo: <sip:agent@127.0.0.1>\r\n"
            f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 INFO\r\n"
            f"Content-Type: application/dtmf-relay\r\nContent-Length: {len(body)}\r\n\r\n{body}"
            ).encode()


@pytest.fixture
def pjsip_log(caplog):
    caplog.set_level(logging.DEBUG, logger="voice_agent.sip")
    return caplog


def test_a_malformed_request_from_an_allowed_peer_is_summarized(pjsip_log):
    port = bs.free_udp_port()
    server = SipServer("127.0.0.1", port, lambda line: None, allowed_peers=["127.0.0.1"],
                       max_calls=1, log_level=3).start()
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.sendto(info_without_via(port, sock.getsockname()[1]), ("127.0.0.1", port))
        time.sleep(0.5)
    finally:
        server.stop()
    pjsip = [r.getMessage() for r in pjsip_log.records if r.getMessage().startswith("pjsip:")]
    summary = [m for m in pjsip if "Error processing packet" in m]
    assert len(summary) == 1, pjsip
    assert f"127.0.0.1:{sock.getsockname()[1]}" in summary[0] and "INFO request, not logged" in summary[0]
    assert "pjsua version" in " ".join(pjsip)            # level 3 (info) reached the log
    everything = "\n".join(pjsip)
    assert "Signal" not in everything and "8035550123" not in everything


@pytest.mark.skipif(not bs.available(), reason="baresip is not installed")
def test_keys_never_reach_the_log_even_at_pjsip_trace_level(pjsip_log, tmp_path):
    port = bs.free_udp_port()
    keys: list[str] = []

    def handler(line):
        while not line.hung_up.is_set():
            line.read_audio(0.05)
            while (key := line.read_key()) is not None:
                keys.append(key)

    server = SipServer("127.0.0.1", port, handler, allowed_peers=["127.0.0.1"], max_calls=1,
                       log_level=5).start()
    caller = bs.BaresipCaller(tmp_path / "c", f"sip:agent@127.0.0.1:{port}", user="+18035550123").start()
    try:
        caller.dial()
        assert caller.wait_established(10)
        time.sleep(0.5)
        caller.keys("97531#")
        time.sleep(2)
        caller.hangup()
        assert caller.wait_closed(10)
    finally:
        caller.quit()
        server.stop()
    assert "".join(keys) == "97531#"
    lines = [r.getMessage() for r in pjsip_log.records if r.getMessage().startswith("pjsip:")]
    dtmf = [m for m in lines if "DTMF digit" in m]
    assert dtmf and all(m.split("DTMF digit")[1].startswith(" *") for m in dtmf), dtmf
    everything = "\n".join(lines)
    assert "127.0.0.1" in everything and f":{port}" in everything     # addresses and ports kept
    assert "8035550123" not in everything and "+18035550123" not in everything
