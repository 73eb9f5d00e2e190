"""Intent matching in tiers, hassil-like: exact sentence, then fuzzy with a cutoff, then nothing.

Each intent's templates (locales/<lang>/intents.toml) are expanded into sentences. A caller's
words are compared with every sentence as a weighted bag of units: words (with rapidfuzz
similarity so "ballance" still counts as "balance"), or for Korean, whose words carry particles and
endings and whose spacing the recogniser varies, character bigrams of the text with spaces
removed. Units found in many intents ("my", "i", "want") weigh little; units that name one intent
("balance", "dispute") weigh much. A sentence scores the F-measure of how much of it was said
(recall) and how much of what was said it explains (precision).

Decision: the best intent wins when it beats the best other intent by ``margin``; too close is
ambiguous (None) so the dialogue asks again; below ``cutoff`` is ``out_of_scope``, as is a win of
the ``out_of_scope`` examples themselves.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from voice_agent.nlu.keywords import KeywordEvidence
from voice_agent.nlu.locale import LocaleData
from voice_agent.nlu.templates import expand
from voice_agent.nlu.text import tokens
from voice_agent.nlu.values import find_phrases

NUMBER = "#"
DATE = "@"
NOW = "@0"   # "today", "now": paying now is not scheduling, so it is not the date slot
SLOT = re.compile(r"\{[a-z_]+\}")
FUZZY_MIN_LEN = 4
SLOT_WEIGHT = 2.0   # at most a middling word: about as telling as "payment"
FUZZY_CUTOFF = 75.0


@dataclass(frozen=True)
class IntentMatch:
    intent: str | None
    confidence: float
    tier: str            # "exact", "fuzzy", "none"
    runner_up: str | None = None
    runner_up_score: float = 0.0


class IntentIndex:
    """The expanded sentences of one language and their unit weights."""

    def __init__(self, ld: LocaleData, cutoff: float = 0.5, margin: float = 0.03,
                 beta: float = 1.5, bag: float = 0.35):
        self.ld = ld
        self.cutoff, self.margin, self.beta, self.bag = cutoff, margin, beta, bag
        self.char_mode = ld.match_units == "char_bigrams"
        self.money = {w for p in (*ld.currency_major, *ld.currency_minor) for w in p}
        # Date words (months, weekdays, "tomorrow") stand for one date slot, like numbers do.
        self.date_phrases = [*ld.months, *ld.weekdays, *ld.relative_days]
        self.date_phrases += [(w,) for w in ld.numbers.ordinals]
        self.now_phrases = {p for p, offset in ld.relative_days.items() if offset == 0}
        self.day_articles = set(ld.date.get("day_articles", []))
        suffixes = [ld.date.get(k) for k in ("day_suffix", "month_suffix") if ld.date.get(k)]
        self.glued_date = None
        if suffixes:
            nw = ld.numbers
            chars = "".join(sorted({w for w in (*nw.cardinals, *nw.multipliers, *nw.zeros)
                                    if len(w) == 1}))
            self.glued_date = re.compile(
                rf"^(\d+|[{re.escape(chars)}]+)({'|'.join(map(re.escape, suffixes))})$")
        self.sentences: list[tuple[str, dict[str, float], str]] = []
        self.exact: dict[tuple[str, ...], set[str]] = defaultdict(set)
        intent_units: dict[str, set[str]] = defaultdict(set)
        for intent, templates in ld.intents.items():
            for template in templates:
                for sentence in expand(template):
                    words = self.prepare(tokens(SLOT.sub(self._slot_word, sentence)))
                    if not words:
                        continue
                    self.exact[tuple(words)].add(intent)
                    units = self.units(words)
                    self.sentences.append((intent, units, sentence))
                    intent_units[intent].update(units)
        # Every listed sentence's beginnings: a request that is one of them may go on ("cancel"
        # -> "cancel my scheduled payment"), so it is not yet whole (``whole``).
        self.beginnings = {s[:k] for s in self.exact for k in range(1, len(s))}
        n = max(1, len(intent_units))
        df: dict[str, int] = defaultdict(int)
        for units in intent_units.values():
            for unit in units:
                df[unit] += 1
        self.weights = {u: math.log(1 + n / c) for u, c in df.items()}
        # A slot says a value was given, not which request it was given for.
        for slot in (DATE, NOW, NUMBER):
            if slot in self.weights:
                self.weights[slot] = min(self.weights[slot], SLOT_WEIGHT)
        # What the examples never say: a strong sign of another topic for whole words; for
        # character units (Korean endings vary endlessly) only an average one.
        self.oov_weight = math.log(1 + n) if not self.char_mode else 1.0
        self.sentences = [(i, {u: self.weights[u] for u in units}, s)
                          for i, units, s in self.sentences]
        self.vocab = list(self.weights)
        self.intent_units = dict(intent_units)
        self.totals = np.array([sum(units.values()) or 1.0 for _, units, _ in self.sentences])
        rows: dict[str, list[int]] = defaultdict(list)
        self.spans: dict[str, tuple[int, int]] = {}
        for index, (intent, units, _) in enumerate(self.sentences):
            start, _ = self.spans.get(intent, (index, index))
            self.spans[intent] = (start, index + 1)   # an intent's sentences are contiguous
            for unit in units:
                rows[unit].append(index)
        self.rows = {unit: np.array(indices) for unit, indices in rows.items()}
        self.keywords = KeywordEvidence(ld.keyphrases, self.char_mode)

    # -- text to units --------------------------------------------------------------------------
    @staticmethod
    def _slot_word(match: re.Match) -> str:
        return " zzdatezz " if match.group(0) == "{date}" else " 1 "

    def prepare(self, words: list[str]) -> list[str]:
        """Fillers dropped; a spoken number with its money words becomes one "#".

        A lone one-syllable number word stays a word: Korean "이" is more often "this" or a
        particle than the number two.
        """
        words = self.ld.without_fillers(words)
        words = [DATE if w == "zzdatezz" or self._glued_date(w) else w for w in words]
        for start, end, phrase in reversed(
                find_phrases(words, self.date_phrases, bool(self.ld.particles))):
            words = words[:start] + [NOW if phrase in self.now_phrases else DATE] + words[end:]
        nw = self.ld.numbers
        split = nw.split(words)
        flags = [nw.is_number_word(w) or w in self.money for w in split]
        out: list[str] = []
        i = 0
        while i < len(split):
            if not flags[i]:
                out.append(split[i])
                i += 1
                continue
            j = i
            while j < len(split) and (flags[j] or (
                    split[j] in nw.connectors and j + 1 < len(split) and flags[j + 1])):
                j += 1
            run = [w for w, f in zip(split[i:j], flags[i:j]) if f]
            if len(run) >= 2 or any(len(w) > 1 or w.isdigit() for w in run):
                out.append(NUMBER)
            else:
                out.extend(split[i:j])
            i = j
        return self._merge_slots(out)

    def _glued_date(self, word: str) -> bool:
        """Korean "십오일에", "12월": a number glued to the day or month suffix is a date."""
        if not self.glued_date:
            return False
        return bool(self.glued_date.match(self.ld.strip_particle(word)))

    def _merge_slots(self, words: list[str]) -> list[str]:
        """"december" "#" -> one "@": a date said with numbers is one date slot, as is a
        number after a day article ("el quince")."""
        out: list[str] = []
        for word in words:
            if word == NUMBER and out and out[-1] in self.day_articles:
                word = DATE
            if word in (DATE, NUMBER) and out and out[-1] in (DATE, NUMBER) \
                    and DATE in (word, out[-1]):
                out[-1] = DATE
            elif not (word == NUMBER and out and out[-1] == NUMBER):
                out.append(word)
        return out

    def units(self, words: list[str]) -> set[str]:
        if not self.char_mode:
            return set(words)
        units: set[str] = set()
        for word in words:   # bigrams inside each word: across a space they are mostly noise
            word = self.ld.strip_particle(word)
            units.update({word} if len(word) == 1 else
                         {word[i:i + 2] for i in range(len(word) - 1)})
        return units

    # -- matching -------------------------------------------------------------------------------
    def whole(self, words: list[str]) -> str | None:
        """The intent of a request already said whole: word for word a listed sentence of one
        intent that no listed sentence goes on from ("i want to make a payment" is whole, "pay
        my" and "cancel" are not), or, in a language whose sentences end with an ending of their
        own (Korean "요금 낼게요"), a sentence so ended that names one intent. Anything else may
        still be the start of something longer (tests/nlu sets: "do you" is "help" at 0.8, and
        "do you accept visa" another intent; "연체료" is "fees", "연체료 낼게요" a payment)."""
        prepared = tuple(self.prepare(words))
        exact = self.exact.get(prepared)
        if exact and len(exact) == 1 and prepared not in self.beginnings:
            return next(iter(exact))
        if prepared and words and words[-1].endswith(self.ld.sentence_endings):
            intent = self.match(words).intent
            return intent if intent != "out_of_scope" else None
        return None

    def match(self, words: list[str]) -> IntentMatch:
        words = self.prepare(words)
        if not words:
            return IntentMatch(None, 0.0, "none")
        exact = self.exact.get(tuple(words))
        if exact and len(exact) == 1:
            return IntentMatch(next(iter(exact)), 1.0, "exact")
        units = self.units(words)
        sims = self._similar(units)
        u_weight = {u: self.weights.get(u, self.oov_weight) for u in units}
        u_total = sum(u_weight.values()) or 1.0
        # Scores for every sentence at once: for each known unit the sentences holding it are
        # kept as index arrays (a sparse column), so one utterance costs a few numpy calls.
        count = len(self.sentences)
        said = np.zeros(count)
        explained = np.zeros(count)
        heard: dict[str, float] = {}
        for u, matches in sims.items():
            hit = np.zeros(count)
            for vocab_unit, sim in matches.items():
                rows = self.rows[vocab_unit]
                np.maximum.at(hit, rows, sim)
                heard[vocab_unit] = max(heard.get(vocab_unit, 0.0), sim)
            explained += u_weight[u] * hit
        for vocab_unit, sim in heard.items():
            said[self.rows[vocab_unit]] += sim * self.weights[vocab_unit]
        recall = said / self.totals
        precision = explained / u_total
        b2 = self.beta ** 2
        denominator = b2 * precision + recall
        scores = np.divide((1 + b2) * precision * recall, denominator,
                           out=np.zeros(count), where=denominator > 0)
        best: dict[str, float] = {}
        for intent, (start, end) in self.spans.items():
            top = float(scores[start:end].max()) if end > start else 0.0
            if top > 0:
                best[intent] = top
        if self.bag:
            # How much of what was said belongs to each intent's vocabulary at all: catches
            # phrasings no single example sentence has ("i don't understand these charges").
            for intent in best:
                vocab = self.intent_units[intent]
                covered = sum(u_weight[u] * max((sim for v, sim in m.items() if v in vocab),
                                                default=0.0) for u, m in sims.items())
                best[intent] = (1 - self.bag) * best[intent] + self.bag * covered / u_total
        self._weigh_keywords(best, words)
        if not best:
            return IntentMatch("out_of_scope", 1.0, "none")
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
        top, top_score = ranked[0]
        second, second_score = ranked[1] if len(ranked) > 1 else (None, 0.0)
        if top_score < self.cutoff:
            return IntentMatch("out_of_scope", round(1.0 - top_score, 3), "none", top, top_score)
        if top == "out_of_scope":
            return IntentMatch("out_of_scope", min(1.0, top_score), "fuzzy", second, second_score)
        if top_score - second_score < self.margin:
            return IntentMatch(None, min(1.0, top_score), "fuzzy", second, second_score)
        return IntentMatch(top, min(1.0, top_score), "fuzzy", second, second_score)

    def _weigh_keywords(self, best: dict[str, float], words: list[str]) -> None:
        """Keyphrase evidence added to the sentence scores (keywords.py); an intent that needs a
        keyphrase and has none keeps at most a score below the cutoff."""
        evidence = self.keywords.evidence(words)
        for intent, weight in evidence.items():
            best[intent] = best.get(intent, 0.0) + weight
        for intent in self.ld.require_keyword:
            if intent in best and intent not in evidence:
                best[intent] = min(best[intent], self.cutoff * 0.9)

    def _similar(self, units: set[str]) -> dict[str, dict[str, float]]:
        """For each caller unit, the known units it may stand for and how alike they are."""
        out: dict[str, dict[str, float]] = {}
        for unit in units:
            matches = {unit: 1.0} if unit in self.weights else {}
            if not self.char_mode and len(unit) >= FUZZY_MIN_LEN:
                for vocab_unit, score, _ in process.extract(
                        unit, self.vocab, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=5):
                    if len(vocab_unit) >= FUZZY_MIN_LEN:
                        # a near word counts less than the word itself
                        matches.setdefault(vocab_unit, (score / 100.0) ** 3)
            out[unit] = matches
        return out
