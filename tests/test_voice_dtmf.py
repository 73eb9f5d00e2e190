"""Keypad tones: every key, at 8 and 16 kHz, under noise, through mu-law, and no false keys."""
from __future__ import annotations

import numpy as np
import pytest

from voice_agent.voice import dtmf
from voice_agent.voice.audio import convert, from_pcm16, mix, noise, read_wav, silence

from voice_helpers import HAS_ESPEAK, espeak, wav_bytes

ALL_KEYS = "0123456789*#ABCD"


@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_every_key_at_each_rate(rate):
    assert dtmf.detect(dtmf.generate(ALL_KEYS, rate), rate) == ALL_KEYS


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("level", [0.02, 0.05, 0.1])
def test_keys_under_noise(rate, level):
    keys = "300400500#"
    pcm = dtmf.generate(keys, rate)
    noisy = mix(pcm, noise(len(pcm) / 2 / rate, rate, level, seed=7))
    assert dtmf.detect(noisy, rate) == keys


def test_short_fast_presses_and_quiet_keys():
    assert dtmf.detect(dtmf.generate("1234567890#", 8000, tone_ms=40, gap_ms=40), 8000) == "1234567890#"
    assert dtmf.detect(dtmf.generate("8642#", 16000, level=0.01), 16000) == "8642#"


def test_repeated_key_needs_a_gap_and_long_press_is_one_key():
    assert dtmf.detect(dtmf.generate("55", 16000), 16000) == "55"
    assert dtmf.detect(dtmf.generate("5", 16000, tone_ms=800), 16000) == "5"


def test_through_a_phone_line_mu_law_8k(tmp_path):
    pcm = dtmf.generate("4111111111111111#", 16000)
    samples = from_pcm16(convert(pcm, 16000, 8000))
    path = tmp_path / "line.wav"
    path.write_bytes(wav_bytes(samples, 8000, encoding="mulaw"))
    line, rate = read_wav(path)
    assert rate == 8000 and dtmf.detect(line, rate) == "4111111111111111#"


def test_streaming_in_small_chunks_matches_whole():
    pcm = dtmf.generate("2468#", 16000)
    det = dtmf.DtmfDetector(16000)
    keys = "".join(det.feed(pcm[i:i + 320]) for i in range(0, len(pcm), 320))
    keys += det.feed(silence(0.1, 16000))
    assert keys == "2468#"


@pytest.mark.parametrize("level", [0.001, 0.05, 0.3])
def test_no_keys_in_noise_or_silence(level):
    assert dtmf.detect(noise(10, 16000, level, seed=3), 16000) == ""
    assert dtmf.detect(silence(2, 8000), 8000) == ""


def test_single_tones_and_bad_twist_are_not_keys():
    rate = 16000
    t = np.arange(rate // 2) / rate
    one = (0.3 * np.sin(2 * np.pi * 697 * t)).astype(np.float32)
    from voice_agent.voice.audio import to_pcm16
    assert dtmf.detect(to_pcm16(one), rate) == ""
    twisted = one + (0.01 * np.sin(2 * np.pi * 1209 * t)).astype(np.float32)   # ~30 dB twist
    assert dtmf.detect(to_pcm16(twisted), rate) == ""


@pytest.mark.skipif(not HAS_ESPEAK, reason="espeak-ng is not installed")
@pytest.mark.parametrize("text,voice", [("네 맞습니다", "ko"), ("one two three four five six", "en-us"),
                                        ("pagar mi factura por favor", "es")])
def test_speech_is_not_keys(tmp_path, text, voice):
    pcm, rate = read_wav(espeak(text, voice, tmp_path / "s.wav"), 16000)
    assert dtmf.detect(pcm, rate) == ""


def test_unknown_key_is_refused():
    with pytest.raises(ValueError):
        dtmf.generate("x")
