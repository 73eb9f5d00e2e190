"""The voice commands end to end on the real Korean model: call, demo, transcribe, say."""
from __future__ import annotations

import json

import pytest

from voice_agent.cli import main
from voice_agent.voice import dtmf
from voice_agent.voice.audio import convert, noise, read_wav, silence, write_wav

from voice_helpers import espeak, needs_espeak, needs_model

FAST = ["--set", "password_hash.n=1024"]
model = pytest.mark.model


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def keys(path, entry):
    return str(write_wav(path, dtmf.generate(entry, 16000) + silence(0.4, 16000), 16000))


def speech(path, text, speed=175):
    pcm, _ = read_wav(espeak(text, "ko", path.with_suffix(".raw.wav"), speed), 16000)
    return str(write_wav(path, silence(0.4, 16000) + pcm + silence(1.0, 16000), 16000))


@model
@needs_model
@needs_espeak
def test_synthesized_caller_pays_through_voice_agent_call(tmp_path, cache, capsys):
    db = tmp_path / "call.db"
    assert main(["db", "init", "--demo", "--db", str(db), *FAST]) == 0
    t = tmp_path
    turns = [keys(t / "01.wav", "3"), speech(t / "02.wav", "요금 낼게요", 190),
             keys(t / "03.wav", "300400500#"), keys(t / "04.wav", "8642#"), keys(t / "05.wav", "2"),
             keys(t / "06.wav", "1"), keys(t / "07.wav", "4111111111111111#"),
             keys(t / "08.wav", "1230#"), keys(t / "09.wav", "1"), keys(t / "10.wav", "2"),
             keys(t / "11.wav", "9")]
    out = tmp_path / "out"
    assert main(["call", *turns, "--out-dir", str(out), "--db", str(db), *FAST]) == 0
    transcript = json.loads((out / "transcript.json").read_text())
    assert transcript["outcome"] == "paid", json.dumps(transcript, ensure_ascii=False, indent=1)
    spoken = transcript["turns"][2]
    assert spoken["expecting_before"] == "intent" and spoken["heard"] == "요금 낼게요"
    assert spoken["band"] in ("accept", "confirm") and spoken["grammar"] is True
    assert spoken["state"] == "verify.account_number"
    assert sorted(p.name for p in out.glob("reply_*.wav")) == [f"reply_{i:02d}.wav" for i in range(12)]
    capsys.readouterr()
    assert main(["payments", "list", "--db", str(db), *FAST]) == 0
    listing = capsys.readouterr().out
    assert "300400500" in listing and "$98.00" in listing and "****1111" in listing


@model
@needs_model
@needs_espeak
def test_demo_runs_a_korean_call_to_a_payment(tmp_path, cache, capsys):
    assert main(["demo", "--recorded", "--out-dir", str(tmp_path / "demo"), *FAST]) == 0
    out = capsys.readouterr().out
    assert "agent [ko]:" in out and "caller: [keys] *********#" in out
    assert "caller: 요금 낼게요" in out                     # speech, recognised by the real model
    assert "8642" not in out and "4111111111111111" not in out
    assert "call outcome paid" in out and "300400500" in out.split("payments now on record")[1]
    transcript = json.loads((tmp_path / "demo" / "transcript.json").read_text())
    assert transcript["outcome"] == "paid"


@model
@needs_model
@needs_espeak
def test_transcribe_speech_with_expected_kind(tmp_path, capsys):
    wav = speech(tmp_path / "yes.wav", "네 맞습니다", 175)
    assert main(["transcribe", wav, "--lang", "ko", "--expect", "confirm", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["text"].startswith("네") and result["value"] == "yes" and result["kind"] == "yes_no"
    # Phone audio: "네" alone at 8 kHz (recognised at 8 kHz, as on the line)
    pcm, _ = read_wav(espeak("네", "ko", tmp_path / "ne.wav", 150), 8000)
    phone = write_wav(tmp_path / "ne8k.wav", silence(0.4, 8000) + pcm + silence(1.0, 8000), 8000)
    assert main(["transcribe", str(phone), "--lang", "ko", "--expect", "yes_no", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["text"] == "네" and result["value"] == "yes" and result["band"] == "accept"


@model
@needs_model
def test_transcribe_keys_at_8k_mu_law_and_silence(tmp_path, capsys):
    from voice_agent.voice.audio import from_pcm16

    from voice_helpers import wav_bytes
    pcm8 = convert(dtmf.generate("300400500#", 16000), 16000, 8000)
    path = tmp_path / "keys.wav"
    path.write_bytes(wav_bytes(from_pcm16(pcm8), 8000, encoding="mulaw"))
    assert main(["transcribe", str(path), "--lang", "ko", "--expect", "digits", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dtmf"] == "300400500#" and result["value"] == "300400500"
    quiet = write_wav(tmp_path / "quiet.wav", silence(2, 16000), 16000)
    assert main(["transcribe", str(quiet), "--lang", "ko"]) == 0
    assert "(no speech)" in capsys.readouterr().out
    hiss = write_wav(tmp_path / "hiss.wav", noise(2, 16000, 0.1), 16000)
    assert main(["transcribe", str(hiss), "--lang", "ko", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["band"] == "reject"


def test_transcribe_bad_input_is_a_clear_message(tmp_path, capsys):
    bad = tmp_path / "x.wav"
    bad.write_text("hello")
    assert main(["transcribe", str(bad), "--lang", "ko"]) == 2
    assert "not a WAV" in capsys.readouterr().err
    assert main(["transcribe", str(bad), "--lang", "xx"]) == 2
    assert "not enabled" in capsys.readouterr().err


def test_transcribe_without_a_model_points_to_models_install(tmp_path, capsys):
    loud = write_wav(tmp_path / "s.wav", silence(0.3, 16000) + noise(0.5, 16000, 0.3)
                     + silence(1, 16000), 16000)
    # "en" has no model here (no English model can be installed on this machine)
    code = main(["transcribe", str(loud), "--lang", "en", "--set", f"models_dir={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 2 and "models install" in err
