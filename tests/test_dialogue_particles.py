"""Korean particles agree with the sound before them ("Visa 카드를", never "카드을"), from the data
in locales/ko/prompts.toml [particles]; other languages are rendered untouched."""
from __future__ import annotations

import pytest

from voice_agent.dialogue.events import Reply
from voice_agent.dialogue.flows.payment import describe
from voice_agent.dialogue.particles import ParticleRules, final_consonant
from voice_agent.dialogue.prompts import Money, Prompt, PromptError, Prompts, load_catalog, load_tables
from voice_agent.settings import load_settings
from voice_agent.store import PaymentMethod

SETTINGS = load_settings(env={})


@pytest.fixture(scope="module")
def prompts():
    return Prompts(SETTINGS)


@pytest.fixture(scope="module")
def ko(prompts):
    return prompts.particles["ko"]


def test_final_consonant():
    assert final_consonant("카") == 0 and final_consonant("정") == 21
    assert final_consonant("일") == 8                       # ㄹ
    assert final_consonant("a") is None and final_consonant("1") is None


@pytest.mark.parametrize("text, said", [
    ("Visa 카드[을/를]", "Visa 카드를"),
    ("계정[을/를]", "계정을"),
    ("은행 계좌[이/가]", "은행 계좌가"),
    ("서비스[은/는]", "서비스는"),
    ("고객님[은/는]", "고객님은"),
    ("Palmetto Power & Telecom[과/와]", "Palmetto Power & Telecom과"),   # 텔레콤: ㅁ
    ("Visa[과/와]", "Visa와"),                                          # 에이: a vowel
    ("서울[으로/로]", "서울로"),                                          # ㄹ takes 로
    ("집[으로/로]", "집으로"),
    ("카드[으로/로]", "카드로"),
    ("2026년 11월 27일[으로/로]", "2026년 11월 27일로"),
    ("8 0 3[으로/로]", "8 0 3으로"),                                   # 삼: ㅁ
    ("1 1 1 2[을/를]", "1 1 1 2를"),                                   # 이: a vowel
    ("US$98.00[을/를]", "US$98.00를"),                                 # read as 달러
    ("US$98.00[이/가] 있어서", "US$98.00가 있어서"),
    ("?[을/를]", "?를"),                     # unknown: one form, never "을(를)" read aloud
    ("1 1 1 1,[으로/로]", "1 1 1 1,로"),                               # punctuation is not read
    ("두 개: 카드[을/를] 계정[을/를]", "두 개: 카드를 계정을"),
    ("괄호 [없음]", "괄호 [없음]"),
])
def test_particles_follow_the_sound_before_them(ko, text, said):
    assert ko.apply(text) == said


def test_saved_card_option_says_kadeureul(prompts):
    card = PaymentMethod(kind="card", last4="1111", brand="visa")
    text = prompts.render_one("ko", Reply("pay_method_saved_option", {"method": describe(card)}))
    assert "Visa 카드를 사용하시려면" in text and "카드을" not in text
    bank = PaymentMethod(kind="bank", last4="6789")
    text = prompts.render_one("ko", Reply("pay_method_saved_option", {"method": describe(bank)}))
    assert "은행 계좌를 사용하시려면" in text


def test_amounts_take_the_form_for_dalleo(prompts):
    text = prompts.render_one("ko", Reply("restore_why", {"amount": Money(9800)}))
    assert "US$98.00가 있어서" in text
    text = prompts.render_one("ko", Reply("balance_suspended", {"amount": Money(9800)}))
    assert "US$98.00를 납부하시면" in text


def test_segments_agree_like_the_text(prompts):
    """The language segments a voice speaks are the text, particles and all: a Korean turn with
    an English reply, and a particle after a part in another language."""
    replies = (Reply("balance_suspended", {"amount": Money(9800)}),
               Reply("goodbye", {}, lang="en"))
    runs = prompts.segments("ko", replies)
    assert [lang for lang, _ in runs] == ["ko", "en"]
    assert " ".join(text for _, text in runs) == prompts.render("ko", replies)
    assert "US$98.00를 납부하시면" in runs[0][1] and "[" not in runs[0][1]
    english = Prompt("method_card", {"brand": "Visa", "last4": "1111"}, lang="en")
    reply = Reply("pay_method_saved_option", {"method": english})
    runs = prompts.segments("ko", [reply])
    assert " ".join(text for _, text in runs) == prompts.render_one("ko", reply)
    assert [lang for lang, _ in runs] == ["ko", "en", "ko"]
    assert runs[1][1] == "Visa card ending in 1111을"      # 1 is read 일: the particle agrees
    assert "[" not in prompts.render_one("ko", reply)


def test_no_korean_placeholder_is_followed_by_a_fixed_particle():
    import re
    for key, text in load_catalog("ko").items():
        assert not re.search(r"\}(을|를|은|는|과|와|으로|로)(?![가-힣])", text), key
        assert not re.search(r"\}(이|가)[ ,.]", text), key


@pytest.mark.parametrize("lang", ["en", "es"])
def test_other_languages_have_no_rules_and_are_untouched(prompts, lang):
    assert lang not in prompts.particles and "particles" not in load_tables(lang)
    text = prompts.render_one(lang, Reply("pay_method_saved_option", {
        "method": describe(PaymentMethod(kind="card", last4="1111", brand="visa"))}))
    assert "Visa" in text


def test_bad_pair_is_refused():
    with pytest.raises(ValueError):
        ParticleRules.from_table({"pairs": ["을를"]})


def test_a_table_defined_twice_is_an_error(tmp_path):
    lang = tmp_path / "xx"
    lang.mkdir()
    (lang / "prompts.toml").write_text('a = "x"\n[particles]\npairs = ["을/를"]\n', "utf-8")
    assert load_tables("xx", tmp_path)["particles"]["pairs"] == ["을/를"]
    (lang / "prompts_b.toml").write_text('[particles]\npairs = ["이/가"]\n', "utf-8")
    with pytest.raises(PromptError, match=r"\[particles\]"):
        load_tables("xx", tmp_path)
