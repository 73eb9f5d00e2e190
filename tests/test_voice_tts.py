"""Rendering replies with espeak-ng: cache, slower speech, errors, and the `say` command."""
from __future__ import annotations

import pytest

from voice_agent.cli import main
from voice_agent.voice.audio import read_wav
from voice_agent.voice.tts import SpeechError, Synthesizer

from voice_helpers import needs_espeak

pytestmark = needs_espeak


@pytest.fixture()
def synth(tmp_path):
    return Synthesizer({"en": "en-us", "ko": "ko"}, rate=165, slow_rate=110, cache_dir=tmp_path / "c")


def test_render_caches_by_voice_rate_and_text(synth):
    first = synth.render("Your balance is 84 dollars.", "en")
    again = synth.render("Your balance is 84 dollars.", "en")
    assert first == again and synth.renders == 1 and synth.hits == 1
    slow = synth.render("Your balance is 84 dollars.", "en", slow=True)
    other = synth.render("Your balance is 85 dollars.", "en")
    assert len({first, slow, other}) == 3 and synth.renders == 3
    fast_pcm, rate = read_wav(first)
    slow_pcm, _ = read_wav(slow)
    assert rate == 22050 and len(slow_pcm) > len(fast_pcm) * 1.2


def test_render_pcm_resamples_and_repairs_a_damaged_cache_entry(synth):
    path = synth.render("안녕하세요", "ko")
    path.write_bytes(b"garbage")
    pcm, rate = synth.render_pcm("안녕하세요", "ko", rate=8000)
    assert rate == 8000 and len(pcm) > 8000


def test_text_starting_with_a_dash_is_spoken_not_taken_as_an_option(synth):
    pcm, _ = synth.render_pcm("-5 dollars", "en")
    assert len(pcm) > 10000


def test_unknown_voice_is_a_clear_error(tmp_path):
    bad = Synthesizer({"en": "zzq-missing"}, cache_dir=tmp_path)
    with pytest.raises(SpeechError, match="zzq-missing"):
        bad.render("hello", "en")
    assert not list(tmp_path.glob("*.wav"))


def test_say_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "hi.wav"
    assert main(["say", "계정 번호를 입력해 주세요", "--lang", "ko", "--out", str(out)]) == 0
    pcm, rate = read_wav(out)
    assert rate == 22050 and len(pcm) / 2 / rate > 1.0
    assert main(["say", "x", "--lang", "ko", "--out", str(tmp_path / "no" / "dir.wav")]) == 2
    assert "cannot write" in capsys.readouterr().err
