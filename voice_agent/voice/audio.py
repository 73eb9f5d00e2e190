"""Audio in and out: any WAV file to 16-bit mono PCM at the rate we ask for, and back to a WAV.

The ``wave`` module refuses everything but integer PCM, and phone recordings are often mu-law or
A-law (WAV format tags 7 and 6), so the RIFF header is parsed here. Decoding and resampling use
numpy (``audioop`` is gone in Python 3.13). Audio between stages is ``bytes`` of signed 16-bit
little-endian mono samples at a stated rate, as ARCHITECTURE.md says.
"""
from __future__ import annotations

import struct
import wave
from pathlib import Path

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


def parse_wav(data: bytes, name: str = "audio") -> tuple[np.ndarray, int]:
    """Decode WAV bytes to (float32 mono samples in -1..1, sample rate)."""
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        raise AudioError(f"{name} is not a WAV file (no RIFF/WAVE header)")
    if data[:4] == b"RIFX":
        raise AudioError(f"{name} is a big-endian WAV (RIFX), which is not supported")
    fmt = None
    payload = None
    for cid, body in _chunks(data, name):
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            payload = body
            break
    if fmt is None or len(fmt) < 16:
        raise AudioError(f"{name} has no usable 'fmt ' chunk (truncated or damaged WAV)")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]     # first two bytes of the sub-format GUID
    if payload is None:
        raise AudioError(f"{name} has no 'data' chunk (truncated or damaged WAV)")
    if channels < 1 or rate < 1000 or rate > 384000:
        raise AudioError(f"{name}: implausible header ({channels} channels at {rate} Hz)")
    width = {PCM: (bits + 7) // 8, IEEE_FLOAT: bits // 8, ALAW: 1, MULAW: 1}.get(tag)
    if width is None or width < 1:
        raise AudioError(f"{name}: WAV encoding {FORMAT_NAMES.get(tag, hex(tag))} "
                         f"with {bits} bits is not supported (use PCM, float, mu-law or A-law)")
    frame = width * channels
    usable = len(payload) - len(payload) % frame
    raw = payload[:usable]
    if tag == MULAW:
        samples = MULAW_TABLE[np.frombuffer(raw, np.uint8)].astype(np.float32) / 32768.0
    elif tag == ALAW:
        samples = ALAW_TABLE[np.frombuffer(raw, np.uint8)].astype(np.float32) / 32768.0
    elif tag == IEEE_FLOAT and width in (4, 8):
        samples = np.frombuffer(raw, "<f4" if width == 4 else "<f8").astype(np.float32)
        samples = np.nan_to_num(np.clip(samples, -1.0, 1.0))
    elif tag == PCM and width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif tag == PCM and width == 2:
        samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif tag == PCM and width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        samples = (np.where(v & 0x800000, v - (1 << 24), v)).astype(np.float32) / 8388608.0
    elif tag == PCM and width == 4:
        samples = np.frombuffer(raw, "<i4").astype(np.float32) / 2147483648.0
    else:
        raise AudioError(f"{name}: {bits}-bit {FORMAT_NAMES.get(tag, hex(tag))} is not supported")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples.astype(np.float32), rate


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
