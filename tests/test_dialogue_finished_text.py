"""No template syntax ever reaches a caller (issue 12): every prompt of every language, rendered
with every kind of parameter the dialogue passes, is finished text - no "{name}", no "[을/를]"
particle marker and no written alternative such as "(으)로" or "을(를)" that a voice would read
out as it stands."""
from __future__ import annotations

import datetime as dt
import re
import string

import pytest

from voice_agent.dialogue.events import Reply
from voice_agent.dialogue.prompts import (
    Digits,
    LanguageName,
    Money,
    Prompt,
    Prompts,
    Spelled,
    When,
    load_catalog,
)
from voice_agent.settings import load_settings

SETTINGS = load_settings(env={})
LANGS = SETTINGS.languages
# One value of each parameter type, with endings that matter to agreeing particles: a final
# consonant, a vowel, ㄹ, a digit, a Latin letter, punctuation, money, a nested prompt in
# another language and a list of prompts.
VALUES = {
    "money": Money(5000),
    "money_small": Money(7),
    "digits": Digits("100200300"),
    "digits_echo": Digits("29730", echo=True),
    "spelled": Spelled("K7M4"),
    "when": When(dt.datetime(2026, 12, 1, 18, 20, tzinfo=dt.UTC)),
    "language": LanguageName("es"),
    "date": dt.date(2026, 12, 24),
    "int": 3,
    "text_consonant": "계정",
    "text_vowel": "카드",
    "text_rieul": "서울",
    "text_latin": "Visa",
    "text_symbol": "?!",
    "text_empty": "",
    "prompt_en": Prompt("method_card", {"brand": "Visa", "last4": "1111"}, lang="en"),
    "prompt_list": (Prompt("language_option", {"digit": 1}, lang="ko"),
                    Prompt("language_option", {"digit": 2}, lang="es")),
}
# What a listener must never hear: a placeholder, a particle marker, a written alternative.
TEMPLATE_SYNTAX = re.compile(r"[{}]|\[[^\]]*/[^\]]*\]|\((?:으|이|을|를|은|는|과|와)\)"
                             r"|[가-힣]\([가-힣]{1,2}\)")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.fixture(scope="module")
def prompts() -> Prompts:
    return Prompts(SETTINGS)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", sorted(VALUES))
def test_every_prompt_is_finished_text_with_every_parameter_type(prompts, lang, kind):
    bad = []
    for key, text in load_catalog(lang).items():
        params = {name: VALUES[kind] for name in placeholders(text)}
        said = prompts.render_one(lang, Reply(key, params))
        if TEMPLATE_SYNTAX.search(said):
            bad.append(f"{key}: {said}")
    assert not bad, "\n".join(bad)


def test_the_check_finds_template_syntax():
    """The pattern above really catches what it is for (so the test can fail)."""
    for text in ("{value}", "US$50.00(으)로 들었습니다", "카드[을/를]", "계정을(를)", "값}"):
        assert TEMPLATE_SYNTAX.search(text), text
    for text in ("US$50.00로 들었습니다", "Press 1 (one).", "[redacted]", "(803) 555-0100"):
        assert not TEMPLATE_SYNTAX.search(text), text


def test_korean_read_backs_take_the_particle_of_what_is_read(prompts):
    amount = prompts.render_one("ko", Reply("readback_amount", {"value": Money(5000)}))
    assert amount.startswith("US$50.00로 들었습니다")
    digits = prompts.render_one("ko", Reply("readback_digits", {"value": Digits("100200300")}))
    assert digits.startswith("1 0 0, 2 0 0, 3 0 0으로 들었습니다")       # 영: a final consonant
    digits = prompts.render_one("ko", Reply("readback_digits", {"value": Digits("1112")}))
    assert digits.startswith("1 1 1 2로 들었습니다")                     # 이: a vowel
