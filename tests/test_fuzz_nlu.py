"""Hypothesis over language understanding: any text, any language, any expectation - no crash,
values of the promised type, and spoken numbers that read back to what was said."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voice_agent.expect import EXPECTING
from voice_agent.nlu import INTENTS, KINDS

from fault_helpers import scaled
from nlu_helpers import understander

NLU = understander()
LANGS = ("en", "es", "ko")
TODAY = dt.date(2026, 11, 25)
EN_DIGITS = "zero one two three four five six seven eight nine".split()
ES_DIGITS = "cero uno dos tres cuatro cinco seis siete ocho nueve".split()
FUZZ = settings(max_examples=scaled(150, 1500), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def words_from_locales() -> list[str]:
    """Real caller words (numbers, yes/no, months, money, intents) to mix into random text."""
    vocab: set[str] = set()
    for lang in LANGS:
        ld = NLU.locale(lang)
        for table in (ld.yes, ld.no):
            vocab.update(w for phrase in table for w in phrase)
        vocab.update(w for phrase in ld.currency_major for w in phrase)
    vocab.update(EN_DIGITS + ES_DIGITS + ["hundred", "thousand", "dollars", "cents", "and",
                                          "point", "december", "tomorrow", "friday", "oh",
                                          "pay", "bill", "balance", "agent", "repeat", "$", "/",
                                          "12/28", "84.20", "1,000", "-5", "0", "일", "이", "삼"])
    return sorted(vocab)


VOCAB = words_from_locales()
utterances = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(VOCAB), max_size=12).map(" ".join),
    st.lists(st.one_of(st.sampled_from(VOCAB), st.text(max_size=6)), max_size=8).map(" ".join),
)


def check_value(kind: str, value, lang: str) -> None:
    if value is None:
        return
    if kind == "digits":
        assert isinstance(value, str) and value.isdigit() and value.isascii(), value
    elif kind in ("amount", "number"):
        assert isinstance(value, int) and not isinstance(value, bool) and value >= 0, value
    elif kind == "date":
        assert isinstance(value, dt.date), value
    elif kind == "expiry":
        month, year = value
        assert 1 <= month <= 12 and isinstance(year, int), value
    elif kind == "yes_no":
        assert value in ("yes", "no"), value
    elif kind == "language":
        assert value in LANGS, value


@FUZZ
@given(text=utterances, lang=st.sampled_from(LANGS), kind=st.sampled_from(KINDS))
def test_value_parsers_never_crash_and_return_the_promised_type(text, lang, kind):
    check_value(kind, NLU.parse_value(kind, text, lang, today=TODAY), lang)


@FUZZ
@given(text=utterances, lang=st.sampled_from(LANGS),
       expect=st.sampled_from((None, *EXPECTING)))
def test_understand_never_crashes_and_stays_in_its_vocabulary(text, lang, expect):
    u = NLU.understand(text, lang, expect=expect, today=TODAY)
    assert u.intent is None or u.intent in INTENTS, u.intent
    assert 0.0 <= u.confidence <= 1.0
    u.to_json()                                   # the CLI form always serializes


@FUZZ
@given(text=utterances, lang=st.sampled_from(LANGS))
def test_intent_matcher_and_choices(text, lang):
    m = NLU.match_intent(text, lang)
    assert m.intent is None or m.intent in INTENTS
    choices = NLU.choices(lang, "payment_method")
    key, score = NLU.match_choice(text, lang, choices)
    assert (key is None or key in choices) and 0.0 <= score <= 1.0


@FUZZ
@given(digits=st.text("0123456789", min_size=1, max_size=19), lang=st.sampled_from(("en", "es")))
def test_spoken_digit_strings_read_back_exactly(digits, lang):
    words = EN_DIGITS if lang == "en" else ES_DIGITS
    said = " ".join(words[int(d)] for d in digits)
    assert NLU.parse_value("digits", said, lang) == digits
    assert NLU.parse_value("digits", " ".join(digits), lang) == digits     # typed "1 2 3"


@FUZZ
@given(dollars=st.integers(0, 99_999), cents=st.integers(0, 99))
def test_typed_amounts_are_exact_cents(dollars, cents):
    assert NLU.parse_value("amount", f"${dollars}.{cents:02d}", "en") == dollars * 100 + cents
    assert NLU.parse_value("amount", f"{dollars} dollars and {cents} cents", "en") \
        == dollars * 100 + cents


@pytest.mark.parametrize("lang", LANGS)
def test_every_expectation_has_a_usable_grammar(lang):
    for expect in EXPECTING:
        phrases = NLU.grammar_phrases(lang, expect)
        assert all(isinstance(p, str) and p.strip() for p in phrases), (expect, phrases)
