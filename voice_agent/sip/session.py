"""One phone call through the voice pipeline: the phone line is just another audio front end.

The flow is the voice front end's own (``voice_agent.voice.pipeline``): ``VoiceCall`` drives the
Agent, recognises utterances with the turn's grammar and renders replies (each language in its own
voice); the kiosk's turn loop (``voice.turns.TurnLoop``) takes the caller's turns: keys, speech
decoded while it is spoken, the short end-of-speech wait for short answers, no input. What is
particular to a phone line lives here:

- the prompt plays while we listen, so the caller can barge in: speech starting, or a key pressed,
  during a prompt stops the prompt at once (the turn loop signals it, we stop the playback);
- keys also arrive from PJSIP (RFC 4733 events and SIP INFO), pushed into the turn loop; they
  follow the same keypad rules as in-band tones;
- the caller can hang up at any moment: the dialogue is told (``hang_up``) and the call record
  ends "abandoned" (or "paid" when a payment already went through). A payment is posted in one
  store transaction, so a hang-up never leaves half of one.

Nothing here logs what the caller said or keyed; events carry states, counts and timings only.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voice_agent.sip.call import CallLine
from voice_agent.sip.events import line_event
from voice_agent.voice.audio import convert
from voice_agent.voice.endpoint import NoInput, Utterance
from voice_agent.voice.pipeline import Exchange, Heard
from voice_agent.voice.turns import Keys, TurnEnd

log = logging.getLogger("voice_agent.sip")


@dataclass
class CallReport:
    """What happened on one call, without content (for events, tests and the benchmark)."""

    number: int
    outcome: str | None = None
    turns: int = 0
    barge_ins: int = 0
    keyed_turns: int = 0
    spoken_turns: int = 0
    no_input_turns: int = 0
    transfer: str | None = None
    transferred: bool | None = None
    hung_up_by_caller: bool = False
    reply_s: list[float] = field(default_factory=list)   # end of caller turn -> reply's first
                                                         # audio queued on the line


class PhoneCall:
    """Runs the dialogue for one ``CallLine``; ``services`` (``voice_agent.app.Services``) is
    shared by all calls.

    Turns are timed by the line's audio (20 ms chunks); a keyed entry's pause by ``clock``, since
    RFC 4733 keys can arrive while no audio does.
    """

    def __init__(self, services, line: CallLine, on_event: Callable[[dict], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = services.settings
        self.line = line
        self.on_event = on_event or (lambda event: None)
        self.report = CallReport(line.number)
        self._turn_ended_at = time.perf_counter()
        self.voice = services.voice_call(caller_id=line.caller_id, channel="phone")
        # One loop for the whole call: a key still sounding when a turn ends must not count again.
        self.turns = self.voice.turn_loop(line.rate, key_clock=clock, on_barge_in=self._barge_in)

    def _event(self, name: str, **data: Any) -> None:
        session = self.voice.session
        if self.line.call_id is None and session is not None:
            self.line.call_id = session.call_id       # the store's row, once the dialogue opened it
        self.on_event(line_event(self.line, name, **data))

    # -- the call ---------------------------------------------------------------------------------
    def run(self) -> CallReport:
        try:
            exchange = self.voice.start(render=False)
            started = None
            while True:
                self.report.turns += 1
                self._say(exchange, started)
                if exchange.turn.ended:
                    self._finish(exchange.turn)
                    break
                heard = self._listen(exchange.turn)
                if heard is None:                      # the line was hung up (by either side)
                    self.report.hung_up_by_caller = self.line.hung_up_by != "agent"
                    break
                started = self._turn_ended_at
                exchange = self.voice.respond(heard, started, render=False)
        finally:
            self.voice.hang_up()                        # no-op when the dialogue already ended
            session = self.voice.session
            self.report.outcome = session.outcome if session is not None else None
            self._event("call_done", outcome=self.report.outcome, turns=self.report.turns,
                        barge_ins=self.report.barge_ins, keyed=self.report.keyed_turns,
                        spoken=self.report.spoken_turns, no_input=self.report.no_input_turns,
                        by="caller" if self.report.hung_up_by_caller else "agent",
                        by_caller=self.report.hung_up_by_caller)
        return self.report

    def _say(self, exchange: Exchange, started: float | None) -> None:
        """Play the reply as it is rendered: its first sentence is queued on the line as soon
        as it is ready (``VoiceCall.speak_parts``), the rest follows behind it."""
        turn = exchange.turn
        if not turn.say:
            return
        queued, first_ms = 0, None
        for pcm, rate in self.voice.speak_parts(turn):
            pcm = convert(pcm, rate, self.line.rate)
            self.line.play(pcm)
            queued += len(pcm)
            if first_ms is None and started is not None:
                reply_s = time.perf_counter() - started
                self.report.reply_s.append(reply_s)
                first_ms = round(reply_s * 1000, 1)
        # reply_ms: the caller's turn ended (last audio chunk or key read) -> first audio queued.
        self._event("prompt", state=turn.state, expecting=turn.expecting, lang=turn.lang,
                    seconds=round(queued / (2 * self.line.rate), 2), ended=turn.ended,
                    reply_ms=first_ms)

    def _finish(self, turn) -> None:
        """The dialogue ended: let the last prompt play, transfer when asked, hang up."""
        self._wait_played()
        if turn.transfer and not self.line.hung_up.is_set():
            self.report.transfer = turn.transfer
            self.report.transferred = self.line.transfer(turn.transfer)
            self._event("transfer", ok=self.report.transferred)
        self.line.hangup()

    def _wait_played(self, limit_s: float = 120.0) -> None:
        deadline = time.monotonic() + limit_s
        while self.line.playing and not self.line.hung_up.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)

    # -- one caller turn --------------------------------------------------------------------------
    def _barge_in(self, why: str) -> None:
        if self.line.playing:
            self.line.stop_playback()
            self.report.barge_ins += 1
            self._event("barge_in", by=why)

    def _listen(self, turn) -> Heard | None:
        """The caller's answer to ``turn``; None when the caller hung up."""
        self.turns.start(turn.expecting)
        was_playing = self.line.playing
        while True:
            if self.line.hung_up.is_set():
                return None
            if was_playing and not self.line.playing:
                was_playing = False
                self._event("listening", expecting=turn.expecting)
            while (key := self.line.read_key()) is not None:   # RFC 4733 events and SIP INFO
                self.turns.press(key)
            chunk = self.line.read_audio(0.02)
            end = self.turns.feed(chunk or b"", prompt_playing=self.line.playing)
            if end is not None:
                self._turn_ended_at = time.perf_counter()
                return self._heard(end)

    def _heard(self, end: TurnEnd) -> Heard:
        if isinstance(end, Keys):
            return self._heard_keys(end.keys)
        if isinstance(end, NoInput):
            self.report.no_input_turns += 1
            return Heard(no_input=True)
        return self._recognize(end)

    def _heard_keys(self, keys: str) -> Heard:
        self.report.keyed_turns += 1
        self._event("keys", count=len(keys))
        return Heard(dtmf=keys)

    def _recognize(self, utterance: Utterance) -> Heard:
        heard = self.voice.hear_utterance(utterance)
        if heard.asr is not None:
            # No content: how sure, how long, the end-of-speech wait the turn ended after and
            # whether it was the short one for an answer already heard whole.
            self._event("heard", expecting=self.voice.turn.expecting, band=heard.asr.band,
                        confidence=round(heard.asr.confidence, 2),
                        seconds=round(utterance.end_s - utterance.start_s, 2),
                        waited_ms=utterance.silence_ms, complete=utterance.complete)
        if heard.no_input:
            self.report.no_input_turns += 1
        else:
            self.report.spoken_turns += 1
        return heard

