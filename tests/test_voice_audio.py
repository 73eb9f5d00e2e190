"""Any WAV in: encodings, rates, channels, and bad files with clear messages."""
from __future__ import annotations

import numpy as np
import pytest

from voice_agent.voice.audio import (
    ALAW_TABLE,
    MULAW_TABLE,
    AudioError,
    convert,
    from_pcm16,
    read_wav,
    resample,
    to_pcm16,
    write_wav,
)

from voice_helpers import correlation, tone, wav_bytes


@pytest.mark.parametrize("encoding,rate,channels", [
    ("pcm16", 16000, 1), ("pcm16", 44100, 2), ("u8", 22050, 1), ("float32", 48000, 1),
    ("mulaw", 8000, 1), ("alaw", 8000, 1), ("mulaw", 8000, 2)])
def test_every_encoding_reads_to_16k_mono(tmp_path, encoding, rate, channels):
    signal = tone(440, 0.5, rate) + tone(1000, 0.5, rate, 0.2)
    path = tmp_path / f"x_{encoding}.wav"
    path.write_bytes(wav_bytes(signal, rate, channels, encoding))
    pcm, out_rate = read_wav(path, 16000)
    assert out_rate == 16000
    assert abs(len(pcm) / 2 - 8000) <= 1
    reference = to_pcm16(resample(signal, rate, 16000))
    assert correlation(pcm, reference) > 0.98


def test_mulaw_and_alaw_tables_match_g711_reference_points():
    assert MULAW_TABLE[0x00] == -32124 and MULAW_TABLE[0x80] == 32124
    assert MULAW_TABLE[0xFF] == 0 and MULAW_TABLE[0x7F] == 0
    assert ALAW_TABLE[0xD5] == 8 and ALAW_TABLE[0x55] == -8
    assert ALAW_TABLE[0xAA] == 32256 and ALAW_TABLE[0x2A] == -32256


def test_resampling_keeps_a_tone_and_removes_what_cannot_exist():
    x = tone(1000, 1.0, 44100) + tone(12000, 1.0, 44100)     # 12 kHz cannot exist at 16 kHz
    y = resample(x, 44100, 16000)
    spectrum = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(len(y), 1 / 16000)
    peak = freqs[spectrum.argmax()]
    assert abs(peak - 1000) < 5
    # No alias of 12 kHz (it would fold to 4 kHz).
    assert spectrum[np.abs(freqs - 4000) < 50].max() < spectrum.max() * 0.01


def test_8k_phone_audio_upsamples(tmp_path):
    pcm = to_pcm16(tone(697, 1.0, 8000))
    up = convert(pcm, 8000, 16000)
    assert len(up) == 2 * 16000


def test_round_trip_write_read(tmp_path):
    pcm = to_pcm16(tone(300, 0.2, 16000))
    path = write_wav(tmp_path / "a.wav", pcm, 16000)
    assert read_wav(path) == (pcm, 16000)


def test_truncated_data_gives_what_is_there(tmp_path):
    data = wav_bytes(tone(440, 1.0, 16000), 16000)
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: 44 + 5001])          # header says 1 s, file holds ~0.16 s (odd cut)
    pcm, rate = read_wav(path)
    assert rate == 16000 and len(pcm) == 5000


def test_a_wav_with_no_samples_is_empty_audio(tmp_path):
    path = tmp_path / "empty.wav"
    write_wav(path, b"", 16000)
    assert read_wav(path, 16000) == (b"", 16000)


@pytest.mark.parametrize("content,message", [
    (b"", "empty"), (b"hello, not audio at all", "not a WAV"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt ", "no usable 'fmt '"),
])
def test_bad_files_raise_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=message):
        read_wav(path)


def test_missing_file_and_unsupported_encoding(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        read_wav(tmp_path / "nope.wav")
    data = bytearray(wav_bytes(tone(440, 0.1, 8000), 8000))
    data[20:22] = (0x11).to_bytes(2, "little")        # IMA ADPCM
    (tmp_path / "adpcm.wav").write_bytes(bytes(data))
    with pytest.raises(AudioError, match="not supported"):
        read_wav(tmp_path / "adpcm.wav")


def test_pcm_helpers_clip_rather_than_wrap():
    assert from_pcm16(to_pcm16(np.array([2.0, -2.0], np.float32))).tolist() == pytest.approx(
        [32767 / 32768, -1.0])
