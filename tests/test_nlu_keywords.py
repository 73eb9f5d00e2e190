"""Keyphrase evidence (voice_agent/nlu/keywords.py, locales/<lang>/keywords.toml)."""
from __future__ import annotations

import shutil

import pytest

from voice_agent.nlu import Understander
from voice_agent.nlu.keywords import KeywordEvidence, load_keyphrases
from voice_agent.nlu.locale import LocaleError


def test_phrases_hold_in_any_order_with_prefixes_and_near_spellings():
    kw = KeywordEvidence(load_keyphrases("dispute_charge", {"overcharg*": 0.4, "wrong charge": 0.3})
                         + load_keyphrases("slower", ["fast"]), char_mode=False)
    assert kw.evidence("i was overcharged".split()) == {"dispute_charge": 0.4}
    assert kw.evidence("the charge is wrong".split()) == {"dispute_charge": 0.3}
    assert kw.evidence("the chrage is wrong".split()) == {}       # short words must be exact
    assert kw.evidence("i was overchraged".split()) == {}         # a prefix is not fuzzy
    assert kw.evidence("too fast".split()) == {"slower": 0.25}    # a list takes the default
    assert kw.evidence("wrong".split()) == {}


def test_a_longer_phrase_of_another_intent_cancels_the_one_it_contains():
    kw = KeywordEvidence(load_keyphrases("cancel", {"cancel": 0.2})
                         + load_keyphrases("schedule_payment", {"cancel schedul*": 0.5}),
                         char_mode=False)
    assert kw.evidence("cancel my scheduled payment".split()) == {"schedule_payment": 0.5}
    assert kw.evidence("cancel that".split()) == {"cancel": 0.2}


def test_character_mode_finds_words_inside_the_text():
    kw = KeywordEvidence(load_keyphrases("schedule_payment", {"예약 취소": 0.5}), char_mode=True)
    assert kw.evidence(["예약된", "결제", "취소할게요"]) == {"schedule_payment": 0.5}
    assert kw.evidence(["취소할게요"]) == {}


@pytest.mark.parametrize("lang, text, intent", [
    ("en", "dispute the late fee", "dispute_charge"),
    ("en", "cancel my scheduled payment", "schedule_payment"),
    ("en", "i want to cancel the payment i scheduled", "schedule_payment"),
    ("en", "cancel", "cancel"),
    ("en", "uh i was overcharged again", "dispute_charge"),
    ("en", "can i split the bill into installments", "payment_arrangement"),
    ("es", "disputar el recargo", "dispute_charge"),
    ("es", "cancelar el pago programado", "schedule_payment"),
    ("es", "cancelar", "cancel"),
    ("ko", "연체료 이의 제기할게요", "dispute_charge"),
    ("ko", "예약 결제 취소할게요", "schedule_payment"),
    ("ko", "취소할게요", "cancel"),
])
def test_known_misroutes(nlu, lang, text, intent):
    assert nlu.understand(text, lang).intent == intent


def test_slower_needs_a_word_about_speed(nlu):
    assert nlu.understand("it's too much", "en").intent != "slower"
    assert nlu.understand("it's too fast", "en").intent == "slower"
    assert nlu.understand("es demasiado", "es").intent != "slower"
    assert nlu.understand("demasiado rápido", "es").intent == "slower"


def test_confidence_stays_within_bounds_with_evidence(nlu):
    for text in ("cancel my scheduled payment please cancel the scheduled one",
                 "dispute dispute overcharged wrong charge not mine"):
        assert 0.0 <= nlu.understand(text, "en").confidence <= 1.0


def test_paying_now_is_not_scheduling(nlu):
    assert nlu.understand("오늘 낼게요", "ko").intent == "pay_bill"
    assert nlu.understand("금요일에 낼게요", "ko").intent == "schedule_payment"


def test_a_keyword_for_an_unknown_intent_is_a_clear_error(nlu, tmp_path):
    shutil.copytree(nlu.locale("en").directory, tmp_path / "en")
    (tmp_path / "en" / "keywords.toml").write_text('[keywords.pay_bil]\n"pay" = 0.2\n')
    with pytest.raises(LocaleError, match="keywords.toml: unknown intent 'pay_bil'"):
        Understander(languages=("en",), locales_dir=tmp_path)


def test_the_intent_grammar_lets_the_recogniser_say_the_keyphrases(nlu):
    assert {"venmo", "overcharged", "not mine"} <= set(nlu.grammar_phrases("en", "intent"))
    assert {"rápido", "no es mío"} <= set(nlu.grammar_phrases("es", "intent"))
    assert not any("*" in p for p in nlu.grammar_phrases("es", "intent"))
    assert "overcharged" not in nlu.grammar_phrases("en", "pin")


@pytest.mark.parametrize("lang, text", [("en", "a different amount"), ("ko", "다른 금액"),
                                        ("es", "otra cantidad")])
def test_a_language_change_needs_a_language_word(nlu, lang, text):
    assert nlu.understand(text, lang).intent != "change_language"


@pytest.mark.parametrize("lang, text", [("en", "could you speak spanish"),
                                        ("es", "hábleme en inglés"), ("ko", "영어로 해 주세요"),
                                        ("en", "hablas espanol")])
def test_a_language_word_still_changes_language(nlu, lang, text):
    assert nlu.understand(text, lang).intent == "change_language"
