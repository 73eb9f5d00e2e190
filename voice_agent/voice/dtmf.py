"""In-band keypad tones (DTMF): detection with the Goertzel algorithm, and generation for tests.

Phones send a key as two sine tones, one from the row group and one from the column group.
A block counts as a key only when (1) the two strongest tones carry most of the block's energy
(speech and noise spread theirs), (2) each is clearly stronger than the other tones of its group,
(3) their levels are within the twist limits, and (4) the block is not too quiet. A key is
reported once, when it has been seen in ``min_blocks`` consecutive blocks, so a long press is
one key and a pause between presses is needed to repeat one.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from voice_agent.voice.audio import from_pcm16, to_pcm16

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
FREQS = np.array(ROWS + COLS)


def key_frequencies(key: str) -> tuple[float, float]:
    for r, row in enumerate(KEYS):
        if key.upper() in row:
            return ROWS[r], COLS[row.index(key.upper())]
    raise ValueError(f"{key!r} is not a keypad key (0-9, *, #, A-D)")


def generate(keys: str, rate: int = 16000, tone_ms: int = 100, gap_ms: int = 80,
             level: float = 0.3, lead_ms: int = 100) -> bytes:
    """PCM of keys as a phone would send them (used by tests, the demo and the benchmark)."""
    parts = [np.zeros(int(rate * lead_ms / 1000), np.float32)]
    t = np.arange(int(rate * tone_ms / 1000)) / rate
    gap = np.zeros(int(rate * gap_ms / 1000), np.float32)
    for key in keys:
        low, high = key_frequencies(key)
        tone = level * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t)) / 2
        parts += [tone.astype(np.float32), gap]
    return to_pcm16(np.concatenate(parts))


def goertzel_power(blocks: np.ndarray, freqs: np.ndarray, rate: int) -> np.ndarray:
    """Power at each frequency for each block (shape blocks x freqs).

    This is what the Goertzel recurrence computes (|X(f)|^2 of the block at each of the eight
    keypad frequencies), done as one real matrix product with the cosines and sines of the
    frequencies (made once per block size): the recurrence is a Python loop over the block's
    samples, about ten times slower here. Every phone-line chunk passes through this while the
    caller speaks, so it must hold the interpreter lock as little as possible (numpy's matrix
    product releases it; the ``scripts/bench.py`` capacity section measures calls per process).
    """
    basis = _basis(blocks.shape[1], tuple(float(f) for f in freqs), rate)
    spectrum = blocks @ basis                                      # (blocks, 2F): cos | sin
    half = len(freqs)
    return spectrum[:, :half] ** 2 + spectrum[:, half:] ** 2


@functools.lru_cache(maxsize=8)
def _basis(size: int, freqs: tuple[float, ...], rate: int) -> np.ndarray:
    phase = 2 * np.pi * np.outer(np.arange(size), np.array(freqs)) / rate   # (N, F)
    return np.ascontiguousarray(np.hstack([np.cos(phase), np.sin(phase)]))


@dataclass
class DtmfDetector:
    """Streaming detector: ``feed(pcm)`` returns the keys that completed in that audio."""

    rate: int = 16000
    min_energy: float = 3e-6         # mean square of a block, about -55 dBFS
    min_tone_share: float = 0.5      # share of the block's energy in the two tones
    group_margin_db: float = 8.0     # strongest tone above the runner-up of its group
    max_twist_db: float = 8.0        # |row level - column level|
    min_blocks: int = 2
    _buffer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    _current: str | None = None
    _run: int = 0
    _reported: bool = False

    def __post_init__(self) -> None:
        # ~25.6 ms blocks (205 samples at 8 kHz, the classic size: ~39 Hz bins separate the
        # rows 73 Hz apart), half-overlapped so a 40 ms key still fills two blocks.
        self.block = int(round(self.rate * 0.0256))
        self.hop = self.block // 2
        self.window = np.hamming(self.block)

    def classify(self, blocks: np.ndarray) -> list[str | None]:
        """The key each block holds, or None."""
        if len(blocks) == 0:
            return []
        windowed = blocks * self.window
        power = goertzel_power(windowed, FREQS, self.rate)
        # Normalise so that each tone's value is its share of the (windowed) block energy:
        # a windowed sine of amplitude A has |X|^2 = (A/2 sum w)^2 and energy A^2/2 sum w^2.
        energy = np.maximum((windowed ** 2).sum(axis=1), 1e-12)[:, None]
        scale = 2.0 * (self.window ** 2).sum() / self.window.sum() ** 2
        share = power * scale / energy
        ms = (blocks ** 2).mean(axis=1)
        # The tests below, for all blocks at once (a Python loop per block held the interpreter
        # lock for most of a phone call's processing).
        rows, cols = share[:, :4], share[:, 4:]
        r, c = rows.argmax(axis=1), cols.argmax(axis=1)
        each = np.arange(len(blocks))
        row, col = rows[each, r], cols[each, c]
        # The runner-up of each group: the second largest (a tie with the strongest fails).
        other_row, other_col = np.sort(rows, axis=1)[:, -2], np.sort(cols, axis=1)[:, -2]
        margin = 10 ** (self.group_margin_db / 10)
        twist = np.abs(10 * np.log10(np.maximum(row, 1e-12) / np.maximum(col, 1e-12)))
        key = ((ms >= self.min_energy) & (row + col >= self.min_tone_share)
               & (row >= margin * other_row) & (col >= margin * other_col)
               & (twist <= self.max_twist_db))
        return [KEYS[r[i]][c[i]] if key[i] else None for i in range(len(blocks))]

    @property
    def tone_on(self) -> bool:
        """A key is sounding right now (its tone is not speech, even after its entry ended)."""
        return self._current is not None

    def feed(self, pcm: bytes) -> str:
        """Add audio; return the keys completed by it (in order). Long audio is taken a second
        at a time, so the block arrays stay small whatever the length of ``pcm``."""
        step = 2 * self.rate
        if len(pcm) <= step:
            return self._feed(pcm)
        return "".join(self._feed(pcm[i:i + step]) for i in range(0, len(pcm), step))

    def _feed(self, pcm: bytes) -> str:
        self._buffer = np.concatenate([self._buffer, from_pcm16(pcm)])
        count = max(0, (len(self._buffer) - self.block) // self.hop + 1)
        if count == 0:
            return ""
        idx = np.arange(count)[:, None] * self.hop + np.arange(self.block)[None, :]
        blocks = self._buffer[idx].astype(np.float64)
        self._buffer = self._buffer[count * self.hop:]
        keys = []
        for key in self.classify(blocks):
            if key is not None and key == self._current:
                self._run += 1
            else:
                self._current, self._run, self._reported = key, 1, False
            if key is not None and not self._reported and self._run >= self.min_blocks:
                keys.append(key)
                self._reported = True
        return "".join(keys)

    def finish(self) -> str:
        """The stream ended: a key still sounding at the very end is completed by silence."""
        return self.feed(b"\x00\x00" * (self.rate // 10))


def detect(pcm: bytes, rate: int) -> str:
    """All keys in a recording, in order."""
    return detect_stream([pcm], rate)


def detect_stream(chunks: Iterable[bytes], rate: int) -> str:
    """All keys in audio given chunk by chunk (state carries across chunks; memory stays flat)."""
    detector = DtmfDetector(rate)
    keys = [detector.feed(chunk) for chunk in chunks]
    return "".join(keys) + detector.finish()
