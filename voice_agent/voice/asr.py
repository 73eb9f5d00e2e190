"""Speech to text with Vosk: one shared model per process, one recognizer pair per call.

Each turn's grammar comes from what the dialogue expects (``nlu.grammar_phrases``). A grammar
makes short answers far more reliable, but Vosk forces any speech onto grammar words with a high
word confidence, so a grammar result is checked (value parses, alternatives agree, fuzzy match to
a listed phrase) and, when it does not hold up, the same audio is decoded again with the open
vocabulary. Confidence combines those signals into the accept / confirm / reject bands the
dialogue uses to decide whether to read a value back.

Crash guards (see the field notes: these kill the process, not raise): a grammar is only ever
``json.dumps`` of a non-empty list, built from words the model knows; it is set after ``Reset()``
and never while an utterance is being decoded; the grammar recognizer never returns to the open
vocabulary, a second recognizer without grammar does that job.
"""
from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol

from voice_agent.voice.endpoint import is_steady_noise

# Which value kind (nlu KINDS) each `expecting` is parsed as.
EXPECT_KIND = {
    "account_number": "digits", "pin": "digits", "zip": "digits", "ssn_last4": "digits",
    "card_number": "digits", "routing_number": "digits", "bank_account_number": "digits",
    "phone_number": "digits", "amount": "amount", "date": "date", "card_expiry": "expiry",
    "confirm": "yes_no", "language": "language",
}
UNKNOWN_TOKENS = ("[unk]", "<UNK>", "<unk>")


class GrammarSource(Protocol):
    """What the recognizer needs from language understanding (voice_agent.nlu.Understander)."""

    def grammar_phrases(self, lang: str, expect: str | None) -> list[str]: ...

    def parse_value(self, kind: str, text: str, lang: str, today: Any = None) -> Any: ...


def _vosk_module():
    """The vosk module (a seam: tests put a fake recorder of calls here)."""
    import vosk
    return vosk


_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def load_model(path: str | Path) -> "SpeechModel":
    """The process-wide model for ``path``, loaded on first use (about 2 s and 500 MB for ko)."""
    key = str(Path(path).resolve())
    with _models_lock:
        if key not in _models:
            vosk = _vosk_module()  # lazy: text mode never loads Kaldi
            vosk.SetLogLevel(-1)
            _models[key] = SpeechModel(vosk.Model(key), key)
        return _models[key]


class SpeechModel:
    """A loaded Vosk model plus what we need to know about its vocabulary."""

    def __init__(self, model: Any, path: str = "") -> None:
        self.model = model
        self.path = path
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()
        self.unknown = next((t for t in UNKNOWN_TOKENS if self.knows(t)), None)

    def knows(self, word: str) -> bool:
        with self._lock:
            if word not in self._known:
                self._known[word] = self.model.vosk_model_find_word(word) != -1
            return self._known[word]

    def grammar(self, phrases: Iterable[str]) -> list[str]:
        """Phrases whose every word is in the vocabulary (Vosk would silently drop the others),
        plus the model's unknown-word token so that speech outside the list has somewhere to go.
        Empty when nothing usable is left: the caller then stays with the open vocabulary."""
        kept: list[str] = []
        for phrase in phrases:
            words = phrase.split()
            if words and all(self.knows(w) for w in words) and phrase not in kept:
                kept.append(" ".join(words))
        if kept and self.unknown:
            kept.append(self.unknown)
        return kept


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

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "confidence": round(self.confidence, 3), "band": self.band,
                "grammar": self.grammar, "alternatives": list(self.alternatives),
                "signals": {k: round(v, 3) for k, v in self.signals.items()}}


def is_filler(word: str) -> bool:
    """Unknown-word and noise tokens ('<UNK>', '[unk]', '[noise]', the Korean model's '[4]')."""
    return word in UNKNOWN_TOKENS or (word[:1], word[-1:]) in (("[", "]"), ("<", ">"))


def band(confidence: float, accept: float, confirm: float) -> str:
    if confidence >= accept:
        return "accept"
    return "confirm" if confidence >= confirm else "reject"


def alternative_share(scores: list[float]) -> float:
    """Share of the best alternative among the n-best (softmax of the total scores)."""
    if not scores:
        return 1.0
    top = max(scores)
    return 1.0 / sum(math.exp(s - top) for s in scores)


def combine(word_confs: list[float], unknown_hits: int, alt_share: float | None,
            fuzzy: float | None) -> float:
    """One confidence from the signals: a weighted geometric mean of word confidence, n-best
    share and fuzzy match (the absent ones drop out), scaled by the share of known words."""
    if not word_confs:
        return 0.0
    parts = [(sum(word_confs) / len(word_confs), 0.5)]
    if alt_share is not None:
        parts.append((alt_share, 0.25))
    if fuzzy is not None:
        parts.append((fuzzy, 0.25))
    total = sum(w for _, w in parts)
    score = math.exp(sum(w * math.log(max(v, 1e-6)) for v, w in parts) / total)
    known_share = 1.0 - unknown_hits / (len(word_confs) + unknown_hits)
    return max(0.0, min(1.0, score * known_share))


def fuzzy_match(text: str, phrases: list[str]) -> float | None:
    """How close ``text`` is to the nearest expected phrase, 0..1 (None with nothing to match)."""
    if not phrases:
        return None
    if not text:
        return 0.0
    from rapidfuzz import fuzz, process
    best = process.extractOne(text, phrases, scorer=fuzz.ratio)
    return best[1] / 100.0 if best else 0.0


class Recognizer:
    """Recognition for one call. Not thread-safe (neither is a Vosk recognizer): one per call."""

    def __init__(self, model: SpeechModel, rate: int, lang: str,
                 nlu: GrammarSource | None = None, accept: float = 0.85, confirm: float = 0.5,
                 alternatives: int = 3) -> None:
        self.model, self.rate, self.lang, self.nlu = model, rate, lang, nlu
        self.accept, self.confirm, self.n_alternatives = accept, confirm, alternatives
        self.expecting: str | None = None
        self.phrases: list[str] = []          # what the dialogue expects, for fuzzy matching
        self.grammar_words: list[str] = []    # what the grammar recognizer is limited to
        self._grammar_rec = None
        self._open_rec = None
        self._applied: list[str] | None = None
        self._buffer: list[bytes] = []
        self._in_utterance = False

    @classmethod
    def from_settings(cls, model: SpeechModel, settings, rate: int, lang: str,
                      nlu: GrammarSource | None = None) -> "Recognizer":
        audio = settings["audio"]
        return cls(model, rate, lang, nlu, float(audio["confidence_accept"]),
                   float(audio["confidence_confirm"]))

    # -- grammar per turn ------------------------------------------------------------------
    def expect(self, expecting: str | None, lang: str | None = None) -> None:
        """Set what the next utterance should be. Takes effect at the next ``start``."""
        if self._in_utterance:
            raise RuntimeError("cannot change the grammar in the middle of an utterance")
        self.lang = lang or self.lang
        self.expecting = expecting
        phrases = []
        if self.nlu is not None and expecting and expecting != "none":
            phrases = list(self.nlu.grammar_phrases(self.lang, expecting) or [])
        self.phrases = phrases
        self.grammar_words = self.model.grammar(phrases)

    @property
    def kind(self) -> str | None:
        return EXPECT_KIND.get(self.expecting or "")

    def _vosk(self):
        return _vosk_module()

    def _grammar_recognizer(self):
        grammar = json.dumps(self.grammar_words, ensure_ascii=False)   # non-empty, checked by caller
        if self._grammar_rec is None:
            self._grammar_rec = self._vosk().KaldiRecognizer(self.model.model, self.rate, grammar)
            self._grammar_rec.SetWords(True)
        elif self._applied != self.grammar_words:
            self._grammar_rec.Reset()
            self._grammar_rec.SetGrammar(grammar)
        self._applied = list(self.grammar_words)
        return self._grammar_rec

    def _open_recognizer(self):
        if self._open_rec is None:
            self._open_rec = self._vosk().KaldiRecognizer(self.model.model, self.rate)
            self._open_rec.SetWords(True)
        return self._open_rec

    # -- one utterance ---------------------------------------------------------------------
    def start(self) -> None:
        self._buffer = []
        self._active = self._grammar_recognizer() if self.grammar_words else self._open_recognizer()
        self._active.Reset()
        self._in_utterance = True

    def feed(self, pcm: bytes) -> None:
        if not self._in_utterance:
            self.start()
        pcm = bytes(pcm[: len(pcm) - len(pcm) % 2])
        if pcm:
            self._buffer.append(pcm)
            self._active.AcceptWaveform(pcm)

    def finish(self) -> AsrResult:
        """Decode what was fed since ``start`` and judge it."""
        if not self._in_utterance:
            self.start()
        final = json.loads(self._active.FinalResult())
        self._in_utterance = False
        audio = b"".join(self._buffer)
        if is_steady_noise(audio, self.rate):
            return AsrResult("", 0.0, "reject", signals={"noise": 1.0})
        if self._active is self._grammar_rec:
            alts = self._alternatives(self._grammar_rec, audio)
            first = self._judge(final, alts, grammar=True)
            if first.band != "accept" or (self.kind and first.value is None):
                second = self._judge(self._decode(self._open_recognizer(), audio), None, grammar=False)
                if self._better(second, first):
                    return second
            return first
        return self._judge(final, None, grammar=False)

    def recognize(self, pcm: bytes) -> AsrResult:
        self.start()
        self.feed(pcm)
        return self.finish()

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _decode(rec, audio: bytes) -> dict:
        rec.Reset()
        if audio:
            rec.AcceptWaveform(audio)
        return json.loads(rec.FinalResult())

    def _alternatives(self, rec, audio: bytes) -> list[tuple[str, float]]:
        """The n-best list (text, total score) from a second, cheap grammar decode."""
        if not audio or self.n_alternatives < 2:
            return []
        rec.Reset()
        rec.SetMaxAlternatives(self.n_alternatives)
        try:
            rec.AcceptWaveform(audio)
            data = json.loads(rec.FinalResult())
        finally:
            rec.Reset()
            rec.SetMaxAlternatives(0)
        return [(a.get("text", ""), float(a.get("confidence", 0.0)))
                for a in data.get("alternatives", [])]

    def _judge(self, final: dict, alts: list[tuple[str, float]] | None, grammar: bool) -> AsrResult:
        words = final.get("result") or []
        known = [w for w in words if not is_filler(w.get("word", ""))]
        hits = len(words) - len(known)
        text = " ".join(w["word"] for w in known) if words else " ".join(
            t for t in (final.get("text") or "").split() if not is_filler(t))
        confs = [float(w.get("conf", 0.0)) for w in known]
        share = alternative_share([s for _, s in alts]) if alts else None
        fuzzy = fuzzy_match(text, self.phrases) if text else None
        value = None
        if self.kind and self.nlu is not None and text:
            try:
                value = self.nlu.parse_value(self.kind, text, self.lang)
            except (ValueError, TypeError):
                value = None
        if value is not None and fuzzy is not None:
            fuzzy = 1.0          # a value that parses is as good as a listed phrase
        confidence = combine(confs, hits, share, fuzzy) if text else 0.0
        signals = {"words": sum(confs) / len(confs) if confs else 0.0, "unknown": float(hits)}
        if share is not None:
            signals["alternatives"] = share
        if fuzzy is not None:
            signals["fuzzy"] = fuzzy
        return AsrResult(text, confidence, band(confidence, self.accept, self.confirm), grammar,
                         value, tuple(t for t, _ in (alts or [])[1:]), signals)

    def _better(self, candidate: AsrResult, current: AsrResult) -> bool:
        if self.kind and (candidate.value is None) != (current.value is None):
            return candidate.value is not None
        return candidate.confidence > current.confidence
