"""Keyphrase evidence: words that name an intent whatever the rest of the sentence is.

The sentence matcher (intents.py) scores how much an utterance looks like an example as a whole,
so a request in words no example has, or a topic word that belongs to another intent ("dispute
the late fee": "late fee" is the fees examples' phrase), can go the wrong way. Keyphrases are the
verb/object evidence a person uses instead: "dispute", "overcharged", "not mine" say
dispute_charge; "installments", "split" say payment_arrangement.

Data (locales/<lang>/intents.toml, per intent)::

    keywords = {"disput*" = 0.3, "wrong charge" = 0.25}   # or a list with weight ``DEFAULT``
    require_keyword = true                                 # no keyphrase, no win (slower)

A keyphrase holds when all its words are said, in any order. A word ending in "*" matches any
word it begins ("overcharg*" -> "overcharged"); long words also match a near spelling, as the
recogniser writes them. In character mode (Korean) a word holds when it appears inside the
utterance with spaces removed, so endings and particles do not matter ("취소" in "취소할게요").
An intent's evidence is its best keyphrase weight. A keyphrase whose words are all part of a
longer keyphrase that another intent matched gives nothing: in "cancel my scheduled payment" the
compound "cancel scheduled" (schedule_payment) outweighs the bare "cancel" (the global command).
"""
from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from voice_agent.nlu.text import phrase_tokens

DEFAULT = 0.25
FUZZY_MIN_LEN = 6
FUZZY_CUTOFF = 85.0


@dataclass(frozen=True)
class Keyphrase:
    intent: str
    words: tuple[str, ...]
    weight: float
    text: str = ""       # as written (accents kept), for the recogniser's grammar


def load_keyphrases(intent: str, table: object) -> list[Keyphrase]:
    """``keywords`` of one intent as written (list or phrase -> weight table)."""
    if not table:
        return []
    items = table.items() if isinstance(table, dict) else ((p, DEFAULT) for p in table)
    out = []
    for phrase, weight in items:
        words = phrase_tokens(str(phrase).replace("*", "zzstarzz"))
        words = tuple(w.replace("zzstarzz", "*") for w in words)
        if words:
            out.append(Keyphrase(intent, words, float(weight), " ".join(str(phrase).split())))
    return out


class KeywordEvidence:
    """Keyphrases of one language and the evidence they give an utterance."""

    def __init__(self, keyphrases: list[Keyphrase], char_mode: bool):
        self.keyphrases = keyphrases
        self.char_mode = char_mode

    def _word_said(self, word: str, said: list[str], joined: str) -> bool:
        if self.char_mode:
            return word.rstrip("*") in joined
        if word.endswith("*"):
            stem = word[:-1]
            return any(w.startswith(stem) for w in said)
        if word in said:
            return True
        return len(word) >= FUZZY_MIN_LEN and any(
            len(w) >= FUZZY_MIN_LEN - 1 and fuzz.ratio(word, w) >= FUZZY_CUTOFF for w in said)

    def evidence(self, words: list[str]) -> dict[str, float]:
        """intent -> weight of its best keyphrase said in ``words`` (canonical tokens)."""
        if not self.keyphrases or not words:
            return {}
        joined = "".join(words)
        held = [k for k in self.keyphrases
                if all(self._word_said(w, words, joined) for w in k.words)]
        out: dict[str, float] = {}
        for k in held:
            covered = any(o.intent != k.intent and len(o.words) > len(k.words)
                          and set(k.words) <= set(o.words) for o in held)
            if not covered:
                out[k.intent] = max(out.get(k.intent, 0.0), k.weight)
        return out
