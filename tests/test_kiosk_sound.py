"""`voice-agent run` against a real sound server: PulseAudio (Debian's), started for the test in a
temporary HOME with two null sinks, "speaker" (the kiosk's output; its monitor is recorded with
parecord) and "micfeed" (played into with paplay; its monitor is the kiosk's microphone). The
customer's side is WAVs of keypad tones and espeak-ng Korean speech, each played when the screen
says the agent has finished its question; the call pays, and what came out of the speaker is the
agent's speech (its length and level measured with sox)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from voice_agent.store import Store
from voice_agent.voice import dtmf
from voice_agent.voice.audio import read_wav, silence, write_wav
from voice_agent.voice.tts import Synthesizer

from kiosk_helpers import free_port
from store_helpers import FAST_HASH_ARGS, make_settings
from voice_helpers import espeak, needs_espeak, needs_model

TOOLS = ("pulseaudio", "pactl", "paplay", "parecord", "sox")
pytestmark = [pytest.mark.model, pytest.mark.slow, needs_model, needs_espeak,
              pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS),
                                 reason="needs pulseaudio, pulseaudio-utils and sox (scripts/setup.sh)")]
RATE = 16000
PULSE_CONFIG = """\
load-module module-null-sink sink_name=speaker
load-module module-null-sink sink_name=micfeed
load-module module-native-protocol-unix
set-default-sink speaker
set-default-source micfeed.monitor
"""


@pytest.fixture
def pulse(tmp_path):
    """A PulseAudio of the test's own (as root too: a user instance with its own HOME and
    runtime folder); yields the environment that reaches it."""
    home, runtime = tmp_path / "home", tmp_path / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    config = tmp_path / "pulse.pa"
    config.write_text(PULSE_CONFIG)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
           "PULSE_SERVER": f"unix:{runtime}/pulse/native"}
    log = open(tmp_path / "pulse.log", "w")
    daemon = subprocess.Popen(["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--system=false",
                               "-n", "-F", str(config), "--log-target=stderr"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
        if daemon.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"pulseaudio did not start: {(tmp_path / 'pulse.log').read_text()[-2000:]}")
        time.sleep(0.2)
    yield env
    daemon.terminate()
    daemon.wait(timeout=10)
    log.close()


class ScreenWatch:
    """The kiosk screen's live state, read from its event stream as the browser reads it."""

    def __init__(self, url: str) -> None:
        self.state: dict = {}
        self.trail: list[tuple] = []         # (time, version, expecting, speaking, captions)
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(url,), daemon=True).start()

    def _read(self, url: str) -> None:
        with urllib.request.urlopen(url, timeout=300) as stream:
            for line in stream:
                if line.startswith(b"data:"):
                    with self.changed:
                        self.state = json.loads(line[5:])
                        q = self.state.get("question") or {}
                        self.trail.append((round(time.monotonic(), 2), self.state.get("version"),
                                           q.get("expecting"), self.state.get("speaking"),
                                           len(self.state.get("captions", []))))
                        self.changed.notify_all()

    def wait(self, check, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not check(self.state):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; screen: "
                                         f"{json.dumps(self.state, ensure_ascii=False)[:1500]}; "
                                         f"trail: {self.trail[-30:]}")
                self.changed.wait(min(left, 0.5))
            return self.state


def turn_wav(folder: Path, name: str, keys: str = "", words: str = "") -> Path:
    """One customer turn: keypad tones or Korean speech, with silence around it."""
    if keys:
        pcm = dtmf.generate(keys, RATE)
    else:
        pcm, _ = read_wav(espeak(words, "ko", folder / f"{name}-speech.wav", speed=150), RATE)
    return write_wav(folder / f"{name}.wav", silence(0.3, RATE) + pcm + silence(1.5, RATE), RATE)


def sox_stat(path: Path) -> dict[str, float]:
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True).stderr
    stats = {}
    for line in out.splitlines():
        name, _, value = line.partition(":")
        try:
            stats[name.strip()] = float(value.strip())
        except ValueError:
            pass
    return stats


def test_a_call_paid_by_voice_and_keys_through_pulseaudio(tmp_path, pulse, monkeypatch):
    settings = make_settings(tmp_path)
    with Store.open(settings) as store:
        store.install_demo()
    port = free_port()
    env = {**pulse, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": os.getcwd()}
    heard = tmp_path / "speaker.wav"
    recorder = subprocess.Popen(["parecord", "-d", "speaker.monitor", "--rate=16000", "--channels=1",
                                 "--format=s16le", "--file-format=wav", str(heard)], env=env)
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "voice_agent", "run", "--lang", "ko", "--db", settings["database"],
         *FAST_HASH_ARGS, "--set", f"kiosk.port={port}", "--set", "kiosk.input_device=pulse",
         "--set", "kiosk.output_device=pulse", "--set", "kiosk.idle_timeout_s=300"],
        env=env, stdout=open(tmp_path / "kiosk.out", "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120       # the Korean model loads first
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if kiosk.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "kiosk.out").read_text()[-3000:])
                time.sleep(0.5)
        out = (tmp_path / "kiosk.out").read_text()
        assert "microphone and speaker" in out, out
        screen = ScreenWatch(url + "events")
        screen.wait(lambda s: s.get("phase") == "welcome", 10, "the welcome page")

        def play(name: str, keys: str = "", words: str = "") -> None:
            subprocess.run(["paplay", "-d", "micfeed", str(turn_wav(tmp_path, name, keys, words))],
                           env=env, check=True, timeout=60)

        def answer(expecting: str, name: str, keys: str = "", words: str = "") -> dict:
            before = screen.wait(lambda s: s.get("question") and s["question"]["expecting"] == expecting
                                 and not s["speaking"], 90, f"the question {expecting}")
            time.sleep(0.6)                       # the reply's last sound leaves the speaker
            play(name, keys, words)
            return screen.wait(lambda s: s["captions"] != before["captions"], 90,
                               f"the answer to {expecting}")

        play("hello", words="안녕하세요")          # someone speaks to the kiosk: it greets them
        answer("intent", "menu", keys="2")                     # make a payment
        answer("account_number", "account", keys="100200300#")
        answer("pin", "pin", keys="4321#")
        answer("confirm", "stay-in-korean", keys="2")     # her account prefers English: no thanks
        answer("amount", "amount", keys="1#")
        answer("payment_method", "method", keys="1")
        answer("card_number", "card", keys="4111111111111111#")
        answer("card_expiry", "expiry", keys="1229#")
        for attempt in range(3):                  # consent in words ("just to be sure" may follow)
            state = answer("confirm", f"yes{attempt}", words="네")
            if state.get("code"):
                break
        assert state.get("code"), state
        callers = [c["text"] for c in state["captions"] if c["who"] == "caller"]
        assert any("네" in text for text in callers), callers
        answer("confirm", "no-repeat", keys="2")
        answer("intent", "goodbye", keys="9")
        screen.wait(lambda s: s.get("phase") == "ended", 30, "the end of the call")
        time.sleep(2)
    finally:
        kiosk.send_signal(signal.SIGINT)
        try:
            kiosk.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kiosk.kill()
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=10)
    with Store.open(settings) as store:
        paid = store.payments("100200300")
        call = store.calls()[0]
    assert len(paid) == 1 and call["outcome"] == "paid" and call["channel"] == "kiosk"
    # What the agent said, as long as its voice says it (the kiosk's own renderings, cached).
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    voice = Synthesizer.from_settings(settings)
    said = sum(len(pcm) / 2 / rate for pcm, rate in (
        voice.render_pcm(turn["text"], call["lang"]) for turn in call["turns"]
        if turn["speaker"] == "agent" and turn["text"]))
    stats = sox_stat(heard)
    assert stats["Length (seconds)"] >= said > 60, (stats, said)
    assert stats["RMS     amplitude"] > 0.01 and stats["Maximum amplitude"] > 0.2, stats
    # Without the silences (pauses over 0.3 s, the waits for the customer) what is left is the
    # agent's speech: all of it (espeak's pauses inside replies go too), and nothing else.
    voiced = tmp_path / "voiced.wav"
    subprocess.run(["sox", str(heard), str(voiced), "silence", "1", "0.05", "1%", "-1", "0.3", "1%"],
                   check=True)
    assert 0.6 * said < sox_stat(voiced)["Length (seconds)"] <= said + 1, said
