"""The turn loop alone (voice/turns.py): keys by the keypad rules from any source, the key pause,
speech handed on while spoken, barge-in, no input, the recording mode where keys win, and the
semantic end of turn (a whole answer ends after the short wait, an incomplete one does not)."""
from __future__ import annotations

import pytest

from voice_agent.settings import load_settings
from voice_agent.voice import dtmf
from voice_agent.voice.audio import noise, silence
from voice_agent.voice.complete import spoken_complete
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


# -- semantic end of turn: a whole answer ends after the short wait, an incomplete one waits ----
CARD = "four one one one one one one one one one one one one one one one"     # passes Luhn


class Hearing(Sink):
    """A recognizer's sink that has heard ``early`` so far, ``late`` once more than ``switch_s``
    of audio was fed; it judges its words as the pipeline does (``voice.complete``)."""

    def __init__(self, nlu, expecting, early, late=None, switch_s=99.0):
        super().__init__()
        self.nlu, self.expecting, self.early, self.late = nlu, expecting, early, late
        self.switch_bytes = switch_s * RATE * 2
        self.asked = 0

    def complete(self):
        self.asked += 1
        text = self.late if self.fed > self.switch_bytes and self.late else self.early
        return spoken_complete(self.expecting, text, "en", self.nlu, AUDIO)


def spoken_turn(nlu, expecting, early, late=None, switch_s=99.0, parts=(1.2,), pause_s=0.6):
    """Speech parts with pauses between them, then silence: (where the turn ended, seconds
    after the speech; the utterance; the sink)."""
    sink = Hearing(nlu, expecting, early, late, switch_s)
    loop = TurnLoop(AUDIO, RATE, listen=lambda: sink)
    loop.start(expecting)
    pcm = silence(0.3, RATE)
    for i, seconds in enumerate(parts):
        pcm += (silence(pause_s, RATE) if i else b"") + noise(seconds, RATE, 0.2)
    speech_end = len(pcm) / (2 * RATE)
    (at, end), = run(loop, pcm + silence(2.0, RATE))
    return (at + 1) * 0.02 - speech_end, end, sink


def test_a_complete_digit_string_ends_the_turn_after_the_short_wait(nlu):
    short = AUDIO["end_silence_complete_ms"] / 1000
    long = AUDIO["end_silence_ms"] / 1000
    assert 0 < short < AUDIO["end_silence_short_ms"] / 1000 < long
    waited, end, sink = spoken_turn(nlu, "card_number", CARD)
    assert isinstance(end, Utterance) and end.complete and sink.asked >= 1
    assert short <= waited <= short + 0.12, waited          # + the voice detector's hangover
    assert end.silence_ms == pytest.approx(AUDIO["end_silence_complete_ms"], abs=30)
    # The same speech heard as a card number that fails Luhn waits the long wait.
    waited_bad, end_bad, _ = spoken_turn(nlu, "card_number", CARD[:-3] + "two")
    assert not end_bad.complete and long <= waited_bad <= long + 0.12
    assert waited_bad - waited == pytest.approx(long - short, abs=0.06)


def test_a_pause_inside_an_incomplete_card_number_does_not_end_it(nlu):
    # "four one one one" [0.6 s pause: longer than the short wait, shorter than the long one]
    # "one one one one ..." : one turn, ended only after the whole number was said.
    waited, end, _ = spoken_turn(nlu, "card_number", "four one one one", CARD, switch_s=2.0,
                                 parts=(0.8, 1.6), pause_s=0.6)
    assert isinstance(end, Utterance) and end.end_s - end.start_s > 0.8 + 0.6 + 1.6 - 0.1
    assert end.complete and waited < AUDIO["end_silence_short_ms"] / 1000
    # Never completed: the long wait, however long the pauses shorter than it.
    waited, end, _ = spoken_turn(nlu, "card_number", "four one one one", parts=(0.8, 0.8),
                                 pause_s=0.7)
    assert not end.complete and end.end_s - end.start_s > 2.2
    assert waited >= AUDIO["end_silence_ms"] / 1000


def test_other_whole_answers_end_sooner_and_open_requests_only_when_whole(nlu):
    for expecting, text, whole in (("confirm", "yes", True), ("language", "spanish", True),
                                   ("payment_method", "bank account", True),
                                   ("amount", "fifty dollars", True), ("amount", "fifty", False),
                                   ("card_expiry", "december twenty thirty", True),
                                   ("account_number", "three zero zero four", False),
                                   ("intent", "pay my bill", False),
                                   ("intent", "i want to make a payment", True)):
        _, end, _ = spoken_turn(nlu, expecting, text)
        assert end.complete == whole, (expecting, text)


def test_a_whole_request_ends_after_the_request_wait_and_a_beginning_waits_on(nlu):
    request = AUDIO["end_silence_request_ms"] / 1000
    long = AUDIO["end_silence_ms"] / 1000
    assert AUDIO["end_silence_complete_ms"] / 1000 < request < long
    waited, end, _ = spoken_turn(nlu, "intent", "i want to make a payment")
    assert end.complete and request <= waited <= request + 0.12, waited
    # "cancel" may go on ("cancel my scheduled payment"): a 0.6 s pause after it is not the end.
    waited, end, _ = spoken_turn(nlu, "intent", "cancel", "cancel my scheduled payment",
                                 switch_s=1.5, parts=(0.6, 1.2), pause_s=0.6)
    assert end.end_s - end.start_s > 0.6 + 0.6 + 1.2 - 0.1      # one turn, not cut at "cancel"
    # 0 turns it off: every request waits the long wait.
    off = {**AUDIO, "end_silence_request_ms": 0}
    sink = Hearing(nlu, "intent", "i want to make a payment")
    loop = TurnLoop(off, RATE, listen=lambda: sink)
    loop.start("intent")
    pcm = silence(0.3, RATE) + noise(1.2, RATE, 0.2)
    (at, end), = run(loop, pcm + silence(2.0, RATE))
    assert not end.complete and (at + 1) * 0.02 - len(pcm) / (2 * RATE) >= long


def test_a_complete_keyed_number_ends_at_once_or_after_the_short_key_pause():
    loop = TurnLoop(AUDIO, RATE)
    loop.start("account_number")                 # 9 digits: nothing longer is an account
    keyed = dtmf.generate("300400500", RATE)
    got = run(loop, keyed + dtmf.generate("#", RATE) + silence(0.5, RATE))
    assert [end for _, end in got] == [Keys("300400500")]  # the habitual "#" after it: dropped
    assert got[0][0] < len(chunks(keyed))                   # at once, the last key still sounds
    loop.start("pin")
    got = run(loop, dtmf.generate("86", RATE) + silence(3.5, RATE))
    assert [end for _, end in got] == [Keys("86")]
    loop.start("card_number")                    # 16-digit Visa: could still be a 19-digit one
    keyed = dtmf.generate("4111111111111111", RATE)
    (at, end), = run(loop, keyed + silence(4.0, RATE))
    paused = (at - len(chunks(keyed))) * 0.02
    assert end == Keys("4111111111111111")
    assert AUDIO["key_complete_pause_s"] - 0.2 <= paused <= AUDIO["key_complete_pause_s"] + 0.05
    loop.start("card_number")                    # fails Luhn: the long pause, as before
    keyed = dtmf.generate("4111111111111112", RATE)
    (at, end), = run(loop, keyed + silence(4.0, RATE))
    assert (at - len(chunks(keyed))) * 0.02 >= 3.0 - 0.2
