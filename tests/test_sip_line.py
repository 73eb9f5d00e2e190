"""The SIP line itself, with a real client: Debian's baresip calls our PJSIP endpoint on 127.0.0.1.

The handler here is a tiny scripted one (play a greeting, collect audio and keys until the caller
hangs up) so that these tests check the telephony: answering, G.711 both ways, RFC 4733 keys,
caller ID, hang-up. The dialogue over the line is tested in test_sip_dialogue.py.
"""
import shutil
import subprocess
import time

import pytest

from voice_agent.sip import baresip as bs

pytest.importorskip("pjsua2", reason="the sip extra (pjsua2-python) is not installed")
if not bs.available():
    pytest.skip("baresip with aufile/sndfile/aubridge is not installed", allow_module_level=True)

from voice_agent.sip.server import SipServer  # noqa: E402  (needs pjsua2)
from voice_agent.voice.audio import convert, read_wav  # noqa: E402


def espeak(text: str, tmp_path, rate: int = 16000) -> bytes:
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    out = tmp_path / f"tts-{abs(hash(text))}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(out), text], check=True)
    pcm, src = read_wav(out)
    return convert(pcm, src, rate)


class Recorder:
    """Plays a greeting, then keeps the caller's audio and keys until the caller hangs up."""

    def __init__(self, greeting: bytes):
        self.greeting = greeting
        self.audio = bytearray()
        self.keys = ""
        self.lines = []

    def __call__(self, line):
        self.lines.append(line)
        line.play(self.greeting)
        deadline = time.monotonic() + 20
        while not line.hung_up.is_set() and time.monotonic() < deadline:
            chunk = line.read_audio(0.05)
            if chunk:
                self.audio += chunk
            while (key := line.read_key()) is not None:
                self.keys += key


def free_port():
    return bs.free_udp_port()


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_call_is_answered_greeting_heard_keys_and_caller_id_received(tmp_path, codec):
    greeting = espeak("Thank you for calling. How can I help you today?", tmp_path)
    handler = Recorder(greeting)
    port = free_port()
    server = SipServer("127.0.0.1", port, handler, allowed_peers=["127.0.0.1"], max_calls=2).start()
    caller = bs.BaresipCaller(tmp_path / "caller", f"sip:agent@127.0.0.1:{port}", codec=codec,
                              user="+18035550123").start()
    try:
        caller.dial()
        assert caller.wait_established(10), caller.log()[-2000:]
        time.sleep(4)                                   # the greeting plays out
        caller.say(espeak("I would like to pay my bill", tmp_path, 8000), 8000)
        time.sleep(2.5)
        caller.keys("1234#")
        time.sleep(1.5)
        caller.hangup()
        assert caller.wait_closed(10)
        time.sleep(0.5)
    finally:
        caller.quit()
        server.stop()
    line = handler.lines[0]
    assert line.caller_id == "+18035550123"
    assert line.stats.codec == codec
    assert handler.keys == "1234#"
    assert line.stats.keys == {"rfc4733": 5}
    assert line.hung_up.is_set()
    heard, rate = caller.heard()
    # The greeting is ~3 s of audio, ~2 s of it voiced; the caller must have heard most of it.
    assert bs.speech_seconds(heard, rate) > 1.2
    # The agent heard the caller's sentence (voiced audio, 16 kHz from the bridge).
    assert bs.speech_seconds(bytes(handler.audio), 16000) > 0.5
    assert server.stats.answered == 1 and server.stats.completed == 1
