"""Replies to speech: espeak-ng renders WAV files; the kiosk plays them.

Rendering calls ``espeak-ng -v VOICE -s RATE -w out.wav`` directly rather than through pyttsx3's
``save_to_file``: the field notes list its file bugs (queued calls keep only the last, a file can
be missing when ``runAndWait`` returns, bad voices fail silently). espeak-ng gives real exit codes
and takes ~20 ms a sentence. Rendered prompts are cached on disk by (voice, rate, text hash), so a
repeated prompt costs a file read. On the kiosk the rendered audio is played with sounddevice:
the caller hears exactly what a phone caller hears and what the captions and cache describe, and
playback can pick an output device (pyttsx3's ``say()`` shells out to ``aplay`` and fails
silently when it is missing).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from voice_agent.voice.audio import AudioError, read_wav

ESPEAK = "espeak-ng"


class SpeechError(RuntimeError):
    """Speech could not be produced; the message says why and what to install."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "voice_agent" / "tts"


class Synthesizer:
    """Text to 16-bit mono PCM with one espeak-ng voice per language (from settings)."""

    def __init__(self, voices: dict[str, str], rate: int = 165, slow_rate: int = 120,
                 cache_dir: Path | None = None, espeak: str = ESPEAK) -> None:
        self.voices, self.rate, self.slow_rate = dict(voices), int(rate), int(slow_rate)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.espeak = espeak
        self.hits = 0
        self.renders = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings, cache_dir: Path | None = None) -> Synthesizer:
        voices = {lang: settings.voice(lang) for lang in settings.languages}
        return cls(voices, settings["speech_rate"], settings["slow_speech_rate"], cache_dir)

    def voice(self, lang: str) -> str:
        return self.voices.get(lang) or lang

    def cache_path(self, text: str, lang: str, slow: bool = False) -> Path:
        voice, rate = self.voice(lang), self.slow_rate if slow else self.rate
        digest = hashlib.sha256(f"{voice}\0{rate}\0{text}".encode()).hexdigest()[:32]
        return self.cache_dir / f"{voice}-{rate}-{digest}.wav"

    def render(self, text: str, lang: str, slow: bool = False) -> Path:
        """A WAV file of ``text`` spoken in ``lang`` (from the cache when it was said before)."""
        path = self.cache_path(text, lang, slow)
        if path.exists():
            self.hits += 1
            return path
        if shutil.which(self.espeak) is None:
            raise SpeechError(f"{self.espeak} is not installed (Debian: apt-get install espeak-ng)")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".wav", dir=path.parent)
        os.close(fd)
        rate = self.slow_rate if slow else self.rate
        try:
            # "--" keeps a reply that starts with "-" from being read as an option.
            proc = subprocess.run([self.espeak, "-v", self.voice(lang), "-s", str(rate), "-w", tmp,
                                   "--", text], capture_output=True, text=True, timeout=60)
            if proc.returncode != 0 or os.path.getsize(tmp) <= 44:
                why = (proc.stderr or proc.stdout).strip() or f"exit status {proc.returncode}"
                raise SpeechError(f"{self.espeak} could not speak with voice "
                                  f"{self.voice(lang)!r}: {why}")
            os.replace(tmp, path)       # whole files only: a reader never sees half a WAV
            self.renders += 1
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    def render_pcm(self, text: str, lang: str, slow: bool = False,
                   rate: int | None = None) -> tuple[bytes, int]:
        """PCM of ``text``, resampled to ``rate`` when given."""
        path = self.render(text, lang, slow)
        try:
            return read_wav(path, rate)
        except AudioError:
            path.unlink(missing_ok=True)     # a damaged cache entry: render again once
            return read_wav(self.render(text, lang, slow), rate)


class Player:
    """Plays PCM on a sound card (sounddevice, lazily imported)."""

    def __init__(self, device: int | None = None) -> None:
        self.device = device

    def play(self, pcm: bytes, rate: int) -> None:
        import numpy as np
        import sounddevice as sd
        samples = np.frombuffer(pcm, "<i2")
        sd.play(samples, rate, device=self.device, blocking=True)
