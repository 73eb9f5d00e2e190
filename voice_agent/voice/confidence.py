"""How sure recognition is: word posteriors from one n-best list, and the accept/confirm/reject bands.

Vosk 0.3.45 gives either an MBR result with word confidences or, with ``SetMaxAlternatives``, an
n-best list with a total score per alternative and no word confidences. Decoding twice to get
both costs a whole second decode per turn, so the word confidences are derived from the n-best
list: a word's posterior is the softmax weight of the alternatives that hold the same word over an
overlapping stretch of time. The lattice beam of these models is narrow (2.0), so ten
alternatives hold nearly all of its mass; measured on the Korean model this lands within about
0.1 of the MBR confidences.
"""
from __future__ import annotations

import math
from typing import Any

UNKNOWN_TOKENS = ("[unk]", "<UNK>", "<unk>")
POSTERIOR_ALTERNATIVES = 10     # alternatives asked for: enough mass for word posteriors


def is_filler(word: str) -> bool:
    """Unknown-word and noise tokens ('<UNK>', '[unk]', '[noise]', the Korean model's '[4]')."""
    return word in UNKNOWN_TOKENS or (word[:1], word[-1:]) in (("[", "]"), ("<", ">"))


def band(confidence: float, accept: float, confirm: float) -> str:
    if confidence >= accept:
        return "accept"
    return "confirm" if confidence >= confirm else "reject"


def softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    return [w / total for w in weights]


def alternative_share(scores: list[float]) -> float:
    """Share of the best alternative among the n-best (softmax of the total scores)."""
    if not scores:
        return 1.0
    top = max(scores)
    return 1.0 / sum(math.exp(s - top) for s in scores)


def _words(alt: dict[str, Any]) -> list[dict[str, Any]]:
    """An alternative's words; without timings (SetWords off) each word spans all the time."""
    if alt.get("result"):
        return list(alt["result"])
    return [{"word": w} for w in (alt.get("text") or "").split()]


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["word"] != b["word"]:
        return False
    if "start" not in a or "start" not in b:
        return True
    return max(a["start"], b["start"]) < min(a["end"], b["end"])


def from_nbest(data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, float]]]:
    """An n-best FinalResult as (best result in the MBR shape, [(text, total score), ...]).

    The best result gets ``result`` words with ``conf`` set to their n-best posterior, so it can be
    judged exactly like an MBR result.
    """
    alts = [a for a in data.get("alternatives") or [] if isinstance(a, dict)]
    if not alts:
        return {"text": ""}, []
    scored = [(a.get("text", ""), float(a.get("confidence", 0.0))) for a in alts]
    weights = softmax([s for _, s in scored])
    others = [_words(a) for a in alts]
    best = []
    for word in others[0]:
        conf = sum(w for w, words in zip(weights, others) if any(_same(word, x) for x in words))
        best.append(dict(word, conf=min(1.0, conf)))
    return {"text": alts[0].get("text", ""), "result": best}, scored


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
