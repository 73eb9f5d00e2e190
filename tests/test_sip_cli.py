"""`voice-agent serve --sip` as a real process: calls in, payments recorded, clean stop, no secrets out.

baresip pays by keypad (RFC 4733); a second client built on PJSIP sends its keys as SIP INFO;
everything serve prints (stdout events, stderr, PJSIP's log at its most verbose allowed level)
is searched for the PIN and the card number.
"""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from sip_serve import CHEAP_HASH, Serve, demo_db

from voice_agent.sip import baresip as bs

pytest.importorskip("pjsua2", reason="the sip extra (pjsua2-python) is not installed")
if not bs.available():
    pytest.skip("baresip with aufile/sndfile/aubridge is not installed", allow_module_level=True)

from test_sip_guard import final_codes, invite  # noqa: E402  (raw SIP helpers)

PIN, CARD = "2468", "5555555555554444"          # Carlos, demo account 200300400


@pytest.fixture
def serve(tmp_path):
    db = demo_db(tmp_path)
    port = bs.free_udp_port()
    server = Serve(db, port)
    ready, _ = server.wait(lambda e: e.get("event") == "ready", 60)
    server.port, server.db, server.ready = port, db, ready
    yield server
    if server.proc.poll() is None:
        server.stop()


def test_serve_takes_a_payment_by_keypad_and_stops_cleanly(serve, tmp_path):
    # The default asks for 8 lines; this PJSIP build caps one process at 4 and says so.
    assert serve.ready["max_calls_setting"] == 8 and serve.ready["max_calls"] == 4
    assert serve.ready["allowed_peers"] == ["127.0.0.1"]
    caller = bs.BaresipCaller(tmp_path / "carlos", f"sip:agent@127.0.0.1:{serve.port}",
                              user="+18035550142", codec="PCMA").start()
    at = 0
    try:
        caller.dial()
        assert caller.wait_established(10)
        for expecting, keys in [("language", "2"), ("intent", "2"), ("account_number", "200300400#"),
                                ("pin", PIN + "#"), ("amount", "2"), ("payment_method", "1"),
                                ("card_number", CARD + "#"), ("card_expiry", "1230#"),
                                ("confirm", "1"), ("confirm", "2")]:
            _, at = serve.wait(lambda e, want=expecting: e.get("event") == "prompt"
                               and e["expecting"] == want, 60, at)
            time.sleep(0.3)
            caller.keys(keys)
        serve.wait(lambda e: e.get("event") == "prompt" and e["expecting"] == "intent", 60, at)
        caller.hangup()
        assert caller.wait_closed(10)
        done, _ = serve.wait(lambda e: e.get("event") == "call_done", 30)
        ended, _ = serve.wait(lambda e: e.get("event") == "ended", 30)
    finally:
        caller.quit()
    code, stderr = serve.stop()
    assert code == 0
    stopped = serve.events[-1]
    assert stopped["event"] == "stopped" and stopped["answered"] == 1 and stopped["errors"] == 0
    assert done["outcome"] == "paid" and ended["codec"] == "PCMA" and ended["keys"]["rfc4733"] >= 30
    listed = subprocess.run([sys.executable, "-m", "voice_agent", "payments", "list", "--db",
                             str(serve.db), *CHEAP_HASH], capture_output=True, text=True, check=True)
    assert "200300400" in listed.stdout and "$72.50" in listed.stdout and CARD not in listed.stdout
    everything = "".join(serve.raw) + stderr
    assert CARD not in everything and not re.search(rf"\b{PIN}\b", everything)
    log_path = serve.db.with_name(serve.db.name + ".log")
    if log_path.exists():
        text = log_path.read_text(errors="replace")
        assert CARD not in text and not re.search(rf"\b{PIN}\b", text)


SIP_INFO_CLIENT = textwrap.dedent('''
    import sys, time
    import pjsua2 as pj
    target, digits = sys.argv[1], sys.argv[2]
    ep = pj.Endpoint(); ep.libCreate()
    cfg = pj.EpConfig(); cfg.uaConfig.threadCnt = 0; cfg.logConfig.level = 0; cfg.logConfig.consoleLevel = 0
    ep.libInit(cfg)
    tc = pj.TransportConfig(); tc.port = 0; tc.boundAddress = "127.0.0.1"
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tc)
    ep.libStart(); ep.audDevManager().setNullDev()
    acc = pj.Account(); ac = pj.AccountConfig(); ac.idUri = "sip:+18035550199@127.0.0.1"
    ac.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    acc.create(ac)
    call = pj.Call(acc)
    call.makeCall(target, pj.CallOpParam(True))
    def pump(seconds):
        end = time.time() + seconds
        while time.time() < end:
            ep.libHandleEvents(20)
    def confirmed():
        return call.getInfo().state == pj.PJSIP_INV_STATE_CONFIRMED
    end = time.time() + 10
    while not confirmed() and time.time() < end:
        pump(0.1)
    pump(1.0)
    for digit in digits:                       # one SIP INFO per key
        prm = pj.CallSendDtmfParam(); prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
        prm.digits = digit; prm.duration = 160
        call.sendDtmf(prm)
        pump(0.5)
    pump(3.0)
    call.hangup(pj.CallOpParam(True))
    pump(1.0)
    del call
    ep.libDestroy()
    print("done")
''')


def test_keys_sent_as_sip_info_reach_the_dialogue(serve, tmp_path):
    script = tmp_path / "info_client.py"
    script.write_text(SIP_INFO_CLIENT)
    run = subprocess.run([sys.executable, str(script), f"sip:agent@127.0.0.1:{serve.port}", "1"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "done" in run.stdout, run.stderr[-2000:]
    ended, _ = serve.wait(lambda e: e.get("event") == "ended", 30)
    assert ended["keys"] == {"sip-info": 1}
    # The key chose English at the language menu: the next prompt was the English main menu.
    menu, _ = serve.wait(lambda e: e.get("event") == "prompt" and e["expecting"] == "intent", 5)
    assert menu["lang"] == "en"
    done, _ = serve.wait(lambda e: e.get("event") == "call_done", 10)
    assert done["outcome"] == "abandoned" and done["by_caller"] and done["by"] == "caller"
    # Every line has a UTC timestamp and the worker; every line of the call its SIP Call-ID,
    # and once the dialogue opened it, the store's call id.
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["ts"]) and e["worker"] == 1
               for e in serve.events)
    call = [e for e in serve.events if e.get("call") == done["call"]]
    answered = next(e for e in call if e["event"] == "answered")
    assert answered["sip_call_id"] and all(e["sip_call_id"] == answered["sip_call_id"] for e in call)
    assert isinstance(done["call_id"], int) and ended["call_id"] == done["call_id"]


@pytest.mark.parametrize("args,message", [
    (["--sip", "127.0.0.1:99999"], "out of range"),
    (["--sip", "not an address"], "HOST:PORT"),
    (["--set", "sip.allowed_peers=nonsense"], "allowed_peers"),
    (["--set", "sip.max_calls=0"], "max_calls"),
])
def test_serve_refuses_bad_settings_with_a_clear_message(tmp_path, args, message):
    run = subprocess.run([sys.executable, "-m", "voice_agent", "serve", "--db", str(tmp_path / "x.db"),
                          *CHEAP_HASH, *args], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and message in run.stderr, run.stderr


def test_a_second_server_on_the_same_port_is_refused(serve, tmp_path):
    run = subprocess.run([sys.executable, "-m", "voice_agent", "serve", "--sip",
                          f"127.0.0.1:{serve.port}", "--db", str(serve.db), *CHEAP_HASH],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "in use" in run.stderr, run.stderr


def test_refused_requests_are_events_with_peer_and_rate_limited(serve):
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.2", 0))
    for _ in range(30):                                  # outside the allow-list: the front door
        stranger.sendto(invite(serve.port, "127.0.0.2", stranger.getsockname()[1]),
                        ("127.0.0.1", serve.port))
    forbidden = final_codes(stranger, 2.0)
    assert forbidden and set(forbidden) == {403}
    time.sleep(1.5)                                      # the held-back ones are reported within ~1 s
    refused = [e for e in serve.events if e.get("event") == "refused"]
    assert refused and all(e["peer"].startswith("127.0.0.2:") and e["status"] == 403
                           and e["reason"] == "peer not allowed" and e["method"] == "INVITE"
                           and e["sip_call_id"] for e in refused)
    # 5 lines a second per peer and one for the rest (twice that if the burst straddles a second)
    assert len(refused) <= 12 < len(forbidden), refused
    assert sum(1 + e["suppressed"] for e in refused) == len(forbidden)
    code, _ = serve.stop()
    assert code == 0 and serve.events[-1]["forbidden"] == len(forbidden)


def test_stopping_serve_mid_call_closes_the_call_record(serve, tmp_path):
    caller = bs.BaresipCaller(tmp_path / "mid", f"sip:agent@127.0.0.1:{serve.port}",
                              user="+18035550100").start()
    try:
        caller.dial()
        assert caller.wait_established(10)
        serve.wait(lambda e: e.get("event") == "prompt" and e["expecting"] == "language", 30)
        code, _ = serve.stop(signals=2)               # SIGTERM twice while the greeting plays
        assert caller.wait_closed(10)                 # the caller got a BYE
    finally:
        caller.quit()
    assert code == 0
    done = [e for e in serve.events if e.get("event") == "call_done"]
    assert done and done[0]["outcome"] == "abandoned"
    assert done[0]["by"] == "agent" and not done[0]["by_caller"]     # the agent hung up, not the caller
    calls = subprocess.run([sys.executable, "-m", "voice_agent", "calls", "list", "--db",
                            str(serve.db), *CHEAP_HASH], capture_output=True, text=True, check=True)
    assert "abandoned" in calls.stdout, calls.stdout
