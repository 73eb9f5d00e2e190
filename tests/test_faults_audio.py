"""Bad audio through the real commands: a clear message or the normal no-input path, never a
traceback, and nothing written when a call's files are unusable.

The WAV decoder's own tests (test_voice_audio.py) cover the encodings at the function level;
here the files go through `voice-agent transcribe` and `voice-agent call` in child processes, and
an hour-long recording checks that memory does not grow with the length of the file.
"""
from __future__ import annotations

import json
import resource
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fault_helpers import ROOT, no_traceback, scaled, voice_agent
from store_helpers import FAST_HASH_ARGS
from voice_helpers import HAS_ESPEAK, HAS_KO_MODEL, espeak, wav_bytes

needs_ko = pytest.mark.skipif(not (HAS_KO_MODEL and HAS_ESPEAK),
                              reason="needs the Korean model package and espeak-ng")


def korean_yes(tmp_path: Path) -> tuple[np.ndarray, int]:
    """Real speech ("네", yes) as float samples at 22.05 kHz, from espeak-ng."""
    from voice_agent.voice.audio import read_wav
    pcm, rate = read_wav(espeak("네", "ko", tmp_path / "ne.wav"))
    padded = np.concatenate([np.zeros(rate // 2), np.frombuffer(pcm, "<i2") / 32768.0,
                             np.zeros(rate)])
    return padded.astype(np.float32), rate


def resampled(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    return np.interp(np.arange(int(len(x) * dst / src)) * src / dst, np.arange(len(x)), x)


BROKEN = {
    "empty.wav": b"",
    "not_a_wav.wav": b"This is a text file, not audio.\n" * 20,
    "header_only.wav": wav_bytes(np.zeros(16000, np.float32), 16000)[:40],
    "riff_no_data.wav": b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + struct.pack(
        "<HHIIHH", 1, 1, 16000, 32000, 2, 16),
    "bad_header_rate.wav": wav_bytes(np.zeros(1600, np.float32), 16000).replace(
        struct.pack("<I", 16000), struct.pack("<I", 7), 1),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_transcribe_refuses_broken_files_with_a_clear_message(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(BROKEN[name])
    proc = voice_agent("transcribe", str(path), "--lang", "ko")
    text = no_traceback(proc)
    assert proc.returncode == 2 and name in text, text


def test_transcribe_truncated_file_gives_what_is_there(tmp_path):
    data = wav_bytes(np.zeros(32000, np.float32), 16000)
    path = tmp_path / "truncated.wav"
    path.write_bytes(data[: len(data) // 3 + 1])          # odd cut, in the middle of a sample
    proc = voice_agent("transcribe", str(path), "--lang", "ko", "--json")
    no_traceback(proc)
    assert proc.returncode == 0 and json.loads(proc.stdout)["no_input"] is True


@pytest.mark.parametrize("kind", ["silence", "noise", "hum"])
def test_transcribe_no_speech_is_the_no_input_path(tmp_path, kind):
    rate = 16000
    rng = np.random.default_rng(1)
    t = np.arange(rate * 3) / rate
    samples = {"silence": np.zeros(rate * 3),
               "noise": rng.normal(0, 0.3, rate * 3),           # loud hiss (an open line)
               "hum": 0.2 * np.sin(2 * np.pi * 60 * t)}[kind]
    path = tmp_path / f"{kind}.wav"
    path.write_bytes(wav_bytes(samples.astype(np.float32), rate))
    proc = voice_agent("transcribe", str(path), "--lang", "ko", "--expect", "confirm", "--json")
    no_traceback(proc)
    out = json.loads(proc.stdout)
    assert proc.returncode == 0 and out["value"] is None, out
    assert out.get("no_input") or out["band"] == "reject", out


@needs_ko
@pytest.mark.parametrize("encoding,rate,channels", [("u8", 16000, 1), ("pcm16", 44100, 2),
                                                    ("mulaw", 8000, 1)])
def test_transcribe_real_speech_in_any_encoding(tmp_path, encoding, rate, channels):
    speech, src = korean_yes(tmp_path)
    path = tmp_path / f"ne-{encoding}-{rate}-{channels}.wav"
    path.write_bytes(wav_bytes(resampled(speech, src, rate).astype(np.float32), rate, channels,
                               encoding))
    proc = voice_agent("transcribe", str(path), "--lang", "ko", "--expect", "confirm", "--json")
    no_traceback(proc)
    out = json.loads(proc.stdout)
    assert proc.returncode == 0 and out["value"] == "yes", out


def test_call_with_one_unusable_turn_changes_nothing(tmp_path):
    db = tmp_path / "agent.db"
    assert voice_agent("db", "init", "--demo", "--db", str(db), *FAST_HASH_ARGS).returncode == 0
    good = tmp_path / "silence.wav"
    good.write_bytes(wav_bytes(np.zeros(8000, np.float32), 16000))
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    proc = voice_agent("call", str(good), str(bad), str(good), "--lang", "en", "--db", str(db),
                       "--out-dir", str(tmp_path / "out"))
    text = no_traceback(proc)
    assert proc.returncode == 2 and "broken.wav" in text, text
    listed = voice_agent("calls", "list", "--db", str(db))
    assert listed.stdout.strip() == "no calls" and not (tmp_path / "out").exists()


# --- an hour-long recording --------------------------------------------------------------

def write_long_wav(path: Path, seconds: int, rate: int = 16000) -> Path:
    """Streamed to disk ten seconds at a time (the test itself never holds the file)."""
    n = rate * seconds
    rng = np.random.default_rng(3)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + 2 * n) + b"WAVE" + b"fmt "
                + struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16)
                + b"data" + struct.pack("<I", 2 * n))
        for _ in range(seconds // 10):
            f.write(rng.normal(0, 3, rate * 10).astype("<i2").tobytes())    # a quiet line
    return path


PEAK_RSS = """
import resource, sys
from voice_agent.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
      file=sys.stderr)
"""


def peak_rss_mb(*args: str, limit_mb: int = 3000) -> tuple[subprocess.CompletedProcess, float]:
    """Run the CLI in a child (address space capped so a leak cannot take the machine down)."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit_mb * 2**20, limit_mb * 2**20))
    proc = subprocess.run([sys.executable, "-c", "import json\n" + PEAK_RSS, *args],
                          capture_output=True, text=True, cwd=str(ROOT), preexec_fn=cap,
                          env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
                               "HOME": "/tmp"}, timeout=600)
    last = proc.stderr.strip().splitlines()[-1:] or ["{}"]
    try:
        peak = json.loads(last[0])["peak_mb"]
    except (ValueError, KeyError):
        peak = float("inf")
    return proc, peak


@pytest.mark.slow
def test_hour_long_recording_keeps_memory_flat(tmp_path):
    minutes = scaled(10, 60)
    short = write_long_wav(tmp_path / "short.wav", 10)
    long = write_long_wav(tmp_path / "long.wav", minutes * 60)
    base_proc, base = peak_rss_mb("transcribe", str(short), "--lang", "ko", "--json")
    assert base_proc.returncode == 0, base_proc.stderr[-2000:]
    proc, peak = peak_rss_mb("transcribe", str(long), "--lang", "ko", "--json")
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert peak - base < 100, f"{minutes} min file: peak {peak:.0f} MB vs {base:.0f} MB for 10 s"


# --- the streaming reader and keypad detector behind it ----------------------------------

@pytest.mark.parametrize("encoding,rate,channels", [("pcm16", 16000, 1), ("pcm16", 44100, 2),
                                                    ("mulaw", 8000, 1), ("u8", 22050, 1)])
def test_streamed_chunks_join_to_the_whole_file(tmp_path, encoding, rate, channels):
    from voice_agent.voice.audio import from_pcm16, read_wav, stream_wav
    t = np.arange(int(rate * 2.37)) / rate
    path = tmp_path / "tone.wav"
    path.write_bytes(wav_bytes((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate,
                               channels, encoding))
    whole, _ = read_wav(path, 16000)
    chunks = list(stream_wav(path, 16000, chunk_s=0.25))
    streamed = b"".join(chunks)
    assert len(chunks) >= 9 and len(streamed) == len(whole)
    ideal = 0.3 * np.sin(2 * np.pi * 440 * np.arange(len(whole) // 2) / 16000)
    inner = slice(800, -800)           # both differ from the ideal tone at the file's edges
    err = np.abs(from_pcm16(streamed) - ideal)[inner]
    assert err.max() < 0.03 and np.sqrt((err ** 2).mean()) < 0.01, (err.max(), rate)


def test_streamed_file_with_broken_header_raises_before_any_chunk(tmp_path):
    from voice_agent.voice.audio import AudioError, stream_wav
    path = tmp_path / "broken.wav"
    path.write_bytes(BROKEN["riff_no_data.wav"])
    with pytest.raises(AudioError, match="no 'data' chunk"):
        next(stream_wav(path))


def test_keys_split_across_chunks_are_found_once():
    from voice_agent.voice import dtmf
    pcm = dtmf.generate("159#", 8000)
    for size in (2, 160, 333 * 2, 4000):
        chunks = [pcm[i:i + size] for i in range(0, len(pcm), size)]
        assert dtmf.detect_stream(chunks, 8000) == "159#", size
