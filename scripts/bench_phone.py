#!/usr/bin/env python3
"""End of the caller's answer -> first reply audio, by answer kind, on the kiosk and over SIP.

    python scripts/bench_phone.py [--calls N]          (scripts/bench.py runs it as a section)

Both front ends take the same scripted Korean call on the demo account (a card payment): each
question is answered as a caller would, by its kind:

- ``short``: yes/no, the language, the payment method, said in espeak-ng Korean speech;
- ``digits``: numbers keyed (account, PIN, amount, card, expiry): in-band DTMF tones on the
  kiosk, RFC 4733 telephone events on the phone line (as phones send them);
- ``open``: a request in the caller's words at the main menu ("요금 낼게요").

An answer that is not understood is answered again by its key (as the prompts offer), so every
call gets through; the turn still counts, since a caller lives through it too.

Kiosk: the answer streams 20 ms at a time into the call's turn loop (as from a microphone); the
figure is the audio that arrived after the answer ended until the turn was over, plus the wall
time from then to the reply's rendered audio.

Phone line: a SIP user agent of our own on 127.0.0.1 (a few lines of SIP over UDP, RTP with
G.711 mu-law, 20 ms packets sent on a real-time clock) calls a real ``SipServer`` (PJSIP) in this
process. The figure is wall time from sending the RTP packet that holds the answer's last sound
to receiving the first RTP packet of the reply that carries sound: endpointing, recognition,
dialogue, store, speech rendering, PJSIP's bridge and RTP, as a caller hears it.
"""
from __future__ import annotations

import collections
import re
import socket
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KIM, PIN = "300400500", "8642"
# expecting -> (kind, "say"/"keys", what) tries in order; the last one is repeated.
SCRIPT: dict[str, list[tuple[str, str, str]]] = {
    "language": [("short", "say", "한국어"), ("digits", "keys", "3")],
    "intent": [("open", "say", "요금 낼게요"), ("digits", "keys", "2")],
    "account_number": [("digits", "keys", KIM)],
    "pin": [("digits", "keys", PIN + "#")],
    "amount": [("digits", "keys", "2#")],
    "payment_method": [("short", "say", "카드"), ("digits", "keys", "1")],
    "card_number": [("digits", "keys", "5555555555554444")],
    "card_expiry": [("digits", "keys", "1230")],
    # When "카드" is heard as "계좌로" (bank) the call goes on by bank account, as a caller's would.
    "routing_number": [("digits", "keys", "011000015")],
    "bank_account_number": [("digits", "keys", "12345678#")],
    "confirm": [("short", "say", "네"), ("digits", "keys", "1")],
}
LOUD = 0.02          # a 10 ms frame above this share of full scale is sound


def answer_audio(kind: str, how: str, what: str, rate: int, synth: Callable[[str], bytes]
                 ) -> tuple[bytes, float]:
    """The answer's PCM at ``rate`` (a little silence first) and where its last sound ends, s."""
    from voice_agent.voice import dtmf
    from voice_agent.voice.audio import convert, silence
    body = synth(what) if how == "say" else dtmf.generate(what, 16000)
    pcm = convert(silence(0.3, 16000) + body, 16000, rate)
    return pcm, sound_end(pcm, rate)


def sound_end(pcm: bytes, rate: int) -> float:
    x = np.abs(np.frombuffer(pcm, "<i2").astype(np.float32) / 32768)
    n = rate // 100
    frames = x[: len(x) // n * n].reshape(-1, n).max(axis=1)
    loud = np.nonzero(frames > LOUD)[0]
    return float((loud[-1] + 1) * n / rate) if len(loud) else 0.0


def tries(expecting: str | None, attempt: int) -> tuple[str, str, str] | None:
    options = SCRIPT.get(expecting or "")
    return options[min(attempt, len(options) - 1)] if options else None


# --- the kiosk ------------------------------------------------------------------------------

def fresh_services(settings, work: Path, name: str, load_models: bool = False):
    """Services on a new demo database (every scripted call pays the same bill)."""
    from voice_agent.app import build
    services = build(settings.with_overrides(database=str(work / f"{name}.db")), create=True,
                     load_models=load_models)
    services.store.install_demo()
    return services


def kiosk_turns(settings, work: Path, synth: Callable[[str], bytes], calls: int, tts
                ) -> list[tuple[str, float, float]]:
    """(kind, endpointing wait s, processing s) per answered turn of ``calls`` scripted calls."""
    from voice_agent.voice.audio import silence
    from voice_agent.voice.pipeline import VoiceCall
    out = []
    for n in range(calls):
        services = fresh_services(settings, work, f"kiosk-{n}-{uuid.uuid4().hex[:6]}")
        call = VoiceCall(services.agent, services.settings, services.nlu, synthesizer=tts,
                         lang="ko")
        call.start()
        loop = call.turn_loop(16000)
        attempts: dict[str, int] = {}
        for _turn in range(30):
            expecting = call.turn.expecting
            step = tries(expecting, attempts.get(expecting, 0))
            if call.ended or step is None:
                break
            attempts[expecting] = attempts.get(expecting, 0) + 1
            pcm, end_s = answer_audio(*step, 16000, synth)
            loop.start(expecting)
            stream, fed, found, started = pcm + silence(4.0, 16000), 0.0, None, 0.0
            for pos in range(0, len(stream), 640):
                started = time.perf_counter()
                found = loop.feed(stream[pos: pos + 640])
                fed += 640 / 32000
                if found is not None:
                    break
            if found is None:
                break
            before = call.turn.state
            call.respond(call.hear(found), started)
            out.append((step[0], max(0.0, fed - end_s), time.perf_counter() - started))
            if call.turn.state != before:
                attempts.pop(expecting, None)
        if not call.ended:
            call.hang_up()
        services.close()
    return out


# --- the phone line: a small SIP/RTP caller -----------------------------------------------------

def ulaw_encode(pcm: bytes) -> bytes:
    """16-bit PCM -> G.711 mu-law (ITU-T G.711 compression)."""
    x = np.frombuffer(pcm, "<i2").astype(np.int32)
    sign = (x < 0).astype(np.int32) << 7
    mag = np.minimum(np.abs(x), 32635) + 132
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


class RtpCaller:
    """One call placed over SIP (UDP) with G.711 mu-law RTP, all on 127.0.0.1."""

    def __init__(self, port: int, user: str = "+18035550177"):
        from voice_agent.voice.audio import MULAW_TABLE
        self.table = MULAW_TABLE
        self.target = f"sip:agent@127.0.0.1:{port}"
        self.server = ("127.0.0.1", port)
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(("127.0.0.1", 0))
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.user, self.call_id, self.tag = user, uuid.uuid4().hex, uuid.uuid4().hex[:8]
        self.to_tag, self.contact, self.peer_rtp = "", self.target, None
        self._out: collections.deque = collections.deque()    # (payload type, payload, last)
        self.mark_sent_at: float | None = None
        self._lock = threading.Lock()
        self.heard: list[tuple[float, bool]] = []     # (arrival, has sound) per RTP packet
        self.stop = threading.Event()
        self.answered = threading.Event()

    # -- SIP -----------------------------------------------------------------------------------
    def _request(self, method: str, cseq: int, uri: str, body: str = "") -> bytes:
        lport = self.sip.getsockname()[1]
        to = f"<{self.target}>" + (f";tag={self.to_tag}" if self.to_tag else "")
        head = [f"{method} {uri} SIP/2.0",
                f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport",
                "Max-Forwards: 70", f"From: <sip:{self.user}@127.0.0.1>;tag={self.tag}",
                f"To: {to}", f"Call-ID: {self.call_id}", f"CSeq: {cseq} {method}",
                f"Contact: <sip:{self.user}@127.0.0.1:{lport}>"]
        if body:
            head.append("Content-Type: application/sdp")
        head.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(head) + "\r\n\r\n" + body).encode()

    def dial(self, timeout: float = 10.0) -> bool:
        rport = self.rtp.getsockname()[1]
        sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=bench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {rport} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
               "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
               "a=sendrecv\r\n")
        self.sip.sendto(self._request("INVITE", 1, self.target, sdp), self.server)
        threading.Thread(target=self._sip_loop, daemon=True).start()
        if not self.answered.wait(timeout):
            return False
        threading.Thread(target=self._send_loop, daemon=True).start()
        threading.Thread(target=self._recv_loop, daemon=True).start()
        return True

    def _sip_loop(self) -> None:
        self.sip.settimeout(0.2)
        while not self.stop.is_set():
            try:
                data, addr = self.sip.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            text = data.decode(errors="replace")
            head, _, body = text.partition("\r\n\r\n")
            lines = head.split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip().lower(), value.strip())
            if lines[0].startswith("SIP/2.0 "):
                status = int(lines[0].split()[1])
                if status == 200 and "INVITE" in headers.get("cseq", ""):
                    tag = re.search(r";tag=([^;\s]+)", headers.get("to", ""))
                    self.to_tag = tag.group(1) if tag else ""
                    contact = re.search(r"<([^>]+)>", headers.get("contact", ""))
                    self.contact = contact.group(1) if contact else self.target
                    media = re.search(r"m=audio (\d+)", body)
                    conn = re.search(r"c=IN IP4 ([\d.]+)", body)
                    if media:
                        self.peer_rtp = (conn.group(1) if conn else "127.0.0.1", int(media.group(1)))
                    self.sip.sendto(self._request("ACK", 1, self.contact), addr)
                    self.answered.set()
                continue
            # A request from the agent (BYE when it hangs up, OPTIONS ...): 200 OK.
            reply = ["SIP/2.0 200 OK"] + [line for line in lines[1:] if line.split(":")[0].lower()
                                          in ("via", "from", "to", "call-id", "cseq")]
            self.sip.sendto(("\r\n".join(reply) + "\r\nContent-Length: 0\r\n\r\n").encode(), addr)
            if lines[0].startswith("BYE"):
                self.stop.set()

    def hang_up(self) -> None:
        if not self.stop.is_set() and self.answered.is_set():
            self.sip.sendto(self._request("BYE", 2, self.contact), self.server)
            time.sleep(0.3)
        self.stop.set()

    # -- RTP -----------------------------------------------------------------------------------
    def say(self, pcm8k: bytes, end_s: float) -> None:
        """Queue speech (8 kHz PCM); its last sound is ``end_s`` into it."""
        data = ulaw_encode(pcm8k)
        frames = [(0, data[i:i + 160].ljust(160, b"\xff"), False)
                  for i in range(0, len(data), 160)]
        last = min(len(frames) - 1, int(end_s * 8000) // 160)
        frames[last] = (*frames[last][:2], True)
        self._queue(frames)

    def keys(self, keys: str) -> None:
        """Queue keys as RFC 4733 telephone events (100 ms each, 80 ms apart), as phones send
        them; the answer ends with the last key's end packet."""
        frames = []
        for n, key in enumerate(keys):
            code = "0123456789*#".index(key)
            for k in range(1, 6):                                  # 5 x 20 ms
                end = k == 5
                payload = struct.pack("!BBH", code, (0x80 if end else 0) | 10, k * 160)
                frames.append((101, payload, end and n == len(keys) - 1))
            frames += [(0, b"\xff" * 160, False)] * 4               # the 80 ms gap
        self._queue(frames)

    def _queue(self, frames: list) -> None:
        with self._lock:
            self._out.extend(frames)
            self.mark_sent_at = None

    def _send_loop(self) -> None:
        seq, ts, ssrc, event_ts, in_event = 0, 0, 0x5eed, 0, False
        start = time.monotonic()
        while not self.stop.is_set():
            with self._lock:
                pt, payload, marked = self._out.popleft() if self._out else (0, b"\xff" * 160,
                                                                            False)
            if pt == 101 and not in_event:
                event_ts, in_event = ts, True        # one timestamp for the whole event
            first = pt == 101 and payload[2:] == struct.pack("!H", 160)
            stamp = event_ts if pt == 101 else ts
            if self.peer_rtp:
                packet = struct.pack("!BBHII", 0x80, (0x80 if first else 0) | pt, seq & 0xFFFF,
                                     stamp, ssrc) + payload
                for _ in range(3 if pt == 101 and payload[1] & 0x80 else 1):
                    self.rtp.sendto(packet, self.peer_rtp)         # end packets sent 3 times
            if pt != 101:
                in_event = False
            elif payload[1] & 0x80:
                in_event = False
            if marked:
                self.mark_sent_at = time.monotonic()
            seq, ts = seq + 1, ts + 160
            time.sleep(max(0.0, start + seq * 0.02 - time.monotonic()))

    def _recv_loop(self) -> None:
        self.rtp.settimeout(0.2)
        while not self.stop.is_set():
            try:
                data = self.rtp.recv(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.monotonic()
            payload = np.frombuffer(data[12:], np.uint8)
            level = np.abs(self.table[payload].astype(np.float32)).max() / 32768 if len(payload) else 0
            self.heard.append((now, bool(level > LOUD)))

    def answer_sent(self, timeout: float = 30.0) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop.is_set():
            if self.mark_sent_at is not None:
                return self.mark_sent_at
            time.sleep(0.005)
        return None

    def first_sound_after(self, t: float, timeout: float = 15.0) -> float | None:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline and not self.stop.is_set():
            heard = self.heard[seen:]
            for at, loud in heard:
                if at > t and loud:
                    return at
            seen += len(heard)
            time.sleep(0.005)
        return None


class PromptEvents:
    """The server's events for one process: the latest prompt and when playback ended."""

    def __init__(self):
        self.cond = threading.Condition()
        self.events: list[dict] = []

    def __call__(self, event: dict) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait(self, pred, start: int, timeout: float = 60.0) -> tuple[int, dict] | None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while time.monotonic() < deadline:
                for i in range(start, len(self.events)):
                    if pred(self.events[i]):
                        return i + 1, self.events[i]
                self.cond.wait(0.1)
        return None


def phone_turns(settings, work: Path, synth: Callable[[str], bytes], calls: int
                ) -> tuple[list[tuple[str, float]], list[dict]]:
    """(kind, seconds) per answered turn of ``calls`` scripted calls over SIP, and the heard
    events (without content) of those calls."""
    from voice_agent.sip import baresip as bs
    from voice_agent.sip.server import SipServer
    from voice_agent.sip.session import PhoneCall
    from voice_agent.voice.pipeline import warm_up
    current = {"services": fresh_services(settings, work, "phone-0", load_models=True)}
    warm_up(settings, current["services"].nlu, ["ko"])   # as the kiosk does (line rate 16 kHz)
    events = PromptEvents()
    port = bs.free_udp_port()
    server = SipServer("127.0.0.1", port,
                       lambda line: PhoneCall(current["services"], line, on_event=events).run(),
                       allowed_peers=["127.0.0.1"], max_calls=2, on_event=events).start()
    out: list[tuple[str, float]] = []
    try:
        for n in range(calls):
            if n:
                current["services"].close()
                current["services"] = fresh_services(settings, work, f"phone-{n}", True)
            caller = RtpCaller(port)
            if not caller.dial():
                raise RuntimeError("the agent did not answer the benchmark's call")
            at, attempts = len(events.events), {}
            try:
                for _turn in range(30):
                    got = events.wait(lambda e: e.get("event") == "prompt", at)
                    if got is None:
                        break
                    at, prompt = got
                    if prompt.get("ended"):
                        break
                    expecting = prompt["expecting"]
                    step = tries(expecting, attempts.get(expecting, 0))
                    if step is None:
                        break
                    attempts[expecting] = attempts.get(expecting, 0) + 1
                    got = events.wait(lambda e: e.get("event") == "listening", at, 60)
                    if got is None:
                        break
                    at = got[0]
                    time.sleep(0.3)                 # the prompt's last packets reach the caller
                    if step[1] == "keys":
                        caller.keys(step[2])
                    else:
                        caller.say(*answer_audio(*step, 8000, synth))
                    sent = caller.answer_sent()
                    reply = caller.first_sound_after(sent) if sent else None
                    if reply is None:
                        break
                    out.append((step[0], reply - sent))
                    print(f"    {expecting}: {step[0]} {round((reply - sent) * 1000)} ms",
                          file=sys.stderr, flush=True)
                    if expecting == "confirm" and prompt.get("state", "").startswith("payment.repeat"):
                        break
            finally:
                caller.hang_up()
                events.wait(lambda e: e.get("event") == "ended", at, 10)
    finally:
        server.stop()
        current["services"].close()
    heard = [e for e in events.events if e.get("event") == "heard"]
    return out, heard


def main(argv: list[str] | None = None) -> int:
    """Run the phone-line calls and print (or write, ``--json``) the turns; bench.py runs this
    in its own process, since PJSIP's endpoint cannot be torn down and made again reliably."""
    import argparse
    import json
    import os
    import tempfile

    import bench_voice

    from voice_agent.settings import load_settings
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-phone-") as tmp:
        work = Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")
        settings = load_settings(env={}, cwd=work, cli={"database": str(work / "p.db")},
                                 sets=["password_hash.n=1024"])
        clips: dict[str, bytes] = {}

        def synth(text: str) -> bytes:
            if text not in clips:
                clips[text] = bench_voice.synth(text, work)
            return clips[text]
        turns, heard = phone_turns(settings, work, synth, args.calls)
    result = {"turns": turns, "heard": [{k: e.get(k) for k in ("expecting", "waited_ms", "complete")}
                                        for e in heard]}
    if args.json:
        Path(args.json).write_text(json.dumps(result))
    else:
        for kind in ("short", "digits", "open"):
            print(kind, sorted(round(s * 1000) for k, s in turns if k == kind))
        print(result["heard"])
    sys.stdout.flush()
    os._exit(0)              # PJSIP's threads can hold up the interpreter's exit


if __name__ == "__main__":
    raise SystemExit(main())
