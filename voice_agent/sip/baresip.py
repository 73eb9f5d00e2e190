"""A real SIP caller for tests and the capacity benchmark: Debian's baresip, driven over stdin.

baresip gets a private config directory (``-f DIR``): G.711 only, the ``aufile`` module as its
microphone (one WAV per caller turn, switched with ``/ausrc``), ``sndfile`` dumping what it hears
from the agent to ``dump-*-dec.wav``, and a silent ``aubridge`` device as its speaker, so it needs no
sound card. Keypad digits go out as RFC 4733 telephone events (``/sndcode``).

aufile ends the call at the end of its file, so every turn is padded with a long silence; the next
``say`` replaces it.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
import wave
from pathlib import Path

BARESIP = "baresip"
MODULE_PATH = "/usr/lib/baresip/modules"
RATE = 8000


def available() -> bool:
    """baresip and the modules this driver needs are installed."""
    return bool(shutil.which(BARESIP)) and all(
        os.path.exists(f"{MODULE_PATH}/{m}.so") for m in ("aufile", "sndfile", "aubridge", "g711", "menu"))


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def write_turn_wav(path: Path, pcm: bytes, rate: int, pad_s: float = 120.0) -> Path:
    """A caller turn for aufile: 8 kHz mono 16-bit, then ``pad_s`` of silence (aufile hangs up at EOF)."""
    if rate != RATE and pcm:
        from voice_agent.voice.audio import convert  # band-limited resampling (no aliasing)
        pcm = convert(pcm, rate, RATE)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm + b"\0\0" * int(pad_s * RATE))
    return path


class BaresipCaller:
    """One baresip process placing one call to ``target`` (``sip:agent@127.0.0.1:5070``), or,
    with ``auto_answer``, a phone at ``self.uri`` that picks up (a stand-in for the agents' queue)."""

    def __init__(self, workdir: Path, target: str = "", *, user: str = "+18035550123",
                 codec: str = "PCMU", host: str = "127.0.0.1", auto_answer: bool = False):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.target = target
        self.port = free_udp_port(host)
        self.turns = 0
        silence = write_turn_wav(self.dir / "turn-0.wav", b"", RATE, pad_s=300)
        (self.dir / "config").write_text(f"""poll_method epoll
call_max_calls 2
audio_player aubridge,speaker
audio_alert aubridge,speaker
audio_source aufile,{silence}
ausrc_format s16
auplay_format s16
jitter_buffer_delay 1-4
module_path {MODULE_PATH}
module stdio.so
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_tmp account.so
module_app menu.so
snd_path {self.dir}
sip_listen {host}:{self.port}
""")
        answer = ";answermode=auto" if auto_answer else ""
        self.uri = f"sip:{user}@{host}:{self.port}"
        (self.dir / "accounts").write_text(f"<{self.uri}>;regint=0;audio_codecs={codec}{answer}\n")
        self.out_path = self.dir / "baresip.log"
        self._out = open(self.out_path, "wb")
        self.proc: subprocess.Popen | None = None

    # -- control --------------------------------------------------------------------------------
    def start(self) -> BaresipCaller:
        self.proc = subprocess.Popen([BARESIP, "-f", str(self.dir)], stdin=subprocess.PIPE,
                                     stdout=self._out, stderr=subprocess.STDOUT, cwd=self.dir)
        self._wait_log("baresip is ready", 10)
        return self

    def command(self, text: str) -> None:
        assert self.proc and self.proc.stdin
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def dial(self) -> None:
        self.command(f"/dial {self.target}")

    def say(self, pcm: bytes, rate: int) -> None:
        """Speak one turn (PCM at ``rate``) into the call."""
        self.turns += 1
        path = write_turn_wav(self.dir / f"turn-{self.turns}.wav", pcm, rate)
        self.command(f"/ausrc aufile,{path}")

    def keys(self, digits: str) -> None:
        """Keypad digits as RFC 4733 telephone events."""
        self.command(f"/sndcode {digits}")

    def hangup(self) -> None:
        self.command("/hangup")

    def quit(self, timeout: float = 5.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.command("/quit")
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()

    # -- observation ----------------------------------------------------------------------------
    def log(self) -> str:
        return self.out_path.read_text(errors="replace")

    def _wait_log(self, needle: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log():
                return True
            if self.proc is not None and self.proc.poll() is not None:
                return needle in self.log()
            time.sleep(0.05)
        return False

    def wait_established(self, timeout: float = 10.0) -> bool:
        return self._wait_log("Call established", timeout)

    def wait_closed(self, timeout: float = 10.0) -> bool:
        """The call is over: hung up here ("terminate call") or by the far end ("terminated",
        "session closed")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if "terminate" in text or "session closed" in text:
                return True
            time.sleep(0.05)
        return False

    def heard(self) -> tuple[bytes, int]:
        """What the caller heard from the agent so far (PCM, rate) from sndfile's decode dump."""
        files = sorted(glob.glob(str(self.dir / "dump-*-dec.wav")))
        if not files:
            return b"", RATE
        with wave.open(files[-1], "rb") as w:
            return w.readframes(w.getnframes()), w.getframerate()


def speech_seconds(pcm: bytes, rate: int, threshold: int = 500) -> float:
    """Seconds of 20 ms frames louder than ``threshold`` (RMS): how much the agent said."""
    import numpy as np
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
    step = rate // 50
    frames = len(samples) // step
    if not frames:
        return 0.0
    rms = np.sqrt((samples[: frames * step].reshape(frames, step) ** 2).mean(axis=1))
    return float((rms > threshold).sum()) * 0.02


