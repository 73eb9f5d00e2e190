"""End of speech and no input, decided by us (Vosk 0.3.45 has no endpointer API).

webrtcvad marks 30 ms frames as voiced or not. Speech starts when most of the recent frames are
voiced (a click is not speech), ends after ``end_silence_ms`` of unvoiced frames, and is cut at
``max_utterance_s``. webrtcvad keeps calling frames voiced for about 90 ms after the sound stops
(its hangover, measured even on digital silence); so once speech has started, a frame no louder
than the line's noise floor counts as silence whatever it says, and the wait starts when the
caller stops, not 90 ms later. No speech within ``no_input_timeout_s`` is the dialogue's no-input event.
A little audio before the start is kept so the recognizer hears the first syllable whole.

``on_speech`` receives the utterance's audio as it is found, so a recognizer can decode while the
caller is still speaking. Silence after the speech is handed on only up to ``feed_tail_ms``: the
recognizer needs a little to settle the last word, and decoding the rest of the end-of-speech wait
would only cost time. On live audio the wait itself can depend on the expected answer
(``end_silence_for``): a yes/no is over sooner than a card number. And with ``complete`` (the
turn loop's question "is what was heard so far a whole answer?", ``voice.complete``) a pause of
``complete_silence_ms`` ends the utterance when the answer is already whole; the question is
asked once the pause is that long, again as the pause goes on (the recognizer may settle the
last word a little later), and never while the caller speaks.
"""
from __future__ import annotations

import collections
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from voice_agent.expect import expectation

FRAME_MS = 30
VAD_RATES = (8000, 16000, 32000, 48000)
# A frame within QUIET_MARGIN_DB of the noise floor is not speech. The floor is the median level
# of the last unvoiced frames (before the speech and in its pauses; it carries over from turn to
# turn, as the line does), never taken below QUIET_FLOOR_DBFS: 16-bit digital silence and an
# idle G.711 line are far below it, and a G.711 line's decay after speech (-62 to -75 dBFS
# measured on espeak-ng Korean, whose speech frames are -12 to -57) falls under it.
QUIET_FLOOR_DBFS = -66.0
QUIET_MARGIN_DB = 6.0
FLOOR_FRAMES = 33               # about a second of unvoiced audio sets the floor


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech: its PCM (with lead-in) and where it sits in the stream, seconds."""

    pcm: bytes = field(repr=False)
    rate: int
    start_s: float
    end_s: float
    # The silence after the speech that ended it (the end-of-speech wait that was applied; less
    # when the utterance was cut at max_utterance_s or the stream ended).
    silence_ms: int = 0
    # Ended early because what was heard was already a whole answer (semantic end of turn).
    complete: bool = False


@dataclass(frozen=True)
class NoInput:
    """Nothing was said before the timeout."""

    waited_s: float


@dataclass
class Endpointer:
    """Feed PCM as it arrives; ``feed`` returns an Utterance or NoInput when the turn is over."""

    rate: int = 16000
    no_input_timeout_s: float = 6.0
    end_silence_ms: int = 800
    max_utterance_s: float = 20.0
    aggressiveness: int = 2
    start_frames: int = 5          # look-back window for the speech start...
    start_voiced: int = 3          # ...of which this many must be voiced
    lead_in_ms: int = 300
    feed_tail_ms: int = 300        # silence after speech handed to ``on_speech``
    on_speech: Callable[[bytes], None] | None = None
    complete_silence_ms: int = 0   # a whole answer ends after this pause (0: no such check)
    complete: Callable[[], bool] | None = None
    _pending: bytes = b""
    _frames_seen: int = 0
    _recent: collections.deque = field(default_factory=collections.deque)
    _speech: list[bytes] | None = None
    _speech_start: int = 0
    _silent_run: int = 0
    _held: list[bytes] = field(default_factory=list)     # silence not handed on (yet)
    _unvoiced_db: collections.deque = field(           # levels of unvoiced frames: the floor
        default_factory=lambda: collections.deque(maxlen=FLOOR_FRAMES))
    _out: list[bytes] = field(default_factory=list)      # speech for ``on_speech``, this feed

    def __post_init__(self) -> None:
        if self.rate not in VAD_RATES:
            raise ValueError(f"the voice detector needs 8, 16, 32 or 48 kHz audio, not {self.rate} Hz")
        import webrtcvad  # lazy: only voice front ends need it
        self._vad = webrtcvad.Vad(self.aggressiveness)
        self.frame_bytes = self.rate * FRAME_MS // 1000 * 2
        self._recent = collections.deque(maxlen=max(self.start_frames, self.lead_in_ms // FRAME_MS))

    @classmethod
    def from_settings(cls, audio: Mapping[str, Any], rate: int = 16000,
                      expecting: str | None = None, **kw: Any) -> Endpointer:
        """From the ``audio`` settings; with ``expecting``, the end-of-speech wait for that answer."""
        return cls(rate=rate, no_input_timeout_s=float(audio["no_input_timeout_s"]),
                   end_silence_ms=end_silence_for(audio, expecting),
                   max_utterance_s=float(audio["max_utterance_s"]), **kw)

    @property
    def in_speech(self) -> bool:
        return self._speech is not None

    @property
    def elapsed_s(self) -> float:
        return self._frames_seen * FRAME_MS / 1000

    def reset(self) -> None:
        """Start a new turn (the no-input clock starts again)."""
        self._pending, self._frames_seen, self._speech, self._silent_run = b"", 0, None, 0
        self._recent.clear()
        self._held, self._out = [], []
        # webrtcvad keeps a hangover state: a fresh one so the last turn's sound cannot linger.
        import webrtcvad
        self._vad = webrtcvad.Vad(self.aggressiveness)

    def _utterance(self, complete: bool = False) -> Utterance:
        pcm = b"".join(self._speech or [])
        start = self._speech_start * FRAME_MS / 1000
        end = self._frames_seen * FRAME_MS / 1000
        silence_ms = self._silent_run * FRAME_MS
        self._speech = None
        self._held = []
        self._flush()
        return Utterance(pcm, self.rate, start, end, silence_ms, complete)

    def _hand_on(self, frame: bytes, voiced: bool) -> None:
        """Queue a speech frame for ``on_speech``; long trailing silence is held back."""
        if self.on_speech is None:
            return
        if voiced:
            self._out.extend(self._held)
            self._held = []
        if voiced or self._silent_run * FRAME_MS <= self.feed_tail_ms:
            self._out.append(frame)
        else:
            self._held.append(frame)

    def _flush(self) -> None:
        if self._out and self.on_speech is not None:
            out, self._out = b"".join(self._out), []
            self.on_speech(out)

    def feed(self, pcm: bytes) -> Utterance | NoInput | None:
        data = self._pending + pcm
        usable = len(data) - len(data) % self.frame_bytes
        self._pending = data[usable:]
        for pos in range(0, usable, self.frame_bytes):
            frame = data[pos: pos + self.frame_bytes]
            self._frames_seen += 1
            voiced = self._vad.is_speech(frame, self.rate)
            if self._speech is None:
                self._recent.append((frame, voiced))
                window = list(self._recent)[-self.start_frames:]
                if not voiced:
                    self._unvoiced_db.append(level_dbfs(frame))
                if sum(v for _, v in window) >= self.start_voiced:
                    self._speech = [f for f, _ in self._recent]      # lead-in included
                    self._speech_start = self._frames_seen - len(self._recent)
                    self._silent_run = 0
                    if self.on_speech is not None:
                        self._out.extend(self._speech)
                    self._recent.clear()
                elif self.elapsed_s >= self.no_input_timeout_s:
                    return NoInput(self.elapsed_s)
                continue
            self._speech.append(frame)
            level = level_dbfs(frame)
            if not voiced:
                self._unvoiced_db.append(level)
            elif level <= self._noise_floor() + QUIET_MARGIN_DB:
                voiced = False           # webrtcvad's hangover after the sound stopped
            self._silent_run = 0 if voiced else self._silent_run + 1
            self._hand_on(frame, voiced)
            if self._silent_run * FRAME_MS >= self.end_silence_ms:
                return self._utterance()
            if self._whole_answer():
                return self._utterance(complete=True)
            if len(self._speech) * FRAME_MS / 1000 >= self.max_utterance_s:
                return self._utterance()
        self._flush()
        return None

    def _noise_floor(self) -> float:
        levels = sorted(self._unvoiced_db)
        floor = levels[len(levels) // 2] if levels else QUIET_FLOOR_DBFS
        return max(floor, QUIET_FLOOR_DBFS)

    def _whole_answer(self) -> bool:
        """In a pause of at least ``complete_silence_ms``: whether the answer is already whole
        (the recognizer is handed the audio so far first)."""
        if self.complete is None or not self.complete_silence_ms \
                or self._silent_run * FRAME_MS < self.complete_silence_ms:
            return False
        self._flush()
        return self.complete()

    def finish(self) -> Utterance | NoInput:
        """The stream ended (end of a recorded turn): speech so far, or no input."""
        if self._speech is not None:
            return self._utterance()
        return NoInput(self.elapsed_s)


def level_dbfs(frame: bytes) -> float:
    """A frame's RMS level in dB below full scale (-120 for digital silence)."""
    import numpy as np
    x = np.frombuffer(frame, "<i2").astype(np.float32)
    power = float(np.dot(x, x)) / max(len(x), 1) / 32768.0 ** 2
    return 10 * math.log10(power) if power > 1e-12 else -120.0


def end_silence_for(audio: Mapping[str, Any], expecting: str | None) -> int:
    """The end-of-speech wait (ms) for the answer to ``expecting`` while it is not known to be
    whole: the short one for short answers (``voice_agent.expect``: yes/no, a menu choice), the
    long one for everything else. A whole answer ends sooner (``complete_silence``)."""
    if expectation(expecting).short:
        return int(audio.get("end_silence_short_ms", audio["end_silence_ms"]))
    return int(audio["end_silence_ms"])


def complete_silence(audio: Mapping[str, Any], expecting: str | None = None) -> int:
    """The end-of-speech wait (ms) after an answer to ``expecting`` already heard whole (0:
    never sooner): ``end_silence_request_ms`` for a request, else ``end_silence_complete_ms``."""
    if expectation(expecting).request:
        return int(audio.get("end_silence_request_ms", 0))
    return int(audio.get("end_silence_complete_ms", 0))


def find_speech(pcm: bytes, rate: int, audio: Mapping[str, Any],
                on_speech: Callable[[bytes], None] | None = None) -> Utterance | NoInput:
    """The first utterance in a recording, or NoInput (the recording is one caller turn).

    A recording has no clock to wait on, so the whole file is searched whatever its length; the
    no-input timeout applies to live audio only. With ``on_speech`` the utterance's audio is
    handed on as it is found (up to ``feed_tail_ms`` of the silence after it).
    """
    ep = Endpointer.from_settings(audio, rate=rate, on_speech=on_speech)
    ep.no_input_timeout_s = float("inf")
    result = ep.feed(pcm)
    return result if result is not None else ep.finish()


def is_steady_noise(pcm: bytes, rate: int, threshold: float = 0.3, min_frames: int = 3) -> bool:
    """True for hiss-like audio (an open line, white noise) that the voice detector let through.

    Speech, even under noise, has frames whose spectrum has structure (harmonics, formants);
    broadband noise is flat in every frame. Flatness is the geometric over the arithmetic mean of
    a frame's power spectrum: about 0.55 for white noise frames, below 0.2 for voiced speech
    frames even at 10 dB SNR. Fewer than ``min_frames`` structured frames (90 ms) means noise.
    Without this check a grammar forces noise onto one of its phrases with high confidence.
    """
    import numpy as np

    from voice_agent.voice.audio import from_pcm16
    x = from_pcm16(pcm)
    n = int(rate * 0.03)
    if len(x) < n * min_frames:
        return False
    frames = x[: len(x) // n * n].reshape(-1, n)
    energy = (frames ** 2).mean(axis=1)
    frames = frames[energy > max(energy.max() * 0.01, 1e-7)]
    if len(frames) < min_frames:
        return False
    power = np.abs(np.fft.rfft(frames * np.hanning(n), axis=1)) ** 2 + 1e-12
    power = power[:, 3:]                                    # below ~100 Hz says nothing
    flatness = np.exp(np.log(power).mean(axis=1)) / power.mean(axis=1)
    return int((flatness < threshold).sum()) < min_frames
