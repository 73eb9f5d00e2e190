"""The language understanding the tests use (no tests here): one real Understander for the whole
run, and FakeNLU, a literal-minded stand-in for testing the dialogue engine and the recognizer
apart from understanding.

Loading the locales takes about a second; `understander()` loads them once per test run, for
the conftest ``nlu`` fixture and for the fuzz modules that need it while they are imported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from voice_agent.nlu import Understander
from voice_agent.settings import load_settings


@lru_cache(maxsize=1)
def understander() -> Understander:
    """The real Understander for the languages the default settings enable (en, es, ko)."""
    return Understander(languages=load_settings(env={}).languages)


INTENT_WORDS = {
    "pay": "pay_bill", "balance": "check_balance", "explain": "explain_bill",
    "dispute": "dispute_charge", "arrangement": "payment_arrangement",
    "representative": "agent", "agent": "agent", "repeat": "repeat", "slower": "slower",
    "help": "help", "language": "change_language", "cancel": "cancel", "goodbye": "goodbye",
    "yes": "affirm", "no": "deny",
}
LANGS = {"english": "en", "spanish": "es", "español": "es", "korean": "ko", "한국어": "ko"}
YES_NO = {"yes": "yes", "no": "no", "예": "yes", "네": "yes", "아니요": "no", "아니오": "no"}
# Grammar phrases (what the recognizer may hear) for the few expectations the voice tests use.
PHRASES = {"confirm": ["예", "네", "아니요", "아니오"], "language": ["한국어", "영어", "스페인어"],
           "intent": ["상담원", "요금 납부", "잔액"], "account_number": ["일", "이", "삼", "공"],
           "bogus": ["없는말xyz"]}


@dataclass(frozen=True)
class FakeUnderstanding:
    text: str
    intent: str | None
    confidence: float
    expect: str | None = None
    value: Any = None
    plain_intent: str | None = None


class FakeNLU:
    """Knows only literal forms ("1234", "$50.00", "12/28", "yes", "네", intent keywords) and
    records what it was asked to understand in ``seen``."""

    def __init__(self):
        self.seen: list[tuple[str, str, str | None]] = []

    def parse_value(self, kind, text, lang, today=None):
        t = text.lower().strip()
        if kind == "digits":
            d = re.sub(r"\D", "", t)
            return d or None
        if kind == "amount":
            m = re.search(r"\$(\d+)(?:\.(\d\d))?", t)
            return int(m.group(1)) * 100 + int(m.group(2) or 0) if m else None
        if kind == "expiry":
            m = re.search(r"(\d\d)/(\d\d)", t)
            return (int(m.group(1)), 2000 + int(m.group(2))) if m else None
        if kind == "yes_no":             # the first yes or no word: "아니요 괜찮아요" is a no
            return next((YES_NO[w] for w in t.split() if w in YES_NO), None)
        if kind == "language":
            return next((code for word, code in LANGS.items() if word in t), None)
        return None

    def request_words(self, text, lang):
        return text

    def corrected_words(self, text, lang):
        return None

    def only_number(self, text, lang):
        return bool(re.fullmatch(r"[\d\s$.,]*\d[\d\s$.,]*", text.strip()))

    def understand(self, text, lang, expect=None, today=None):
        self.seen.append((text, lang, expect))
        words = text.lower().split()
        intent = next((INTENT_WORDS[w] for w in words if w in INTENT_WORDS), None)
        value = self.parse_value(expect, text, lang, today) if expect else None
        if expect is None and intent == "pay_bill":
            amount = self.parse_value("amount", text, lang)
            value = {"amount": amount} if amount else None
        return FakeUnderstanding(text, intent or "out_of_scope", 1.0, expect, value,
                                 intent or "out_of_scope")

    def grammar_phrases(self, lang, expect, answers_only=False):
        return PHRASES.get(expect, [])

    def choices(self, lang, name):
        return {"payment_method": {"card": ["card"], "bank": ["bank"], "saved": ["saved"]},
                "amount_choice": {"full": ["full"], "past_due": ["past due"],
                                  "other": ["other"]}}.get(name, {})

    def match_choice(self, text, lang, choices):
        for key, phrases in choices.items():
            if text.lower().strip() in phrases:
                return key, 1.0
        return None, 0.0
