"""Speech to text with Vosk: one shared model per process, recognizers per call, fed while the
caller speaks.

Each turn's grammars come from what the dialogue expects (``nlu.grammar_phrases``), narrowest
first: the step's own answers ("네", "카드", a number's words), then everything the dialogue
understands at the step (commands, "go back", questions on the way), then the open vocabulary.
Every phrase in a Vosk grammar is a sound a short answer can be mistaken for, so the answers
alone are heard far better (and cheaper) than the whole list (scripts/bench_accuracy.py). Vosk
forces any speech onto grammar words with a high word confidence, so each result is checked
(value parses, n-best agreement, fuzzy match to a listed phrase) and the next, wider decode runs
only when it does not hold up. Confidence combines those signals into the accept / confirm /
reject bands the dialogue uses to decide whether to read a value back.

Speed (measured in scripts/bench.py): audio is fed to the recognizers as it arrives, so at the end
of speech only ``FinalResult`` remains. The grammar decode asks for the n-best list at once (word
confidences come from it, see confidence.py) instead of decoding a second time. Whether a wider
decode is needed at all is decided from the narrower decode itself: the step's whole grammar
when the answers' result is unsure (``_unsure``: nothing or an unknown word heard, no value of
the expected kind, or an unsure result whose own n-best alternatives disagree on its meaning),
the open vocabulary, which costs about three grammar decodes, only when the speech was outside
every grammar (``_outside``: nothing or the unknown-word token heard, or rejected). A wider
decode is fed in parallel only on turns whose expectation needed it often in this process
(``SpeechModel.fallback_likely``, which assumes at first that it is not); elsewhere the
utterance is decoded again only when needed.
An open-vocabulary recognizer over a look-ahead graph (HCLr + Gr) expands its graph lazily and
keeps it: a fresh one spends ~2 s on its first utterances. They are therefore pooled per process
and handed from call to call (``FinalResult`` has dropped the last call's audio, features and
adaptation by then).

Crash guards (see the field notes: these kill the process, not raise): a grammar is only ever
``json.dumps`` of a non-empty list, built from words the model knows; it is set after ``Reset()``
and never while an utterance is being decoded; the grammar recognizer never returns to the open
vocabulary, a second recognizer without grammar does that job. A recognizer is used by one call
(one thread) at a time.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from voice_agent.expect import expectation, kind_of
from voice_agent.voice.confidence import (  # noqa: F401  (re-exported: tests and callers)
    POSTERIOR_ALTERNATIVES,
    UNKNOWN_TOKENS,
    alternative_share,
    band,
    combine,
    from_nbest,
    fuzzy_match,
    is_filler,
    softmax,
)
from voice_agent.voice.endpoint import is_steady_noise

IDLE_OPEN_RECOGNIZERS = 4      # warm open-vocabulary recognizers kept per rate (~45 MB each)
# A wider decode (the whole step grammar, the open vocabulary) is streamed beside the answers'
# grammar (its result ready at the end of speech) when more turns of the expectation needed it
# lately than not; otherwise the few that need it decode the utterance again at the end, and the
# others never pay for it. Nothing is known of an expectation at first: it is assumed not needed.
FALLBACK_STREAM_SHARE = 0.5    # stream a wider decode when this share of turns needed it
FALLBACK_MEMORY = 0.7          # weight of the past in that share (about the last six turns)
FALLBACK_AGREEMENT = 0.5       # n-best mass agreeing with an unsure grammar result that keeps it
PHRASE_KINDS = (None, "yes_no", "language")   # answered by listed phrases, not number words
# Vosk shows a word in its partial result only once it has decoded about 0.3 s of audio after it
# (the acoustic model's right context): "네" said 200 ms ago is not there yet. So in a pause the
# last PAUSE_LOOKAHEAD_MS of it are fed once more before the partial result is read
# (``partial(in_pause=True)``); the recognizer then hears a slightly longer pause, which changes
# no answer. Measured on espeak-ng Korean at 16 and 8 kHz: "네" shows 200 ms after the speech
# with 100 ms fed again, 290 ms after without.
PAUSE_LOOKAHEAD_MS = 100


class GrammarSource(Protocol):
    """What the recognizer needs from language understanding (voice_agent.nlu.Understander)."""

    def grammar_phrases(self, lang: str, expect: str | None, answers_only: bool = False
                        ) -> list[str]: ...

    def parse_value(self, kind: str, text: str, lang: str, today: Any = None) -> Any: ...


def _vosk_module():
    """The vosk module (a seam: tests put a fake recorder of calls here)."""
    import vosk
    return vosk


_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def load_model(path: str | Path) -> SpeechModel:
    """The process-wide model for ``path``, loaded on first use (about 2 s and 500 MB for ko)."""
    key = str(Path(path).resolve())
    with _models_lock:
        if key not in _models:
            vosk = _vosk_module()  # lazy: text mode never loads Kaldi
            vosk.SetLogLevel(-1)
            _models[key] = SpeechModel(vosk.Model(key), key)
        return _models[key]


def loaded_model(path: str | Path) -> SpeechModel | None:
    """The model for ``path`` if this process loaded it already (no loading, no checks)."""
    with _models_lock:
        return _models.get(str(Path(path).resolve()))


class SpeechModel:
    """A loaded Vosk model, what we know about its vocabulary, its pool of warm open-vocabulary
    recognizers and how often each expectation needed the open vocabulary. Thread-safe."""

    def __init__(self, model: Any, path: str = "", keep_idle: int = IDLE_OPEN_RECOGNIZERS) -> None:
        self.model = model
        self.path = path
        self.keep_idle = keep_idle
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()
        self._idle: dict[int, list[Any]] = {}
        self._fallbacks: dict[tuple[str, str], float] = {}
        self.unknown = next((t for t in UNKNOWN_TOKENS if self.knows(t)), None)

    def knows(self, word: str) -> bool:
        with self._lock:
            if word not in self._known:
                self._known[word] = self.model.vosk_model_find_word(word) != -1
            return self._known[word]

    def grammar(self, phrases: Iterable[str]) -> list[str]:
        """Phrases whose every word is in the vocabulary (Vosk would silently drop the others),
        less split forms of words it knows whole, plus the model's unknown-word token so that
        speech outside the list has somewhere to go.
        Empty when nothing usable is left: the caller then stays with the open vocabulary."""
        phrases = list(phrases)
        listed = set(phrases)
        kept: list[str] = []
        for phrase in phrases:
            words = phrase.split()
            if not words or not all(self.knows(w) for w in words) or phrase in kept:
                continue
            # "스페인 어" beside "스페인어": a split form (nlu.grammar: the Korean model's
            # morpheme words) of a word the model knows whole adds only a stray syllable ("어")
            # for speech to be mistaken for (scripts/bench_accuracy.py).
            if len(words) > 1 and "".join(words) in listed and self.knows("".join(words)):
                continue
            kept.append(" ".join(words))
        if kept and self.unknown:
            kept.append(self.unknown)
        return kept

    # -- warm open-vocabulary recognizers, handed from call to call ---------------------------
    def take_open(self, rate: int) -> Any:
        """An open-vocabulary recognizer for one call: a warm idle one when there is one."""
        with self._lock:
            idle = self._idle.get(rate)
            if idle:
                return idle.pop()
        rec = _vosk_module().KaldiRecognizer(self.model, rate)
        rec.SetWords(True)
        return rec

    def give_back(self, rate: int, rec: Any) -> None:
        """Return a recognizer whose last utterance was finished with ``FinalResult``."""
        rec.Reset()            # also clears the last result text it keeps (it may hold digits)
        with self._lock:
            idle = self._idle.setdefault(rate, [])
            if len(idle) < self.keep_idle:
                idle.append(rec)

    def warm(self, rate: int, utterances: Iterable[bytes], recognizers: int = 1) -> float:
        """Decode sample speech on ``recognizers`` open-vocabulary recognizers and pool them,
        so the process's first callers do not pay for expanding the graph. Returns the seconds
        it took."""
        import time
        started = time.perf_counter()
        utterances = [bytes(p[: len(p) - len(p) % 2]) for p in utterances]
        taken = [self.take_open(rate) for _ in range(recognizers)]
        for rec in taken:
            for pcm in utterances:
                if pcm:
                    rec.Reset()
                    rec.AcceptWaveform(pcm)
                    rec.FinalResult()
        for rec in taken:
            self.give_back(rate, rec)
        return time.perf_counter() - started

    @property
    def idle_open(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._idle.values())

    # -- which expectations need a wider decode -----------------------------------------------
    def fallback_likely(self, lang: str, expecting: str | None, wider: str = "open") -> bool:
        """Whether turns expecting this often needed the ``wider`` decode lately ("grammar": the
        step's whole grammar, "open": the open vocabulary); unknown ones count as unlikely."""
        with self._lock:
            return self._fallbacks.get((lang, expecting or "", wider), 0.0) >= FALLBACK_STREAM_SHARE

    def note_fallback(self, lang: str, expecting: str | None, needed: bool,
                      wider: str = "open") -> None:
        key = (lang, expecting or "", wider)
        with self._lock:
            past = self._fallbacks.get(key, 0.0)
            self._fallbacks[key] = FALLBACK_MEMORY * past + (1 - FALLBACK_MEMORY) * float(needed)


@dataclass(frozen=True)
class AsrResult:
    """One recognised utterance."""

    text: str
    confidence: float
    band: str                         # "accept", "confirm" or "reject"
    grammar: bool = False             # came from a grammar decode
    value: Any = None                 # parsed value of the expected kind, when one parsed
    alternatives: tuple[str, ...] = ()
    signals: dict[str, float] = field(default_factory=dict)
    kind: str | None = None           # the kind `text` was parsed as (None: not parsed)
    lang: str | None = None           # the language it was recognised and parsed in

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "confidence": round(self.confidence, 3), "band": self.band,
                "grammar": self.grammar, "alternatives": list(self.alternatives),
                "signals": {k: round(v, 3) for k, v in self.signals.items()}}


class Recognizer:
    """Recognition for one call. Not thread-safe (neither is a Vosk recognizer): one per call.

    ``start()``, ``feed(pcm)`` as the audio arrives, ``finish()`` at the end of speech; or
    ``recognize(pcm)`` for a whole utterance. ``close()`` hands the open-vocabulary recognizer
    back to the model's pool when the call ends.
    """

    def __init__(self, model: SpeechModel, rate: int, lang: str,
                 nlu: GrammarSource | None = None, accept: float = 0.85, confirm: float = 0.5,
                 alternatives: int = 3, today: dt.date | None = None) -> None:
        self.model, self.rate, self.lang, self.nlu = model, rate, lang, nlu
        self.accept, self.confirm, self.n_alternatives = accept, confirm, alternatives
        self.today = today                    # the call's day: dates are parsed as the dialogue does
        self.expecting: str | None = None
        self.phrases: list[str] = []          # what the dialogue understands, for fuzzy matching
        self._phrase_set: set[str] = set()
        # The grammars decoded with, narrowest first: the step's answers, then all it understands.
        self.grammars: list[list[str]] = []
        self._grammar_recs: list[Any] = []    # one recognizer per grammar, kept for the call
        self._applied: list[list[str] | None] = []
        self._open_rec = None
        self._grammar_cache: dict[tuple[str, str | None],
                                 tuple[list[str], list[list[str]], set[str]]] = {}
        self._listed: list[set[str]] = []     # each grammar's phrases, to look a result up
        self._buffer: list[bytes] = []
        self._streams: list[Any] = []         # recognizers fed during this utterance
        self._unfinished: list[Any] = []      # fed but not finalized: FinalResult before reuse
        self._in_utterance = False
        self._looked_at = -1                  # buffer length when the pause was fed again
        self.streamed_open = False            # the open vocabulary was fed live this utterance
        self.decodes: list[str] = []          # what decoded the last utterance: "answers", ...

    @classmethod
    def from_settings(cls, model: SpeechModel, settings, rate: int, lang: str,
                      nlu: GrammarSource | None = None, today: dt.date | None = None
                      ) -> Recognizer:
        audio = settings["audio"]
        return cls(model, rate, lang, nlu, float(audio["confidence_accept"]),
                   float(audio["confidence_confirm"]), today=today)

    # -- grammar per turn ------------------------------------------------------------------
    def expect(self, expecting: str | None, lang: str | None = None) -> None:
        """Set what the next utterance should be. Takes effect at the next ``start``."""
        if self._in_utterance:
            raise RuntimeError("cannot change the grammar in the middle of an utterance")
        self.lang = lang or self.lang
        self.expecting = expecting
        key = (self.lang, expecting)
        if key not in self._grammar_cache:
            phrases, answers = [], []
            if self.nlu is not None and expecting and expecting != "none":
                phrases = list(self.nlu.grammar_phrases(self.lang, expecting) or [])
                answers = list(self.nlu.grammar_phrases(self.lang, expecting, answers_only=True)
                               or [])
            grammars: list[list[str]] = []
            for words in (self.model.grammar(answers), self.model.grammar(phrases)):
                if words and words not in grammars:     # an empty grammar would crash Vosk
                    grammars.append(words)
            self._grammar_cache[key] = (phrases, grammars, set(phrases))
        self.phrases, self.grammars, self._phrase_set = self._grammar_cache[key]
        self._listed = [set(words) for words in self.grammars]

    @property
    def grammar_words(self) -> list[str]:
        """The narrowest grammar, decoded first (empty: the open vocabulary only)."""
        return self.grammars[0] if self.grammars else []

    @property
    def kind(self) -> str | None:
        return kind_of(self.expecting)

    def _vosk(self):
        return _vosk_module()

    def _grammar_recognizer(self, stage: int = 0):
        words = self.grammars[stage]   # non-empty, checked in ``expect``
        while len(self._grammar_recs) <= stage:
            self._grammar_recs.append(None)
            self._applied.append(None)
        rec = self._grammar_recs[stage]
        if rec is None:
            rec = self._vosk().KaldiRecognizer(self.model.model, self.rate,
                                               json.dumps(words, ensure_ascii=False))
            rec.SetWords(True)
            # The n-best list on the one decode: share and word posteriors (confidence.py).
            rec.SetMaxAlternatives(max(self.n_alternatives, POSTERIOR_ALTERNATIVES))
            self._grammar_recs[stage] = rec
        elif self._applied[stage] != words:
            rec.Reset()
            rec.SetGrammar(json.dumps(words, ensure_ascii=False))
        self._applied[stage] = list(words)
        return rec

    def _open_recognizer(self):
        if self._open_rec is None:
            self._open_rec = self.model.take_open(self.rate)
        return self._open_rec

    def _tidy(self) -> None:
        """Finalize recognizers fed for nothing, so none carries audio into a later utterance."""
        for rec in self._unfinished:
            rec.FinalResult()
        self._unfinished = []

    # -- one utterance ---------------------------------------------------------------------
    def start(self) -> None:
        self._tidy()
        self._buffer = []
        self._looked_at = -1
        if self.grammars:
            self._streams = [self._grammar_recognizer(0)]
            if len(self.grammars) > 1 and self.model.fallback_likely(self.lang, self.expecting,
                                                                     "grammar"):
                self._streams.append(self._grammar_recognizer(1))
            # A short answer is decoded again in a few tens of milliseconds when it needs the
            # open vocabulary; streaming it would cost every turn of the step three decodes.
            if not expectation(self.expecting).short and self.model.fallback_likely(
                    self.lang, self.expecting, "open"):
                self._streams.append(self._open_recognizer())
        else:
            self._streams = [self._open_recognizer()]
        for rec in self._streams:
            rec.Reset()
        self.streamed_open = self._open_rec is not None and self._open_rec in self._streams
        self.decodes = []
        self._in_utterance = True

    def feed(self, pcm: bytes) -> None:
        if not self._in_utterance:
            self.start()
        pcm = bytes(pcm[: len(pcm) - len(pcm) % 2])
        if pcm:
            self._buffer.append(pcm)
            for rec in self._streams:
                rec.AcceptWaveform(pcm)

    def partial(self, in_pause: bool = False) -> str:
        """The words recognised so far in this utterance (unknown-word and noise tokens left
        out): the first stream's partial result, cheap to ask (no final decode). ``in_pause``:
        the audio fed last is a pause; its end is fed once more first (``PAUSE_LOOKAHEAD_MS``),
        once per pause, so the words before it are there."""
        if not self._in_utterance or not self._streams:
            return ""
        if in_pause and self._buffer and self._looked_at != len(self._buffer):
            self._looked_at = len(self._buffer)
            want = self.rate * 2 * PAUSE_LOOKAHEAD_MS // 1000
            tail = b""
            for chunk in reversed(self._buffer):
                tail = chunk + tail
                if len(tail) >= want:
                    break
            self._streams[0].AcceptWaveform(tail[-want:])
        text = json.loads(self._streams[0].PartialResult()).get("partial", "")
        return " ".join(w for w in text.split() if not is_filler(w))

    def finish(self) -> AsrResult:
        """Finish the utterance fed since ``start`` and judge it: the answers' grammar first,
        then each wider decode only while the result so far is unsure."""
        if not self._in_utterance:
            self.start()
        self._in_utterance = False
        self._unfinished = list(self._streams)
        audio = b"".join(self._buffer)
        if is_steady_noise(audio, self.rate):
            return AsrResult("", 0.0, "reject", signals={"noise": 1.0})
        if not self.grammars:
            return self._judge(self._final(self._open_recognizer(), audio), None, grammar=False)
        best, alts = self._grammar_pass(0, audio)
        self.decodes = ["answers"]
        off = self._off_list(best, 0)
        if len(self.grammars) > 1:
            needed = off or self._unsure(best, alts)
            self.model.note_fallback(self.lang, self.expecting, needed, "grammar")
            if not needed:
                return best
            wide, wide_alts = self._grammar_pass(1, audio)
            self.decodes.append("grammar")
            wide_off = self._off_list(wide, 1)
            if (off and wide.text and not wide_off) or (
                    off == wide_off and self._better(wide, best)):
                best, alts, off = wide, wide_alts, wide_off
        needed = self._outside(best)   # (listed words, even off the list, are not outside)
        if off:        # never a sure answer: read back (or asked again), never taken as heard
            best = replace(best, band="confirm" if best.band == "accept" else "reject",
                           signals={**best.signals, "off_list": 1.0})
        self.model.note_fallback(self.lang, self.expecting, needed, "open")
        if not needed:
            return best
        self.decodes.append("open")
        second = self._judge(self._final(self._open_recognizer(), audio), None, grammar=False)
        return second if self._better(second, best) else best

    @property
    def open_ran(self) -> bool:
        """The open vocabulary decoded the last utterance (fed live or afterwards)."""
        return self.streamed_open or "open" in self.decodes or not self.grammars

    def _final(self, rec, audio: bytes) -> dict:
        """``rec``'s result for the utterance: finished if it was fed live, else decoded now."""
        if rec in self._unfinished:
            self._unfinished.remove(rec)
            return json.loads(rec.FinalResult())
        return self._decode(rec, audio)

    def _grammar_pass(self, stage: int, audio: bytes) -> tuple[AsrResult, list[tuple[str, float]]]:
        final, alts = from_nbest(self._final(self._grammar_recognizer(stage), audio))
        return self._judge(final, alts[: self.n_alternatives], grammar=True), alts

    def recognize(self, pcm: bytes) -> AsrResult:
        self.start()
        self.feed(pcm)
        return self.finish()

    def cancel(self) -> None:
        """Drop the utterance being fed (keys ended the turn): it is never judged, and the
        recognizers are finalized before their next use."""
        if self._in_utterance:
            self._unfinished = list(self._streams)
            self._in_utterance = False

    def close(self) -> None:
        """The call is over: the open-vocabulary recognizer goes back to the model's pool."""
        self.cancel()
        self._tidy()
        if self._open_rec is not None:
            self.model.give_back(self.rate, self._open_rec)
            self._open_rec = None
        self._grammar_recs, self._applied, self._streams = [], [], []

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _decode(rec, audio: bytes) -> dict:
        rec.Reset()
        if audio:
            rec.AcceptWaveform(audio)
        return json.loads(rec.FinalResult())

    def _judge(self, final: dict, alts: list[tuple[str, float]] | None, grammar: bool) -> AsrResult:
        words = final.get("result") or []
        known = [w for w in words if not is_filler(w.get("word", ""))]
        hits = len(words) - len(known)
        text = " ".join(w["word"] for w in known) if words else " ".join(
            t for t in (final.get("text") or "").split() if not is_filler(t))
        confs = [float(w.get("conf", 0.0)) for w in known]
        share = alternative_share([s for _, s in alts]) if alts else None
        value, kind = None, None
        if self.kind and self.nlu is not None and text:
            try:
                value = self.nlu.parse_value(self.kind, text, self.lang, today=self.today)
                kind = self.kind          # parsed: the dialogue uses this value as it is
            except (ValueError, TypeError):
                value = None
        fuzzy = None
        if text and self.phrases:
            # A value that parses is as good as a listed phrase, and a listed phrase matches
            # itself: only other words are matched (rapidfuzz holds the interpreter lock, so
            # every match costs the other calls in the process too).
            fuzzy = (1.0 if value is not None or text in self._phrase_set
                     else fuzzy_match(text, self.phrases))
        confidence = combine(confs, hits, share, fuzzy) if text else 0.0
        signals = {"words": sum(confs) / len(confs) if confs else 0.0, "unknown": float(hits)}
        if share is not None:
            signals["alternatives"] = share
        if fuzzy is not None:
            signals["fuzzy"] = fuzzy
        return AsrResult(text, confidence, band(confidence, self.accept, self.confirm), grammar,
                         value, tuple(t for t, _ in (alts or [])[1:]), signals, kind, self.lang)

    def _off_list(self, result: AsrResult, stage: int) -> bool:
        """A short answer made of listed words in an order no phrase has ("하지 마 옳 아요":
        "repeat that" forced onto yes/no words). Vosk compiles a grammar as a bigram model, so
        such sequences come out of speech that was not an answer at all; a number is any
        sequence of number words and is judged by its parse instead."""
        if not result.text or not expectation(self.expecting).short \
                or self.kind not in PHRASE_KINDS:
            return False
        return result.text not in self._listed[stage]

    @staticmethod
    def _outside(best: AsrResult) -> bool:
        """Whether the speech was outside every grammar of the step, so that only the open
        vocabulary can hear it: nothing or the unknown-word token came out, or the result is
        rejected. An unsure result made of grammar words (a weak "yes", an unparsed number) is
        left to the dialogue's read-back and re-prompt: on the Korean speech set the open
        vocabulary heard such turns right no more often than the grammar, at three times the
        CPU (scripts/bench_accuracy.py, measured for issue 13)."""
        return not best.text or bool(best.signals.get("unknown")) or best.band == "reject"

    def _unsure(self, first: AsrResult, alts: list[tuple[str, float]]) -> bool:
        """Whether the step's wider grammar may hear this utterance better than its answers'
        grammar did, decided from that decode itself: nothing or an unknown word was heard (speech
        outside the grammar), no value of the expected kind came out, or the result is unsure
        (below the accept band) and the grammar's own n-best alternatives disagree on what it
        means. Alternatives that all mean the same (the same value, the same listed phrase)
        differ only in sounds a wider decode would not resolve either."""
        if not first.text or first.signals.get("unknown") or (self.kind and first.value is None):
            return True
        if first.band == "accept":
            return False
        return first.band == "reject" or self._agreement(first, alts) < FALLBACK_AGREEMENT

    def _agreement(self, first: AsrResult, alts: list[tuple[str, float]]) -> float:
        """Share of the n-best mass whose text means what the best one means."""
        if len(alts) < 2:
            return 1.0
        weights = softmax([score for _, score in alts])
        meaning = self._meaning(first.text)
        return sum(w for w, (text, _) in zip(weights, alts) if self._meaning(text) == meaning)

    def _meaning(self, text: str) -> Any:
        """What ``text`` says for this question: its value of the expected kind, else the
        listed phrase it is nearest to."""
        words = " ".join(w for w in text.split() if not is_filler(w))
        if self.kind and self.nlu is not None:
            try:
                return self.nlu.parse_value(self.kind, words, self.lang, today=self.today)
            except (ValueError, TypeError):
                return None
        if not words or not self.phrases or words in self._phrase_set:
            return words
        from rapidfuzz import fuzz, process
        best = process.extractOne(words, self.phrases, scorer=fuzz.ratio)
        return best[0] if best else None

    def _better(self, candidate: AsrResult, current: AsrResult) -> bool:
        """A value of the expected kind wins over none, unless the one without is sure and the
        value was not (a command said clearly against an answer forced out of it)."""
        if self.kind and (candidate.value is None) != (current.value is None):
            if candidate.value is not None:
                return current.band != "accept" or candidate.confidence > current.confidence
            return candidate.band == "accept" and current.band != "accept"
        return candidate.confidence > current.confidence
