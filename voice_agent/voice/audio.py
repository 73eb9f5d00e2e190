"""Audio in and out: any WAV file to 16-bit mono PCM at the rate we ask for, and back to a WAV.

The ``wave`` module refuses everything but integer PCM, and phone recordings are often mu-law or
A-law (WAV format tags 7 and 6), so the RIFF header is parsed here. Decoding and resampling use
numpy (``audioop`` is gone in Python 3.13). Audio between stages is ``bytes`` of signed 16-bit
little-endian mono samples at a stated rate, as ARCHITECTURE.md says.
"""
from __future__ import annotations

import math
import struct
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

PCM, IEEE_FLOAT, ALAW, MULAW, EXTENSIBLE = 1, 3, 6, 7, 0xFFFE
FORMAT_NAMES = {PCM: "PCM", IEEE_FLOAT: "float", ALAW: "A-law", MULAW: "mu-law"}


class AudioError(ValueError):
    """Audio we cannot use; the message says which file and why, in words a caller can act on."""


def _mulaw_table() -> np.ndarray:
    """G.711 mu-law byte -> 16-bit sample (ITU-T G.711 expansion)."""
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_table() -> np.ndarray:
    """G.711 A-law byte -> 16-bit sample."""
    a = np.arange(256, dtype=np.int32) ^ 0x55
    sign = a & 0x80
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8,
                         ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


MULAW_TABLE = _mulaw_table()
ALAW_TABLE = _alaw_table()


def _chunks(data: bytes, name: str):
    """Yield (chunk id, payload) from a RIFF body; a truncated last chunk yields what is there."""
    pos = 12
    while pos + 8 <= len(data):
        cid, size = struct.unpack_from("<4sI", data, pos)
        body = data[pos + 8: pos + 8 + size]
        yield cid, body
        pos += 8 + size + (size & 1)


@dataclass(frozen=True)
class WavFormat:
    """What a WAV header says, checked: enough to decode its data chunk piece by piece."""

    tag: int
    channels: int
    rate: int
    bits: int
    width: int                 # bytes per sample of one channel

    @property
    def frame(self) -> int:
        return self.width * self.channels


def _check_format(fmt: bytes | None, found_data: bool, name: str) -> WavFormat:
    """The 'fmt ' chunk as a WavFormat, or AudioError saying what is wrong with the file."""
    if fmt is None or len(fmt) < 16:
        raise AudioError(f"{name} has no usable 'fmt ' chunk (truncated or damaged WAV)")
    tag, channels, rate, _byte_rate, _block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]     # first two bytes of the sub-format GUID
    if not found_data:
        raise AudioError(f"{name} has no 'data' chunk (truncated or damaged WAV)")
    if channels < 1 or rate < 1000 or rate > 384000:
        raise AudioError(f"{name}: implausible header ({channels} channels at {rate} Hz)")
    width = {PCM: (bits + 7) // 8, IEEE_FLOAT: bits // 8, ALAW: 1, MULAW: 1}.get(tag)
    if width is None or width < 1:
        raise AudioError(f"{name}: WAV encoding {FORMAT_NAMES.get(tag, hex(tag))} "
                         f"with {bits} bits is not supported (use PCM, float, mu-law or A-law)")
    if not (tag in (MULAW, ALAW) or (tag == IEEE_FLOAT and width in (4, 8))
            or (tag == PCM and width in (1, 2, 3, 4))):
        raise AudioError(f"{name}: {bits}-bit {FORMAT_NAMES.get(tag, hex(tag))} is not supported")
    return WavFormat(tag, channels, rate, bits, width)


def _check_riff(head: bytes, name: str) -> None:
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        raise AudioError(f"{name} is not a WAV file (no RIFF/WAVE header)")
    if head[:4] == b"RIFX":
        raise AudioError(f"{name} is a big-endian WAV (RIFX), which is not supported")


def decode(raw: bytes, fmt: WavFormat) -> np.ndarray:
    """Whole frames of a data chunk (any supported encoding) to float32 mono in -1..1."""
    raw = raw[: len(raw) - len(raw) % fmt.frame]
    tag, width = fmt.tag, fmt.width
    if tag == MULAW:
        samples = MULAW_TABLE[np.frombuffer(raw, np.uint8)].astype(np.float32) / 32768.0
    elif tag == ALAW:
        samples = ALAW_TABLE[np.frombuffer(raw, np.uint8)].astype(np.float32) / 32768.0
    elif tag == IEEE_FLOAT:
        samples = np.frombuffer(raw, "<f4" if width == 4 else "<f8").astype(np.float32)
        samples = np.nan_to_num(np.clip(samples, -1.0, 1.0))
    elif width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        samples = (np.where(v & 0x800000, v - (1 << 24), v)).astype(np.float32) / 8388608.0
    else:
        samples = np.frombuffer(raw, "<i4").astype(np.float32) / 2147483648.0
    if fmt.channels > 1:
        samples = samples.reshape(-1, fmt.channels).mean(axis=1)
    return samples.astype(np.float32)


def parse_wav(data: bytes, name: str = "audio") -> tuple[np.ndarray, int]:
    """Decode WAV bytes to (float32 mono samples in -1..1, sample rate)."""
    _check_riff(data, name)
    fmt = None
    payload = None
    for cid, body in _chunks(data, name):
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            payload = body
            break
    info = _check_format(fmt, payload is not None, name)
    return decode(payload, info), info.rate


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling of float samples by FFT (what scipy.signal.resample does).

    Cutting the spectrum at the new Nyquist frequency is the anti-alias filter when going down
    (44.1 kHz -> 16 kHz); going up (8 kHz phone audio) it adds no false high band.
    """
    if src_rate == dst_rate or len(samples) == 0:
        return samples
    n_out = max(1, int(round(len(samples) * dst_rate / src_rate)))
    spectrum = np.fft.rfft(samples)
    keep = n_out // 2 + 1
    if keep <= len(spectrum):
        spectrum = spectrum[:keep]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(keep - len(spectrum), spectrum.dtype)])
    out = np.fft.irfft(spectrum, n_out) * (n_out / len(samples))
    return out.astype(np.float32)


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples (-1..1) to 16-bit little-endian PCM bytes, clipping instead of wrapping."""
    return (np.clip(samples, -1.0, 32767 / 32768) * 32768.0).astype("<i2").tobytes()


def from_pcm16(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], "<i2").astype(np.float32) / 32768.0


def convert(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """16-bit PCM at one rate to 16-bit PCM at another."""
    if src_rate == dst_rate:
        return pcm[: len(pcm) - len(pcm) % 2]
    return to_pcm16(resample(from_pcm16(pcm), src_rate, dst_rate))


def read_wav(path: str | Path, rate: int | None = None) -> tuple[bytes, int]:
    """Read any WAV file to 16-bit mono PCM; resampled to ``rate`` when given.

    Returns ``(pcm, rate)``. Raises AudioError with a clear message for files that are missing,
    empty, not WAV or in an encoding we cannot decode. A truncated data chunk gives the audio
    that is there; a WAV with no samples gives ``b""`` (the caller's no-input path).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AudioError(f"{path} is a directory, not a WAV file") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot read ({exc.strerror})") from None
    if not data:
        raise AudioError(f"{path} is empty (0 bytes), not a WAV file")
    samples, src_rate = parse_wav(data, str(path))
    if rate is None or rate == src_rate:
        return to_pcm16(samples), src_rate
    return to_pcm16(resample(samples, src_rate, rate)), rate


def _open_error(path: Path, exc: OSError) -> AudioError:
    if isinstance(exc, FileNotFoundError):
        return AudioError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return AudioError(f"{path} is a directory, not a WAV file")
    return AudioError(f"{path}: cannot read ({exc.strerror})")


def _find_data(f: BinaryIO, path: Path) -> tuple[WavFormat, int]:
    """Walk the RIFF chunks by seeking (no payload is read but 'fmt '); leaves ``f`` at the
    first sample and returns the format and the data bytes that are really in the file."""
    size = f.seek(0, 2)
    if size == 0:
        raise AudioError(f"{path} is empty (0 bytes), not a WAV file")
    f.seek(0)
    _check_riff(f.read(12), str(path))
    fmt, pos = None, 12
    while pos + 8 <= size:
        f.seek(pos)
        cid, chunk = struct.unpack("<4sI", f.read(8))
        if cid == b"fmt ":
            fmt = f.read(min(chunk, 64))
        elif cid == b"data":
            info = _check_format(fmt, True, str(path))
            f.seek(pos + 8)
            return info, max(0, min(chunk, size - pos - 8))      # truncated: what is there
        pos += 8 + chunk + (chunk & 1)
    _check_format(fmt, False, str(path))
    raise AssertionError("unreachable: _check_format raises without a data chunk")


def wav_format(path: str | Path) -> WavFormat:
    """The checked format of a WAV file, read from its header only (AudioError if unusable)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return _find_data(f, path)[0]
    except OSError as exc:
        raise _open_error(path, exc) from None


def stream_wav(path: str | Path, rate: int | None = None,
               chunk_s: float = 1.0) -> Iterator[bytes]:
    """Any WAV file as 16-bit mono PCM chunks of about ``chunk_s`` seconds at ``rate`` (default:
    the file's rate), read, decoded and resampled one chunk at a time.

    Memory stays at a few chunks whatever the file's length (an hour at 16 kHz is 115 MB as
    PCM, and ``read_wav`` holds several copies of it). Resampling is ``resample`` on each chunk
    with ``CONTEXT_S`` of the neighbouring audio on both sides, cut off again afterwards, so the
    edges of the FFT window fall outside what is kept and the chunks join without clicks.
    Errors in the header raise AudioError before the first chunk (call ``wav_format`` first to
    check a file up front); a truncated data chunk gives the audio that is there.
    """
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise _open_error(path, exc) from None
    with f:
        try:
            fmt, remaining = _find_data(f, path)
        except OSError as exc:
            raise _open_error(path, exc) from None
        src, dst = fmt.rate, rate or fmt.rate
        unit = src // math.gcd(src, dst)           # source samples that map to whole outputs
        block = unit * max(1, round(chunk_s * src / unit))
        resampler = _ChunkResampler(src, dst, unit)
        while remaining > 0:
            raw = f.read(min(remaining, block * fmt.frame))
            if not raw:
                break
            remaining -= len(raw)
            out = resampler.push(decode(raw, fmt))
            if out:
                yield out
        tail = resampler.finish()
        if tail:
            yield tail


CONTEXT_S = 0.1


class _ChunkResampler:
    """``resample`` over a stream: each block is resampled with its neighbours as context."""

    def __init__(self, src: int, dst: int, unit: int) -> None:
        self.src, self.dst = src, dst
        self.pad = unit * max(1, math.ceil(CONTEXT_S * src / unit)) if src != dst else 0
        self.prev = np.zeros(0, np.float32)        # already emitted, kept as left context
        self.pending = np.zeros(0, np.float32)     # not emitted yet
        self.unit = unit

    def _out_len(self, n: int) -> int:
        return n * self.dst // self.src            # exact for multiples of ``unit``

    def push(self, samples: np.ndarray) -> bytes:
        if self.src == self.dst:
            return to_pcm16(samples)
        self.pending = np.concatenate([self.pending, samples])
        usable = (len(self.pending) - self.pad) // self.unit * self.unit
        if usable <= 0:
            return b""
        seg = np.concatenate([self.prev, self.pending[: usable + self.pad]])
        out = resample(seg, self.src, self.dst)
        start = self._out_len(len(self.prev))
        pcm = to_pcm16(out[start: start + self._out_len(usable)])
        self.prev = np.concatenate([self.prev, self.pending[:usable]])[-self.pad:]
        self.pending = self.pending[usable:]
        return pcm

    def finish(self) -> bytes:
        if self.src == self.dst or len(self.pending) == 0:
            return b""
        seg = np.concatenate([self.prev, self.pending])
        out = resample(seg, self.src, self.dst)
        self.pending = np.zeros(0, np.float32)
        return to_pcm16(out[self._out_len(len(self.prev)):])


def write_wav(path: str | Path, pcm: bytes, rate: int) -> Path:
    """Write 16-bit mono PCM as a standard WAV file."""
    path = Path(path)
    with open(path, "wb") as raw, wave.open(raw, "wb") as out:   # open first: a clean OSError
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return path


def duration_s(pcm: bytes, rate: int) -> float:
    return len(pcm) / 2 / rate


def silence(seconds: float, rate: int) -> bytes:
    return b"\x00\x00" * int(seconds * rate)


def noise(seconds: float, rate: int, level: float = 0.05, seed: int = 0) -> bytes:
    """White noise at an RMS ``level`` (tests and the benchmark use it as a bad line)."""
    rng = np.random.default_rng(seed)
    return to_pcm16(rng.normal(0.0, level, int(seconds * rate)).astype(np.float32))


def mix(a: bytes, b: bytes) -> bytes:
    """Sum two PCM streams of the same rate (the shorter one padded with silence)."""
    x, y = from_pcm16(a), from_pcm16(b)
    n = max(len(x), len(y))
    out = np.zeros(n, np.float32)
    out[: len(x)] += x
    out[: len(y)] += y
    return to_pcm16(out)
