"""The Understander API the dialogue codes against (ARCHITECTURE.md "Language understanding")."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from voice_agent.nlu import INTENTS, KINDS, Understander, Understanding

TODAY = dt.date(2026, 11, 25)   # a Wednesday


def test_names_are_the_contract():
    assert {"pay_bill", "out_of_scope", "affirm", "deny", "repeat"} <= set(INTENTS)
    assert {"digits", "amount", "date", "expiry", "yes_no", "language"} <= set(KINDS)


def test_mixed_initiative_gives_intent_and_values(nlu):
    u = nlu.understand("i want to pay fifty dollars on account one two three four", "en")
    assert isinstance(u, Understanding)
    assert u.intent == "pay_bill"
    assert u.value == {"amount": 5000, "account_number": "1234"}
    assert u.to_json()["value"] == {"amount": 5000, "account_number": "1234"}


def test_empty_is_no_intent(nlu):
    u = nlu.understand("   uh um  ", "en")
    assert u.intent is None and u.confidence == 0.0 and u.value is None


def test_commands_are_heard_while_a_value_is_expected(nlu):
    assert nlu.understand("repeat that please", "en", expect="pin").intent == "repeat"
    assert nlu.understand("cancel", "en", expect="amount").intent == "cancel"
    assert nlu.understand("help", "en", expect="digits").value is None
    u = nlu.understand("one two three four", "en", expect="pin")
    assert u.value == "1234" and u.expect == "pin"
    # a number word inside a command is not the answer
    u = nlu.understand("one more time", "en", expect="pin")
    assert (u.intent, u.value) == ("repeat", None)
    u = nlu.understand("다시 한 번 말해 주세요", "ko", expect="installments")
    assert (u.intent, u.value) == ("repeat", None)
    assert nlu.understand("cancelar", "es", expect="card_expiry").intent == "cancel"


def test_yes_no_sets_affirm_or_deny(nlu):
    u = nlu.understand("yeah that's right", "en", expect="yes_no")
    assert (u.intent, u.value) == ("affirm", "yes")
    u = nlu.understand("아니요 틀렸어요", "ko", expect="confirm")
    assert (u.intent, u.value) == ("deny", "no")


def test_json_forms_of_dates_and_expiry(nlu):
    u = nlu.understand("december third", "en", expect="date", today=TODAY)
    assert u.value == dt.date(2026, 12, 3) and u.to_json()["value"] == "2026-12-03"
    u = nlu.understand("twelve twenty eight", "en", expect="expiry")
    assert u.value == (12, 2028) and u.to_json()["value"] == "12/28"


def test_unknown_language_and_kind_are_clear_errors(nlu):
    with pytest.raises(ValueError, match="not loaded"):
        nlu.understand("hola", "fr")
    with pytest.raises(ValueError, match="unknown value kind"):
        nlu.parse_value("colour", "red", "en")


def test_choices_and_match_choice(nlu, tmp_path):
    (tmp_path / "en").mkdir()
    for name in ("intents.toml", "numbers.toml", "values.toml"):
        (tmp_path / "en" / name).write_bytes((nlu.locale("en").directory / name).read_bytes())
    (tmp_path / "en" / "choices.toml").write_text(
        '[payment_method]\ncard = ["card", "credit card"]\nbank = ["bank", "bank account"]\n')
    local = Understander(languages=("en",), locales_dir=tmp_path)
    methods = local.choices("en", "payment_method")
    assert methods == {"card": ["card", "credit card"], "bank": ["bank", "bank account"]}
    assert local.choices("en", "no_such_list") == {}
    assert local.match_choice("uh my credit card", "en", methods)[0] == "card"
    assert local.match_choice("from the bank account", "en", methods)[0] == "bank"
    key, score = local.match_choice("a pizza", "en", methods)
    assert key is None and 0 <= score < 0.75
    (tmp_path / "en" / "choices.toml").unlink()
    assert local.choices("en", "payment_method") == methods      # read once, at first use
    assert Understander(languages=("en",), locales_dir=tmp_path).choices(
        "en", "payment_method") == {}


def test_ambiguous_choice_is_none(nlu):
    key, _ = nlu.match_choice("card bank", "en", {"card": ["card"], "bank": ["bank"]})
    assert key is None


def test_grammar_phrases(nlu):
    pin = nlu.grammar_phrases("en", "pin")
    assert {"one", "nine", "zero", "oh", "double"} <= set(pin)
    assert "repeat" in pin and "help" in pin          # commands stay sayable
    assert nlu.grammar_phrases("en", "dispute_reason") == []
    assert nlu.grammar_phrases("en", "none") == []
    langs = nlu.grammar_phrases("en", "language")
    assert {"spanish", "español", "한국어", "english"} <= set(langs)
    assert {"네", "아니요"} <= set(nlu.grammar_phrases("ko", "confirm"))
    intent = nlu.grammar_phrases("en", "intent")
    assert any("pay" in p for p in intent)
    assert {"fifty", "dollars", "friday"} <= set(intent)   # values said with an intent
    months = nlu.grammar_phrases("es", "card_expiry")
    assert "diciembre" in months and "veintiocho" in months


def test_answers_only_grammar_is_the_steps_own_answers(nlu):
    for lang, expect, answer, aside in (("en", "confirm", "yes", "go back"),
                                        ("ko", "confirm", "네", "뒤로"),
                                        ("en", "payment_method", "card", "repeat"),
                                        ("en", "language", "spanish", "help")):
        answers = nlu.grammar_phrases(lang, expect, answers_only=True)
        whole = nlu.grammar_phrases(lang, expect)
        assert answer in answers and set(answers) < set(whole)
        assert aside in whole and aside not in answers      # commands, "go back": the wider one
    pin = nlu.grammar_phrases("en", "pin", answers_only=True)
    assert "nine" in pin and "repeat" not in pin
    # a request is answered in sentences: one grammar, the same either way
    assert nlu.grammar_phrases("en", "intent", answers_only=True) == nlu.grammar_phrases(
        "en", "intent")
    assert nlu.grammar_phrases("en", "dispute_reason", answers_only=True) == []


def test_cli_understand_contract():
    lines = "i want to pay fifty dollars on account one two three four\nwhat time is it\n\n"
    out = subprocess.run([sys.executable, "-m", "voice_agent", "understand", "--lang", "en",
                          "--json"], input=lines, capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 3
    assert set(rows[0]) == {"text", "intent", "confidence", "expect", "value"}
    assert rows[0]["intent"] == "pay_bill" and rows[0]["value"]["amount"] == 5000
    assert rows[1]["intent"] == "out_of_scope"
    assert rows[2]["intent"] is None and rows[2]["value"] is None
    out = subprocess.run([sys.executable, "-m", "voice_agent", "understand", "--lang", "es",
                          "--expect", "date", "--today", "2026-11-25"],
                         input="el próximo viernes\n", capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["value"] == "2026-12-04"


def test_cli_understand_masks_what_could_be_a_secret():
    """A PIN said with a request (or a card number, an expiry) is never printed in clear: the
    text is masked as a stored caller turn, each value by what it answers."""
    def run(lines: str, *args: str) -> list[dict]:
        out = subprocess.run([sys.executable, "-m", "voice_agent", "understand", "--lang", "en",
                              *args], input=lines, capture_output=True, text=True, check=True)
        assert "4321" not in out.stdout and "three two one" not in out.stdout
        return [json.loads(line) for line in out.stdout.splitlines()]

    rows = run("yeah hi i wanna pay forty five dollars, the account number is 100200300 and the"
               " pin is 4321\nmy pin is four three two one pay my bill\n")
    assert [r["intent"] for r in rows] == ["pay_bill", "pay_bill"]
    assert rows[0]["value"] == {"amount": 4500, "account_number": "*********",
                                "pin": "[redacted]"}
    assert rows[1]["value"] == {"pin": "[redacted]"} and "pin is * * * *" in rows[1]["text"]
    card, = run("4111 1111 1111 1111\n", "--expect", "digits")
    assert card["value"] == "************1111" and "4111" not in card["text"]
    expiry, = run("twelve thirty\n", "--expect", "expiry")
    assert expiry["value"] == "[redacted]"


def test_cli_survives_bytes_that_are_not_utf8():
    out = subprocess.run([sys.executable, "-m", "voice_agent", "understand", "--lang", "en"],
                         input=b"caf\xe9 pay my bill\r\nyes\n", capture_output=True, check=True)
    rows = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert [r["intent"] for r in rows] == ["pay_bill", "affirm"]


def test_cli_rejects_bad_input():
    out = subprocess.run([sys.executable, "-m", "voice_agent", "understand", "--lang", "en",
                          "--today", "2026-13-01"], input="x\n", capture_output=True, text=True)
    assert out.returncode == 2 and "not a date" in out.stderr


def test_korean_mixed_initiative(nlu):
    u = nlu.understand("음 오십 달러 내고 싶어요 계좌 번호는 일 이 삼 사", "ko")
    assert u.intent == "pay_bill"
    assert u.value == {"amount": 5000, "account_number": "1234"}


def test_an_article_is_not_an_amount(nlu):
    assert nlu.understand("quiero programar un pago", "es").value is None
    assert nlu.understand("i want to make one payment", "en").value is None
    assert nlu.understand("quiero pagar un dólar", "es").value == {"amount": 100}


def test_schedule_with_a_date_said_along(nlu):
    u = nlu.understand("i want to pay twenty dollars next friday", "en", today=TODAY)
    assert u.value == {"amount": 2000, "date": dt.date(2026, 12, 4)}
    u = nlu.understand("pay twenty dollars and fifty cents on account four four", "en")
    assert u.value == {"amount": 2050, "account_number": "44"}


def test_every_locale_has_every_intent_and_the_same_sections(nlu):
    from voice_agent.nlu import INTENTS
    sections = None
    for lang in nlu.languages:
        ld = nlu.locale(lang)
        assert set(ld.intents) == set(INTENTS), lang
        keys = set(ld.values) - {"keep"}
        sections = keys if sections is None else sections
        assert keys == sections, lang


def test_a_language_is_added_as_data_only(nlu, tmp_path):
    """A copy of the Spanish files under a new code works with no code change."""
    for lang, code in (("en", "en"), ("es", "xx")):
        (tmp_path / code).mkdir()
        for name in ("intents.toml", "numbers.toml", "values.toml"):
            (tmp_path / code / name).write_bytes((nlu.locale(lang).directory / name).read_bytes())
    local = Understander(languages=("en", "xx"), locales_dir=tmp_path)
    assert local.understand("quiero pagar mi factura", "xx").intent == "pay_bill"
    assert local.parse_value("amount", "cuatro mil", "xx") == 400000
    assert local.grammar_phrases("xx", "pin")
