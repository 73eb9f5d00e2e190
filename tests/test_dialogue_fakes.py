"""A small stand-in for the NLU, so the engine's own logic is tested apart from understanding.

It knows only literal forms ("1234", "$50.00", "12/28", "yes", intent keywords); the conversation
tests (test_dialogue_conversations.py) run the real `voice_agent.nlu.Understander`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

INTENT_WORDS = {
    "pay": "pay_bill", "balance": "check_balance", "explain": "explain_bill",
    "dispute": "dispute_charge", "arrangement": "payment_arrangement",
    "representative": "agent", "agent": "agent", "repeat": "repeat", "slower": "slower",
    "help": "help", "language": "change_language", "cancel": "cancel", "goodbye": "goodbye",
    "yes": "affirm", "no": "deny",
}
LANGS = {"english": "en", "spanish": "es", "español": "es", "korean": "ko", "한국어": "ko"}


@dataclass(frozen=True)
class FakeUnderstanding:
    text: str
    intent: str | None
    confidence: float
    expect: str | None = None
    value: Any = None
    plain_intent: str | None = None


class FakeNLU:
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
        if kind == "yes_no":
            return {"yes": "yes", "no": "no"}.get(t)
        if kind == "language":
            return next((code for word, code in LANGS.items() if word in t), None)
        return None

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

    def choices(self, lang, name):
        return {"payment_method": {"card": ["card"], "bank": ["bank"], "saved": ["saved"]},
                "amount_choice": {"full": ["full"], "past_due": ["past due"],
                                  "other": ["other"]}}[name]

    def match_choice(self, text, lang, choices):
        for key, phrases in choices.items():
            if text.lower().strip() in phrases:
                return key, 1.0
        return None, 0.0
