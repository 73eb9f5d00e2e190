"""Labelled utterance sets (tests/nlu/<lang>/*.toml), run once per language.

intents.toml: intent -> utterances as callers say them. values.toml: per value kind, utterance ->
expected value, with ``today`` for dates. Accuracy per language is printed (pytest -s shows it)
and must reach 95% on intents and 90% rejection of out_of_scope utterances.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from voice_agent.nlu import Understander
from voice_agent.nlu.models import value_to_json

SETS = Path(__file__).parent / "nlu"
LANGUAGES = sorted(p.name for p in SETS.iterdir() if p.is_dir())
MIN_PER_INTENT = {"en": 25}
DEFAULT_MIN_PER_INTENT = 10


@pytest.fixture(scope="module")
def nlu() -> Understander:
    return Understander(languages=("en", "es", "ko"))


def load(lang: str, name: str) -> dict:
    with (SETS / lang / name).open("rb") as fh:
        return tomllib.load(fh)


def intent_report(nlu: Understander, lang: str) -> tuple[float, float, list[str]]:
    data = load(lang, "intents.toml")
    hits = total = rejected = oos = 0
    misses = []
    for label, utterances in data.items():
        for text in utterances:
            got = nlu.understand(text, lang).intent
            if label == "out_of_scope":
                oos += 1
                rejected += got == "out_of_scope"
            else:
                total += 1
                hits += got == label
            if got != label:
                misses.append(f"{lang}: {text!r}: expected {label}, got {got}")
    return hits / total, rejected / oos, misses


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sets_are_big_enough(lang):
    from voice_agent.nlu import INTENTS
    data = load(lang, "intents.toml")
    need = MIN_PER_INTENT.get(lang, DEFAULT_MIN_PER_INTENT)
    for intent in INTENTS:
        assert len(data.get(intent, [])) >= need, f"{lang}/{intent}: fewer than {need}"
    kinds = load(lang, "values.toml")
    assert {"digits", "amount", "date", "expiry", "yes_no", "language"} <= set(kinds)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_most_test_utterances_are_not_examples(nlu, lang):
    """Hold-out honesty: a test line that is literally an example sentence proves little.

    Template expansion makes some short, common phrasings coincide; most of the set must still
    be answered by the fuzzy tier, and accuracy on that part is reported and checked on its own.
    """
    index = nlu._index[lang]
    data = load(lang, "intents.toml")
    lines = [(label, t) for label, ts in data.items() for t in ts]
    unseen = [(label, t) for label, t in lines
              if tuple(index.prepare(nlu.words(t, lang))) not in index.exact]
    right = sum(nlu.understand(t, lang).intent == label for label, t in unseen)
    print(f"\n{lang}: {len(lines) - len(unseen)} of {len(lines)} test utterances equal an "
          f"example; on the other {len(unseen)}: {right / len(unseen):.1%} right")
    assert len(unseen) >= 0.5 * len(lines)
    assert right / len(unseen) >= 0.90


@pytest.mark.parametrize("lang", LANGUAGES)
def test_intent_accuracy(nlu, lang):
    accuracy, rejection, misses = intent_report(nlu, lang)
    print(f"\n{lang}: intent accuracy {accuracy:.1%}, out_of_scope rejection {rejection:.1%}")
    for line in misses:
        print("  miss", line)
    assert accuracy >= 0.95
    assert rejection >= 0.90


@pytest.mark.parametrize("lang", LANGUAGES)
def test_values(nlu, lang):
    data = load(lang, "values.toml")
    today = dt.date.fromisoformat(data.pop("today"))
    wrong = []
    count = 0
    for kind, cases in data.items():
        for text, want in cases.items():
            count += 1
            got = value_to_json(nlu.parse_value(kind, text, lang, today=today))
            if want == "none":
                want = None
            if got != want:
                wrong.append(f"{lang} {kind}: {text!r}: expected {want!r}, got {got!r}")
    print(f"\n{lang}: values {count - len(wrong)}/{count} right")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_holdout_is_reported(nlu, lang):
    """holdout.toml was written after the data was tuned and is never used to tune it.

    Its accuracy is the honest estimate for unseen phrasings, printed for the record; the floor
    only catches a collapse (a lexical matcher does not reach the tuned sets' 95% here).
    """
    data = load(lang, "holdout.toml")
    hits = total = rejected = oos = 0
    for label, utterances in data.items():
        for text in utterances:
            got = nlu.understand(text, lang).intent
            if label == "out_of_scope":
                oos += 1
                rejected += got == "out_of_scope"
            else:
                total += 1
                hits += got == label
    print(f"\n{lang}: hold-out intent accuracy {hits / total:.1%} of {total}, "
          f"out_of_scope rejection {rejected / oos:.1%} of {oos}")
    assert hits / total >= 0.55 and rejected / oos >= 0.5
