"""One voiced call: caller audio -> keypad keys or recognised speech -> Agent -> spoken reply.

This is the one place that shows the whole flow for voice; the front ends (recorded turns,
the kiosk, the demo, the phone line) differ only in where audio comes from and goes to:

    audio, keys -> TurnLoop (DtmfDetector, keypad rules, Endpointer) -> Recognizer (grammar
          from `expecting`) -> CallerEvent -> Agent.step -> AgentTurn -> Synthesizer -> reply audio

The turn loop (``voice.turns``) decides how a caller's turn ended: keypad input (digits with
``#``/``*`` as the caller pressed them), an utterance, or the no-input event; ``VoiceCall.hear``
turns that into what was heard. Speech is decoded while it is spoken (``LiveRecognition``, fed
by the turn loop), so the end of speech leaves only the recognizer's final step before the
dialogue answers.
What the caller says or keys never reaches a caption or a transcript in clear: nothing of a
secret the dialogue expects, and no run of 4+ digits at any other step (keys and speech by the
same rule: ``voice_agent.redact.redact_entry``).
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice_agent.expect import is_secret
from voice_agent.redact import redact_entry
from voice_agent.voice.asr import AsrResult, Recognizer
from voice_agent.voice.audio import convert, silence
from voice_agent.voice.complete import spoken_complete
from voice_agent.voice.endpoint import NoInput, Utterance
from voice_agent.voice.models import find_model
from voice_agent.voice.models import load as load_model
from voice_agent.voice.tts import SpeechError, Synthesizer
from voice_agent.voice.turns import Keys, TurnEnd, TurnLoop

RATE = 16000
SENTENCE_END = re.compile(r"[.?!。？！](?=\s)")      # where a reply's first sentence ends
NATIVE_RATES = (8000, 16000)       # recognised as they come; anything else is resampled to RATE


@dataclass
class Heard:
    """What the caller's turn was taken to be."""

    text: str | None = None
    dtmf: str | None = None
    asr: AsrResult | None = None
    no_input: bool = False
    speech_end_s: float | None = None      # where the utterance ended in the turn's audio
    note: str | None = None                # e.g. "no speech model for en"

    def event(self):
        """The dialogue's event: keys, or the words with what recognition found in them (value,
        the kind it was parsed as, language, confidence), so the dialogue does not parse again."""
        from voice_agent.dialogue import CallerEvent
        if self.dtmf:
            return CallerEvent(dtmf=self.dtmf)
        if self.text and self.asr is not None:
            return CallerEvent(text=self.text, confidence=self.asr.confidence,
                               value=self.asr.value, kind=self.asr.kind, lang=self.asr.lang)
        if self.text:
            return CallerEvent(text=self.text)
        return CallerEvent()


@dataclass
class Exchange:
    """One caller turn and the agent's answer, with the reply's audio."""

    index: int
    heard: Heard | None
    expecting_before: str | None
    turn: Any                                 # dialogue AgentTurn
    reply_pcm: bytes = field(repr=False, default=b"")
    reply_rate: int = RATE
    reply_path: Path | None = None
    reply_latency_s: float = 0.0              # caller audio ready -> reply audio ready

    def caption_caller(self) -> str | None:
        if self.heard is None:
            return None
        if self.heard.no_input:
            return "(silence)" if not self.heard.note else f"(not understood: {self.heard.note})"
        if self.heard.dtmf:
            return f"[keys] {self.shown(self.heard.dtmf)}"
        conf = self.heard.asr
        extra = f"  ({conf.confidence:.2f} {conf.band})" if conf else ""
        return f"{self.shown(self.heard.text)}{extra}"

    def shown(self, entry: str | None) -> str | None:
        """What a caption or the transcript may show of ``entry`` (keys or words)."""
        lang = self.heard.asr.lang if self.heard and self.heard.asr else None
        return redact_entry(entry, self.expecting_before, lang or self.turn.lang)

    def to_json(self) -> dict[str, Any]:
        h, t = self.heard, self.turn
        shown = self.shown(h.text) if h else None
        keys = self.shown(h.dtmf) if h else None
        data = {"turn": self.index,
                "heard": shown, "dtmf": keys,
                "confidence": round(h.asr.confidence, 3) if h and h.asr and h.text else None,
                "band": h.asr.band if h and h.asr and h.text else None,
                "no_input": bool(h and h.no_input),
                "expecting_before": self.expecting_before,
                "reply": t.say, "lang": t.lang, "expecting": t.expecting, "state": t.state,
                "ended": t.ended, "reply_audio": self.reply_path.name if self.reply_path else None}
        if h and h.asr and h.text and not is_secret(self.expecting_before):
            data["alternatives"] = [self.shown(a) for a in h.asr.alternatives]
            data["grammar"] = h.asr.grammar
        if t.ended:
            data["outcome"] = t.outcome
        return data


class VoiceCall:
    """Drives an Agent with audio. One instance per call; not thread-safe."""

    def __init__(self, agent, settings, nlu=None, synthesizer: Synthesizer | None = None,
                 lang: str | None = None, today=None, caller_id: str | None = None,
                 channel: str = "voice", recognizer_factory: Callable | None = None) -> None:
        self.agent, self.settings, self.nlu = agent, settings, nlu
        self.tts = synthesizer or Synthesizer.from_settings(settings)
        self.start_lang, self.today, self.caller_id, self.channel = lang, today, caller_id, channel
        self._make_recognizer = recognizer_factory or self._default_recognizer
        self._recognizers: dict[tuple[str, int], Recognizer | None] = {}
        self._live: LiveRecognition | None = None
        self.session = None
        self.turn = None
        self.exchanges: list[Exchange] = []
        self.hung_up = False

    # -- recognizers per language and rate (the caller may switch language mid-call) ---------
    def _default_recognizer(self, lang: str, rate: int = RATE) -> Recognizer | None:
        info = find_model(self.settings, lang)
        if info is None:
            return None
        return Recognizer.from_settings(load_model(info), self.settings, rate, lang, self.nlu,
                                        today=self.today)

    def recognizer(self, lang: str, rate: int = RATE) -> Recognizer | None:
        if (lang, rate) not in self._recognizers:
            self._recognizers[(lang, rate)] = self._make_recognizer(lang, rate)
        return self._recognizers[(lang, rate)]

    def turn_recognizer(self, rate: int) -> tuple[str, Recognizer | None]:
        """The language and recognizer for the caller's next utterance."""
        lang, expecting = self.turn.lang, self.turn.expecting
        rec = self.recognizer(lang, rate)
        if rec is None and expecting == "language":
            # The menu is in every language: a caller may answer it in any one we have a model for.
            lang = next((code for code in self.settings.languages
                         if self.recognizer(code, rate) is not None), lang)
            rec = self.recognizer(lang, rate)
        return lang, rec

    def listen(self, rate: int) -> LiveRecognition:
        """Recognition of the next utterance while it is spoken (replaces an abandoned one)."""
        if self._live is not None:
            self._live.cancel()
        self._live = LiveRecognition(self, rate)
        return self._live

    def close_recognizers(self) -> None:
        """Hand the call's recognizers back (warm ones go to the next call)."""
        if self._live is not None:
            self._live.cancel()
            self._live = None
        for rec in self._recognizers.values():
            close = getattr(rec, "close", None)
            if close is not None:
                close()
        self._recognizers.clear()

    # -- the call ------------------------------------------------------------------------------
    def start(self, render: bool = True) -> Exchange:
        """The greeting; ``render=False`` leaves its audio to the front end (``speak_parts``)."""
        self.session, self.turn = self.agent.start(lang=self.start_lang, caller_id=self.caller_id,
                                                   today=self.today, channel=self.channel)
        return self._reply(None, None, time.perf_counter(), render)

    @property
    def ended(self) -> bool:
        return self.hung_up or bool(self.turn is not None and self.turn.ended)

    def turn_loop(self, rate: int, **kw: Any) -> TurnLoop:
        """The call's turn loop at ``rate``: speech is decoded as it is spoken (``listen``)."""
        return TurnLoop(self.settings["audio"], rate, listen=lambda: self.listen(rate), **kw)

    def hear(self, end: TurnEnd) -> Heard:
        """What a turn that ended this way said: keys, an utterance to finish, or silence."""
        if isinstance(end, Keys):
            return Heard(dtmf=end.keys)
        if isinstance(end, NoInput):
            return Heard(no_input=True)
        return self.hear_utterance(end)

    def hear_recording(self, audio: bytes | Iterable[bytes], rate: int) -> Heard:
        """What a whole recorded caller turn holds: keys, else its first utterance, else silence.

        ``audio`` is the turn's PCM, or its chunks in order (a long file streamed from disk):
        the turn loop looks for keys and speech in one pass, so memory holds a chunk and at most
        one utterance however long the recording is.

        Phone audio (8 kHz) is recognised at 8 kHz: Vosk's own feature pipeline handles the
        narrow band better than our upsampling does (measured: espeak-ng "네" over a G.711 line
        was heard at 1.0 natively and 0.54 after upsampling). Other rates go to 16 kHz; chunks
        should already be at that rate (``stream_wav`` resamples with context across chunks).
        """
        native = rate if rate in NATIVE_RATES else RATE
        chunks = [audio] if isinstance(audio, (bytes, bytearray)) else audio
        loop = self.turn_loop(native, recording=True)
        return self.hear(loop.hear(convert(bytes(chunk), rate, native) for chunk in chunks))

    def hear_utterance(self, utterance: Utterance) -> Heard:
        """What an utterance said: finished from the live recognition that was fed its audio, or
        decoded whole when there was none (a front end without streaming)."""
        live, self._live = self._live, None
        if live is not None and live.rate == utterance.rate and live.started:
            lang, rec = live.lang, live.rec
            result = live.result()
        else:
            if live is not None:
                live.cancel()
            lang, rec = self.turn_recognizer(utterance.rate)
            result = None
            if rec is not None:
                rec.expect(self.turn.expecting, lang)
                result = rec.recognize(utterance.pcm)
        if rec is None or result is None:
            return Heard(no_input=True, note=f"no speech model for {lang}",
                         speech_end_s=utterance.end_s)
        if not result.text:
            return Heard(no_input=True, asr=result, speech_end_s=utterance.end_s,
                         note="nothing recognised")
        return Heard(text=result.text, asr=result, speech_end_s=utterance.end_s)

    def respond(self, heard: Heard, started: float | None = None, render: bool = True
                ) -> Exchange:
        """Give the caller's turn to the agent and render its answer (``render=False``: the
        front end renders it piece by piece with ``speak_parts``, playing the first at once)."""
        if self.ended:
            raise RuntimeError("the call has ended")
        started = started or time.perf_counter()
        if self._live is not None:                # speech began, then keys ended the turn
            self._live.cancel()
            self._live = None
        before = self.turn.expecting
        self.turn = self.agent.step(self.session, heard.event())
        return self._reply(heard, before, started, render)

    def take_recording(self, audio: bytes | Iterable[bytes], rate: int) -> Exchange:
        started = time.perf_counter()
        return self.respond(self.hear_recording(audio, rate), started)

    def hang_up(self) -> None:
        self.close_recognizers()
        if self.session is not None and not self.ended:
            self.agent.hangup(self.session)
            self.hung_up = True

    def _reply(self, heard: Heard | None, before: str | None, started: float,
               render: bool = True) -> Exchange:
        turn = self.turn
        pcm, rate = (b"", RATE)
        if turn.say and render:
            pcm, rate = self.speak(turn)
        ex = Exchange(len(self.exchanges), heard, before, turn, pcm, rate,
                      reply_latency_s=time.perf_counter() - started)
        self.exchanges.append(ex)
        if turn.ended:
            self.close_recognizers()
        return ex


    def speak(self, turn) -> tuple[bytes, int]:
        """The reply as audio: each of the turn's language segments in its own language's voice
        (the language menu says "For English press 1" in English and "한국어는 ... 3번" in Korean)."""
        rendered = [self.tts.render_pcm(text, lang, slow=bool(turn.slow))
                    for lang, text in turn.segments]
        if len(rendered) == 1:
            return rendered[0]
        rate = rendered[0][1]
        pause = silence(0.15, rate)
        return pause.join(convert(pcm, r, rate) for pcm, r in rendered), rate

    def speak_parts(self, turn) -> Iterator[tuple[bytes, int]]:
        """The reply as audio in the order it is played, rendered as it is asked for: the first
        sentence alone, so a line can start playing it while the rest is rendered, then the
        rest of its language segment, and each further segment after the same short pause as
        ``speak``."""
        for i, (lang, text) in enumerate(turn.segments):
            for j, piece in enumerate(first_sentence(text)):
                pcm, rate = self.tts.render_pcm(piece, lang, slow=bool(turn.slow))
                yield (silence(0.15, rate) + pcm if i and not j else pcm), rate


def first_sentence(text: str) -> list[str]:
    """``text`` as [first sentence, the rest] when it holds more than one sentence, else
    [text]: a long reply is rendered in two pieces so that its first audio is ready sooner."""
    match = SENTENCE_END.search(text)
    if match is None or not text[match.end():].strip():
        return [text]
    return [text[: match.end()].strip(), text[match.end():].strip()]


class LiveRecognition:
    """One utterance decoded while it is spoken: the endpointer hands its audio to ``feed`` as it
    arrives. The recognizer and grammar are chosen at the first audio (between utterances, as
    Vosk requires); ``VoiceCall.hear_utterance`` then only has to finish it."""

    def __init__(self, call: VoiceCall, rate: int) -> None:
        self.call, self.rate = call, rate
        self.started = False
        self.lang: str | None = None
        self.rec: Recognizer | None = None
        self._held: list[bytes] | None = None     # audio for a recognizer that cannot stream

    def feed(self, pcm: bytes) -> None:
        if not self.started:
            self.started = True
            self.lang, self.rec = self.call.turn_recognizer(self.rate)
            if self.rec is not None:
                self.rec.expect(self.call.turn.expecting, self.lang)
                if hasattr(self.rec, "feed"):
                    self.rec.start()
                else:
                    self._held = []
        if self._held is not None:
            self._held.append(pcm)
        elif self.rec is not None:
            self.rec.feed(pcm)

    def complete(self) -> bool:
        """Whether the words recognised so far already are a whole answer to the question
        (``voice.complete``); the turn loop asks in the caller's pauses. A recognizer that
        cannot give its partial result (or holds the audio to decode at the end) says no."""
        partial = getattr(self.rec, "partial", None)
        if partial is None or self._held is not None or self.lang is None:
            return False
        call = self.call
        # Asked only in the caller's pauses (the turn loop's rule), so the audio is a pause.
        return spoken_complete(call.turn.expecting, partial(in_pause=True), self.lang, call.nlu,
                               call.settings["audio"], call.today)

    def result(self) -> AsrResult | None:
        """The recognised utterance (None without a speech model)."""
        if self.rec is None:
            return None
        if self._held is not None:
            return self.rec.recognize(b"".join(self._held))
        return self.rec.finish()

    def cancel(self) -> None:
        """The utterance will not be used (keys ended the turn, the call ended)."""
        cancel = getattr(self.rec, "cancel", None)
        if self.started and cancel is not None:
            cancel()
        self.rec = None


def warm_up(settings, nlu, langs=None, rates: tuple[int, ...] = (RATE,), phrases: int = 8,
            synthesizer: Synthesizer | None = None) -> dict[str, float]:
    """Warm each language's open-vocabulary recognizer once per process, before the first caller.

    A fresh one expands its look-ahead graph as it decodes (measured here: ~17 s for the first
    eight bench utterances cold, ~2 s after this warm-up). The warm-up decodes caller phrases
    from the language's intent grammar, spoken by our own voice, and leaves the recognizer in the
    model's pool for the first call. Returns seconds spent per language; run it in a thread.
    """
    synth = synthesizer or Synthesizer.from_settings(settings)
    spent: dict[str, float] = {}
    for lang in langs or settings.languages:
        info = find_model(settings, lang)
        if info is None or nlu is None:
            continue
        model = load_model(info)
        listed = [p for p in nlu.grammar_phrases(lang, "intent") if len(p.split()) >= 2]
        texts = listed[:: max(1, len(listed) // phrases)][:phrases]
        try:
            audio = [synth.render_pcm(text, lang) for text in texts]
        except (SpeechError, OSError):      # no voice: the first caller just decodes cold
            continue
        for rate in rates:
            spent[lang] = spent.get(lang, 0.0) + model.warm(
                rate, [convert(pcm, r, rate) for pcm, r in audio])
    return spent
