"""End of speech, no input and utterance limits on real (synthesized) speech."""
from __future__ import annotations

import pytest

from voice_agent.voice.audio import mix, noise, read_wav, silence
from voice_agent.voice.endpoint import Endpointer, NoInput, Utterance, find_speech

from voice_helpers import espeak, needs_espeak

AUDIO = {"no_input_timeout_s": 6.0, "end_silence_ms": 800, "max_utterance_s": 20.0}


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    path = espeak("네 맞습니다", "ko", tmp_path_factory.mktemp("ep") / "s.wav")
    return read_wav(path, 16000)[0]


@needs_espeak
def test_speech_between_silences_is_found(speech):
    pcm = silence(1.0, 16000) + speech + silence(1.5, 16000)
    found = find_speech(pcm, 16000, AUDIO)
    assert isinstance(found, Utterance)
    assert 0.6 <= found.start_s <= 1.0                  # lead-in kept before the first syllable
    speech_s = len(speech) / 2 / 16000
    assert 1.0 + speech_s <= found.end_s <= 1.0 + speech_s + 1.0


@needs_espeak
def test_end_of_speech_fires_after_the_configured_silence(speech):
    ep = Endpointer.from_settings(AUDIO)
    assert ep.feed(silence(0.5, 16000) + speech) is None          # still talking (or just stopped)
    assert ep.feed(silence(0.5, 16000)) is None                   # 500 ms < 800 ms
    done = ep.feed(silence(0.5, 16000))
    assert isinstance(done, Utterance)


def test_silence_is_no_input_after_the_timeout():
    ep = Endpointer.from_settings(dict(AUDIO, no_input_timeout_s=2.0))
    assert ep.feed(silence(1.5, 16000)) is None
    result = ep.feed(silence(1.0, 16000))
    assert isinstance(result, NoInput) and result.waited_s == pytest.approx(2.0, abs=0.05)


def test_recordings_of_silence_or_nothing_are_no_input():
    assert isinstance(find_speech(silence(8, 16000), 16000, AUDIO), NoInput)
    assert isinstance(find_speech(b"", 16000, AUDIO), NoInput)
    assert isinstance(find_speech(silence(2, 8000), 8000, AUDIO), NoInput)


def test_long_speech_is_cut_at_the_limit():
    ep = Endpointer.from_settings(dict(AUDIO, max_utterance_s=1.0))
    result = ep.feed(noise(3, 16000, 0.2))                    # loud noise counts as voiced
    assert isinstance(result, Utterance) and result.end_s - result.start_s <= 1.2


def test_unsupported_rate_is_refused():
    with pytest.raises(ValueError, match="8, 16, 32 or 48 kHz"):
        Endpointer(rate=22050)


@needs_espeak
def test_speech_is_handed_on_as_it_arrives_with_a_short_tail(speech):
    got: list[bytes] = []
    ep = Endpointer.from_settings(AUDIO, on_speech=got.append)
    stream = silence(0.5, 16000) + speech + silence(1.5, 16000)
    result, during = None, 0
    for pos in range(0, len(stream), 640):                  # 20 ms chunks, as a line delivers them
        result = ep.feed(stream[pos: pos + 640])
        if result is None and ep.in_speech:
            during = len(got)
        if result is not None:
            break
    assert isinstance(result, Utterance) and during > 5      # handed on while still talking
    handed = b"".join(got)
    assert result.pcm.startswith(handed[:3200])              # the same audio, lead-in first
    tail_s = (len(result.pcm) - len(handed)) / 32000
    assert 0.4 <= tail_s <= 0.6                              # 800 ms wait, 300 ms of it decoded


def test_short_answers_end_sooner_from_settings():
    from voice_agent.settings import load_settings
    from voice_agent.voice.endpoint import end_silence_for
    audio = load_settings(env={}, sets=["audio.end_silence_short_ms=450"])["audio"]
    assert end_silence_for(audio, "confirm") == 450 and end_silence_for(audio, "language") == 450
    assert end_silence_for(audio, "card_number") == 800 and end_silence_for(audio, None) == 800
    ep = Endpointer.from_settings(audio, expecting="confirm")
    assert ep.end_silence_ms == 450


def _ended_after(pcm_before: bytes, speech: bytes, after: bytes, rate: int = 16000) -> float:
    """Seconds of ``after`` fed (in 20 ms chunks) before the utterance ended."""
    ep = Endpointer.from_settings(AUDIO, rate=rate)
    assert ep.feed(pcm_before + speech) is None
    step = rate // 50 * 2
    for pos in range(0, len(after), step):
        if isinstance(ep.feed(after[pos: pos + step]), Utterance):
            return (pos + step) / 2 / rate
    raise AssertionError("never ended")


def _trimmed(pcm: bytes) -> bytes:
    """Without the silence espeak-ng puts after the speech (the sound ends where it stops)."""
    import numpy as np
    loud = np.nonzero(np.abs(np.frombuffer(pcm, "<i2")) > 300)[0]
    return pcm[: 2 * (int(loud[-1]) + 1)]


@needs_espeak
@pytest.mark.parametrize("rate", [16000, 8000])
def test_the_wait_starts_when_the_sound_stops_not_after_the_detectors_hangover(speech, rate):
    from voice_agent.voice.audio import convert
    # webrtcvad calls ~90 ms of digital silence after speech voiced; that is silence.
    said = _trimmed(convert(speech, 16000, rate))
    waited = _ended_after(silence(0.5, rate), said, silence(2.0, rate), rate)
    assert 0.8 <= waited <= 0.8 + 0.05, waited
    # The same over a line with a noise floor (-46 dBFS): the floor, heard before the speech,
    # is silence too; the speech itself is never taken for it.
    floor = noise(2.5, rate, 0.005, seed=1)
    waited = _ended_after(floor[: len(floor) // 5], mix(said, floor[: len(said)]),
                          floor[len(floor) // 5:], rate)
    assert 0.8 <= waited <= 0.8 + 0.05, waited
    found = find_speech(silence(0.5, rate) + said + silence(1.0, rate), rate, AUDIO)
    assert found.end_s - found.start_s >= len(said) / 2 / rate        # nothing of it cut
