"""The turn loop alone (voice/turns.py): keys by the keypad rules from any source, the key pause,
speech handed on while spoken, barge-in, no input, and the recording mode where keys win."""
from __future__ import annotations

from voice_agent.settings import load_settings
from voice_agent.voice import dtmf
from voice_agent.voice.audio import noise, silence
from voice_agent.voice.endpoint import NoInput, Utterance
from voice_agent.voice.turns import Keys, TurnLoop

RATE = 16000
AUDIO = load_settings(env={})["audio"]


def chunks(pcm: bytes, size: int = 640):
    return [pcm[i:i + size] for i in range(0, len(pcm), size)]


def run(loop: TurnLoop, pcm: bytes, **kw) -> list:
    return [(i, end) for i, c in enumerate(chunks(pcm)) if (end := loop.feed(c, **kw))]


class Sink:
    def __init__(self):
        self.fed, self.cancelled = 0, False

    def feed(self, pcm):
        self.fed += len(pcm)

    def cancel(self):
        self.cancelled = True


def test_a_pause_inside_a_number_waits_for_the_pause_limit():
    loop = TurnLoop(AUDIO, RATE, key_pause_s=3.0)
    loop.start("account_number")
    got = run(loop, dtmf.generate("12", RATE) + silence(2.5, RATE) + dtmf.generate("34#", RATE))
    assert [end for _, end in got] == [Keys("1234#")]
    got = run(loop, dtmf.generate("56", RATE) + silence(4.0, RATE))
    keys_end = len(chunks(dtmf.generate("56", RATE)))
    (at, end), = got
    assert end == Keys("56")
    assert 3.0 - 0.2 <= (at - keys_end) * 0.02 <= 3.0 + 0.02   # the last key sounds before its end


def test_pushed_keys_follow_the_same_rules_on_the_front_ends_clock():
    now = [0.0]
    loop = TurnLoop(AUDIO, RATE, key_clock=lambda: now[0])
    loop.start("pin")
    loop.press("86")
    assert loop.feed(b"") is None
    now[0] = 2.9
    assert loop.feed(b"") is None                       # no audio: the clock still counts
    now[0] = 3.0
    assert loop.feed(b"") == Keys("86")
    loop.start("confirm")
    loop.press("1")
    assert loop.feed(b"") == Keys("1")                  # one key answers a yes/no


def test_speech_is_handed_on_while_spoken_and_a_short_answer_ends_sooner():
    sinks: list[Sink] = []

    def listen():
        sinks.append(Sink())
        return sinks[-1]

    waits = {}
    for expecting in ("confirm", "amount"):
        loop = TurnLoop(AUDIO, RATE, listen=listen)
        loop.start(expecting)
        speech = silence(0.3, RATE) + noise(0.6, RATE, 0.2)
        got = run(loop, speech + silence(2.0, RATE))
        (at, end), = got
        assert isinstance(end, Utterance) and sinks[-1].fed > 0.6 * RATE and not sinks[-1].cancelled
        waits[expecting] = at * 0.02 - 0.9
    assert waits["confirm"] < waits["amount"]
    assert abs(waits["amount"] - waits["confirm"]
               - (AUDIO["end_silence_ms"] - AUDIO["end_silence_short_ms"]) / 1000) <= 0.06


def test_keys_drop_speech_and_a_prompt_is_barged_in_by_speech_or_a_key():
    sinks, barges = [], []
    loop = TurnLoop(AUDIO, RATE, listen=lambda: sinks.append(Sink()) or sinks[-1],
                    on_barge_in=barges.append)
    loop.start("intent")
    assert run(loop, noise(0.4, RATE, 0.2), prompt_playing=True) == []
    assert barges and set(barges) == {"speech"}
    got = run(loop, dtmf.generate("2", RATE), prompt_playing=True)
    assert [end for _, end in got] == [Keys("2")] and barges[-1] == "key"
    assert sinks[0].cancelled                            # the speech before the key is dropped


def test_no_input_is_timed_from_the_prompts_end():
    loop = TurnLoop(AUDIO, RATE)
    loop.start("intent")
    timeout = AUDIO["no_input_timeout_s"]
    assert run(loop, silence(timeout + 2, RATE), prompt_playing=True) == []
    (at, end), = run(loop, silence(timeout + 1, RATE))
    assert isinstance(end, NoInput) and timeout - 1.0 <= at * 0.02 <= timeout + 0.05


def test_a_recording_has_no_clock_and_its_keys_win_anywhere():
    speech = silence(0.3, RATE) + noise(0.6, RATE, 0.2) + silence(1.0, RATE)
    sink = Sink()
    loop = TurnLoop(AUDIO, RATE, listen=lambda: sink, recording=True)
    assert loop.hear(chunks(speech + silence(30, RATE) + dtmf.generate("3", RATE))) == Keys("3")
    assert sink.cancelled
    loop = TurnLoop(AUDIO, RATE, recording=True)
    found = loop.hear(chunks(silence(30, RATE) + speech))
    assert isinstance(found, Utterance) and found.start_s > 29
    assert isinstance(TurnLoop(AUDIO, RATE, recording=True).hear([]), NoInput)
