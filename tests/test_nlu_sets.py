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


def set_report(nlu: Understander, lang: str, name: str) -> tuple[float, float, int, int]:
    """Intent accuracy and out_of_scope rejection of one labelled file, with its sizes."""
    data = load(lang, name)
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
    return hits / total, rejected / oos, total, oos


# Floors a little below what was reached (issue 3 follow-up, measured 2026-11-25), so that a
# change that loses unseen phrasings fails: (intent accuracy, out_of_scope rejection).
# holdout.toml, third edition: before the keyphrase work en 94.2/100, es 91.2/90, ko 86.9/90;
# after it en 98.3/100, es 95.6/90, ko 93.5/90.
# holdout_v2.toml, second edition: before en 82.5/100, es 77.2/100, ko 71.9/80;
# after en 86.0/100, es 87.7/100, ko 77.2/80.
HOLDOUT_FLOORS = {
    "holdout.toml": {"en": (0.96, 0.90), "es": (0.92, 0.80), "ko": (0.90, 0.80)},
    "holdout_v2.toml": {"en": (0.82, 0.80), "es": (0.84, 0.80), "ko": (0.74, 0.60)},
}


@pytest.mark.parametrize("name", sorted(HOLDOUT_FLOORS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_holdout_accuracy(nlu, lang, name):
    """holdout*.toml were written before the matcher and data they measure were tuned and are
    never used to tune them (no line or near copy goes into locales/). Their accuracy is the
    honest estimate for phrasings nobody wrote down; a regression below the floor fails."""
    accuracy, rejection, total, oos = set_report(nlu, lang, name)
    print(f"\n{lang} {name}: intent accuracy {accuracy:.1%} of {total}, "
          f"out_of_scope rejection {rejection:.1%} of {oos}")
    floor_accuracy, floor_rejection = HOLDOUT_FLOORS[name][lang]
    assert accuracy >= floor_accuracy
    assert rejection >= floor_rejection


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", ["dev.toml", "dev2.toml"])
def test_dev_sets(nlu, lang, name):
    """dev*.toml: phrasings written to develop the keyphrases (seen while tuning, so not a measure
    of unseen speech, but a check that the tuning holds). dev2.toml was written fresh after the
    first round and measured before it was used: en 81.6%, es 77.5%, ko 74.6%."""
    accuracy, rejection, total, oos = set_report(nlu, lang, name)
    print(f"\n{lang} {name}: intent accuracy {accuracy:.1%} of {total}, "
          f"out_of_scope rejection {rejection:.1%} of {oos}")
    assert accuracy >= 0.93
    assert rejection >= 0.90
