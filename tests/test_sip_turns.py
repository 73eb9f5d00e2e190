"""The phone line's caller turns on a faked line: no SIP, no sound card, no speech model.

``FakeLine`` stands in for ``sip.call.CallLine``: the caller's side is a script per prompt (audio,
and keys sent as RFC 4733 events at a point in that audio); our prompts "play" in audio time,
20 ms per chunk read, as on a real line. The line's clock is the audio read so far, so pauses
and waits are measured without sleeping. The recognizer is a fake that can stream, so the
tests see when it was fed and what it was asked.
"""
from __future__ import annotations

import queue
import threading

import pytest

from voice_agent.app import build
from voice_agent.settings import load_settings
from voice_agent.sip.session import PhoneCall
from voice_agent.voice.asr import AsrResult
from voice_agent.voice.audio import noise, silence
from voice_agent.voice.endpoint import end_silence_for
from voice_agent.voice.pipeline import first_sentence
from voice_agent.voice.turns import PROMPT_CLOCK_RESET_S

RATE = 16000
CHUNK_S = 0.02
CHUNK = int(RATE * CHUNK_S) * 2
KIM = "300400500"


class FakeLine:
    """A CallLine without SIP. ``answers`` holds, per prompt played, what the caller sends: a list
    of parts, each PCM (sent after the prompt, or during it when the answer starts with "barge")
    or a str of keys (sent as RFC 4733 events at that point). When the script runs out the
    caller hangs up."""

    number = 1
    caller_id = "+18035550177"
    rate = RATE
    sip_call_id = "fake-call@127.0.0.1"

    def __init__(self, answers: list[list]):
        self.answers = list(answers)
        self.hung_up = threading.Event()
        self.keys: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.sent = 0                       # chunks of caller audio read so far
        self.plays: list[int] = []          # chunk count when each prompt was queued
        self.speech_ends: list[int] = []    # chunk count when each scripted speech part ended
        self._script: list = []
        self._left = 0                      # prompt chunks still to play
        self.call_id: int | None = None     # set by PhoneCall once the dialogue opened its row
        self.hung_up_by: str | None = None
        self._listening: list | None = None   # the script's part "listen to the prompt"

    def clock(self) -> float:
        return self.sent * CHUNK_S

    def play(self, pcm: bytes) -> None:
        if self.plays and self.plays[-1] == self.sent and self._left:
            # The rest of the same reply, queued behind its first sentence: it plays on, and
            # a caller who listens first listens to it too.
            self._left += len(pcm) // CHUNK
            if self._listening is not None:
                self._listening[0] += bytes(len(pcm) // CHUNK * CHUNK)
            return
        self.plays.append(self.sent)
        self._left = len(pcm) // CHUNK
        self._listening = None
        if not self.answers:
            self._script = []
            return
        parts = list(self.answers.pop(0))
        barge = bool(parts) and parts[0] == "barge"
        if barge:
            parts.pop(0)
        else:
            parts.insert(0, silence(self._left * CHUNK_S, RATE))   # the caller listens first
        self._script = [p if isinstance(p, str) else [p, any(p)] for p in parts]
        if not barge:
            self._listening = self._script[0]

    @property
    def playing(self) -> bool:
        return self._left > 0

    def stop_playback(self) -> None:
        self._left = 0

    def read_key(self) -> str | None:
        try:
            return self.keys.get_nowait()
        except queue.Empty:
            return None

    def read_audio(self, timeout: float = 0.1) -> bytes | None:
        while self._script and isinstance(self._script[0], str):
            for key in self._script.pop(0):
                self.keys.put(key)
        if not self._script:
            if self.answers or self._left:
                chunk = bytes(CHUNK)             # the caller waits for a prompt
            else:
                self.hung_up_by = self.hung_up_by or "caller"
                self.hung_up.set()
                return None
        else:
            part = self._script[0]                 # [pcm left, is speech]
            chunk, part[0] = part[0][:CHUNK], part[0][CHUNK:]
            if not part[0]:
                self._script.pop(0)
                if part[1]:
                    self.speech_ends.append(self.sent + 1)
        self.sent += 1
        self._left = max(0, self._left - 1)
        return chunk

    def hangup(self) -> None:
        self.hung_up_by = self.hung_up_by or "agent"
        self.hung_up.set()

    def transfer(self, target: str) -> bool:
        return False


class StreamingRecognizer:
    """A recognizer that is fed as the caller speaks; notes the line's clock at each feed."""

    def __init__(self, line: FakeLine, answers: list[str]):
        self.line, self.answers = line, list(answers)
        self.expected: list[str | None] = []
        self.fed_at: list[int] = []
        self.finished_at: list[int] = []

    def expect(self, expecting, lang=None):
        self.expected.append(expecting)

    def start(self):
        pass

    def feed(self, pcm: bytes):
        self.fed_at.append(self.line.sent)

    def finish(self) -> AsrResult:
        self.finished_at.append(self.line.sent)
        return AsrResult(self.answers.pop(0), 0.95, "accept", grammar=True)

    def recognize(self, pcm: bytes) -> AsrResult:
        raise AssertionError("a streamed utterance must not be decoded again")

    def cancel(self):
        pass


class QuietSynth:
    """Every reply is silence, one second by default (the prompt's length is what matters here)."""

    def __init__(self, seconds: float = 1.0):
        self.seconds = seconds

    def render_pcm(self, text, lang, slow=False):
        return silence(self.seconds, RATE), RATE


@pytest.fixture()
def services(tmp_path):
    settings = load_settings(env={}, cwd=tmp_path, cli={
        "database": str(tmp_path / "phone.db"), "password_hash": {"n": 1024, "r": 8, "p": 1}})
    built = build(settings, create=True)
    built.store.install_demo()
    built.synth = QuietSynth()
    yield built
    built.close()


def run_call(services, line: FakeLine, answers: list[str]):
    rec = StreamingRecognizer(line, answers)
    services.recognizer = lambda lang, rate, today=None: rec if lang == "ko" else None
    events: list[dict] = []
    report = PhoneCall(services, line, on_event=events.append, clock=line.clock).run()
    return report, events, rec


def speech(seconds: float = 0.6) -> bytes:
    return noise(seconds, RATE, 0.2)       # voiced for the VAD; the fake recognizer has the words


def test_a_short_answer_ends_after_the_short_wait_and_is_decoded_while_spoken(services):
    audio = services.settings["audio"]
    short, long = end_silence_for(audio, "language"), end_silence_for(audio, "intent")
    assert short < long
    line = FakeLine([[speech(), silence(2.0, RATE)],             # "한국어" to the language menu
                     [speech(), silence(2.0, RATE)]])            # "요금 낼게요" to the main menu
    report, events, rec = run_call(services, line, ["한국어", "요금 낼게요"])
    prompts = [e for e in events if e["event"] == "prompt"]
    assert [p["expecting"] for p in prompts[:3]] == ["language", "intent", "account_number"]
    assert rec.expected == ["language", "intent"]
    # End of speech -> the reply was queued: the short wait for the language, the long one for
    # the menu (the voice detector's hangover adds the same little to both).
    waited = [(line.plays[i + 1] - line.speech_ends[i]) * CHUNK_S for i in range(2)]
    assert short / 1000 <= waited[0] < long / 1000 <= waited[1], waited
    assert abs(waited[1] - waited[0] - (long - short) / 1000) <= 0.06, waited
    # Decoded while spoken: fed from the start of speech, before it ended; only finished after.
    for i in range(2):
        fed = [at for at in rec.fed_at if line.plays[i] < at <= line.plays[i + 1]]
        assert fed and min(fed) < line.speech_ends[i] - 20, (fed[:3], line.speech_ends[i])
        assert line.speech_ends[i] < rec.finished_at[i] <= line.plays[i + 1]
    assert report.spoken_turns == 2 and report.keyed_turns == 0
    heard = [e for e in events if e["event"] == "heard"]
    assert len(heard) == 2 and heard[0]["band"] == "accept"


def test_a_pause_inside_a_number_does_not_end_it_before_the_pause_limit(services):
    line = FakeLine([["3"], ["2"],
                     ["3004", silence(2.0, RATE), "00500#", silence(0.5, RATE)],   # one entry
                     ["86", silence(3.5, RATE)]])                                  # ends by pause
    report, events, rec = run_call(services, line, [])
    keys = [e["count"] for e in events if e["event"] == "keys"]
    assert keys == [1, 1, 10, 2]
    states = [e["state"] for e in events if e["event"] == "prompt"]
    assert states[2:4] == ["verify.account_number", "verify.pin"]
    # The PIN's two keys ended at the pause limit (3 s after the last key), not sooner.
    pause = (line.plays[4] - line.plays[3] - 50) * CHUNK_S          # the 1 s prompt, then keys
    assert 3.0 <= pause <= 3.1, pause
    assert report.keyed_turns == 4 and rec.expected == []


def test_speech_or_a_key_during_a_prompt_stops_it_and_no_input_waits_for_the_prompt(services):
    audio = services.settings["audio"]
    services.synth = QuietSynth(3.0)
    line = FakeLine([["barge", silence(0.2, RATE), "3"],        # a key during the greeting
                     ["barge", silence(0.2, RATE), speech(), silence(2.0, RATE)],
                     [silence(audio["no_input_timeout_s"] + 1, RATE)]])
    report, events, rec = run_call(services, line, ["요금 낼게요"])
    barges = [e["by"] for e in events if e["event"] == "barge_in"]
    assert barges == ["key", "speech"] and report.barge_ins == 2
    # No input is timed from the end of the prompt (3 s here; the clock restarts each second
    # while it plays), not from its start.
    no_input_at = (line.plays[3] - line.plays[2]) * CHUNK_S
    assert no_input_at >= 3.0 - PROMPT_CLOCK_RESET_S + audio["no_input_timeout_s"], no_input_at
    assert report.no_input_turns == 1
    assert [e["event"] for e in events].count("listening") >= 1
    done = events[-1]
    assert done["event"] == "call_done" and done["by_caller"] and done["keyed"] == 1
    assert done["by"] == "caller"
    # Every event names the call three ways: its number, the SIP Call-ID and (once the dialogue
    # opened it) the store's row.
    call_ids = {row["id"] for row in services.store.db["calls"].rows}
    assert all(e["call"] == 1 and e["sip_call_id"] == line.sip_call_id for e in events)
    assert len(call_ids) == 1 and done["call_id"] in call_ids


class HearingRecognizer(StreamingRecognizer):
    """Also gives its partial result: the scripted answer once any audio was fed."""

    def partial(self, in_pause: bool = False) -> str:
        return self.answers[0] if self.fed_at and self.answers else ""


def test_a_yes_over_the_phone_is_answered_after_the_short_wait(services):
    audio = services.settings["audio"]
    complete, short = audio["end_silence_complete_ms"], audio["end_silence_short_ms"]
    line = FakeLine([["3"], ["2"], [KIM + "#"], ["8642#"], ["2"], ["1"],
                     ["4111111111111111#"], ["1230#"],
                     [speech(), silence(2.0, RATE)],            # "네" to the read-back
                     [speech(), silence(2.0, RATE)]])           # "뭐라고요" to the next question
    rec = HearingRecognizer(line, ["네", "뭐라고요"])
    services.recognizer = lambda lang, rate, today=None: rec if lang == "ko" else None
    events: list[dict] = []
    PhoneCall(services, line, on_event=events.append, clock=line.clock).run()
    assert rec.expected[0] == "confirm"
    heard = [e for e in events if e["event"] == "heard"]
    assert heard[0]["complete"] and complete <= heard[0]["waited_ms"] < short
    assert not heard[1]["complete"] and heard[1]["waited_ms"] >= short    # not a whole answer
    # End of speech -> the reply queued on the line: the short wait (+ the voice detector's
    # hangover), under the wait of a short answer not yet known to be whole.
    waited = (line.plays[9] - line.speech_ends[0]) * CHUNK_S
    assert complete / 1000 <= waited < short / 1000, waited


def test_a_reply_is_queued_piece_by_piece_as_it_is_rendered(services):
    rendered, played = [], []

    class Recording(QuietSynth):
        def render_pcm(self, text, lang, slow=False):
            rendered.append(text)
            return silence(0.5, RATE), RATE

    services.synth = Recording()
    line = FakeLine([["3"], ["2"]])
    play = line.play
    line.play = lambda pcm: (played.append(len(rendered)), play(pcm))
    report, events, _ = run_call(services, line, [])
    prompts = [e for e in events if e["event"] == "prompt"]
    # Every piece went to the line as soon as it was rendered, before the next was rendered;
    # long replies came in more pieces than they have language segments (first sentence first).
    assert played == list(range(1, len(rendered) + 1))
    assert len(rendered) > len(prompts) and first_sentence(rendered[0]) == [rendered[0]]
    # The reply time is measured to the first piece: the caller's turn end -> first audio queued.
    assert prompts[0]["reply_ms"] is None and all(p["reply_ms"] >= 0 for p in prompts[1:])
    assert len(report.reply_s) == len(prompts) - 1
