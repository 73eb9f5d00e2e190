"""`voice-agent chat` as a caller's script would use it, through the real command in a subprocess."""
import json
import subprocess
import sys

import pytest

from voice_agent.dialogue import EXPECTING

SCRIPTS = {
    "en": ["english", "i want to pay my bill", "dtmf:100200300#", "four three two one",
           "the full balance", "credit card",
           "four one one one one one one one one one one one one one one one",
           "twelve twenty nine", "yes", "no", "no thank you"],
    "es": ["español", "quiero pagar mi factura", "dtmf:200300400#", "dos cuatro seis ocho",
           "el saldo total", "tarjeta",
           "cuatro uno uno uno uno uno uno uno uno uno uno uno uno uno uno uno",
           "doce veintinueve", "sí", "no", "adiós"],
    "ko": ["한국어", "요금을 내고 싶어요", "dtmf:300400500#", "팔 육 사 이", "전액", "카드",
           "사 일 일 일 일 일 일 일 일 일 일 일 일 일 일 일", "십이 월 이십구 년", "네", "아니요",
           "안녕히 계세요"],
}
ACCOUNTS = {"en": ("100200300", 8420), "es": ("200300400", 15675), "ko": ("300400500", 14300)}
CARD = "4111111111111111"


def cli(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "voice_agent", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "chat.db"
    done = cli("db", "init", "--demo", "--db", str(path))
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.parametrize("lang", ["en", "es", "ko"])
def test_scripted_caller_pays_and_payments_list_shows_it(db, lang):
    done = cli("chat", "--db", str(db), "--json", stdin="\n".join(SCRIPTS[lang]) + "\n")
    assert done.returncode == 0, done.stderr
    turns = [json.loads(line) for line in done.stdout.splitlines()]
    for turn in turns:
        assert set(turn) >= {"say", "lang", "expecting", "state", "ended"}
        assert turn["expecting"] in EXPECTING
    assert turns[-1]["ended"] and turns[-1]["outcome"] == "paid"
    assert all("outcome" not in t for t in turns[:-1])
    assert turns[-1]["lang"] == lang
    assert CARD not in done.stdout
    number, cents = ACCOUNTS[lang]
    listed = cli("payments", "list", "--db", str(db), "--json")
    assert listed.returncode == 0, listed.stderr
    payments = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(p["account_number"], p["amount_cents"], p["fee_cents"], p["last4"], p["status"])
            for p in payments] == [(number, cents, 250, "1111", "approved")]
    # The transcript kept the turns, with the card entry redacted.
    assert CARD not in db.read_bytes().decode("latin-1")


def test_end_of_input_is_a_hang_up(db):
    done = cli("chat", "--db", str(db), "--json", "--lang", "en", stdin="pay my bill\n")
    turns = [json.loads(line) for line in done.stdout.splitlines()]
    assert turns[0]["expecting"] == "intent" and turns[1]["expecting"] == "account_number"
    assert turns[-1]["ended"] and turns[-1]["outcome"] == "abandoned"


def test_silence_and_keypad_lines(db):
    done = cli("chat", "--db", str(db), "--json", "--lang", "en", stdin="\n\n\n")
    turns = [json.loads(line) for line in done.stdout.splitlines()]
    assert [t["ended"] for t in turns] == [False, False, False, True]
    assert turns[-1]["outcome"] == "no_input"


def test_bad_keypad_line_is_reported_and_skipped(db):
    done = cli("chat", "--db", str(db), "--json", "--lang", "en",
               stdin="dtmf:12x\ndtmf:9\n")
    assert "keypad line" in done.stderr
    turns = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(turns) == 2 and turns[-1]["outcome"] == "completed"


def test_plain_text_output_and_today(db):
    done = cli("chat", "--db", str(db), "--lang", "es", "--today", "2026-11-25",
               stdin="adiós\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("agent: Gracias por llamar")
    assert "[call ended: completed]" in done.stdout


@pytest.mark.parametrize("args, message", [(["--lang", "fr"], "not enabled"),
                                           (["--today", "tomorrow"], "YYYY-MM-DD")])
def test_bad_options_get_a_clear_message(db, args, message):
    done = cli("chat", "--db", str(db), *args, stdin="")
    assert done.returncode == 2 and message in done.stderr


def test_interactive_terminal_session(db):
    """With a terminal on standard input the agent prompts the caller and reads typed lines."""
    import os
    import pty
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "voice_agent", "chat", "--db", str(db),
                             "--lang", "en"], stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    os.close(slave)
    try:
        os.write(master, b"what's my balance\ndtmf:100200300#\ndtmf:4321#\nno\ngoodbye\n")
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
    assert proc.returncode == 0, err
    assert "you> " in out and "agent: Thank you for calling" in out
    assert "$84.20" in out and "[call ended: completed]" in out


@pytest.mark.parametrize("account, pin, offers_two", [
    ("100200300", "4321", False),
    ("200300400", "2468", True),     # English was chosen: the account's Spanish is not offered
])
def test_keypad_offer_matches_the_amount_choices(db, account, pin, offers_two):
    """With nothing past due there is no key 2 for the past-due amount, spoken or keyed."""
    script = ["english", "pay my bill", f"dtmf:{account}#", f"dtmf:{pin}#", "purple", "purple"]
    done = cli("chat", "--db", str(db), "--json", stdin="\n".join(script) + "\n")
    turns = [json.loads(line) for line in done.stdout.splitlines()]
    keypad = next(t["say"] for t in turns if t["say"].startswith("Sorry") and "keypad" in t["say"])
    assert ("2 for the past-due amount" in keypad) == offers_two, keypad
    assert "press 1 for the full balance" in keypad


def test_a_line_of_thousands_of_digits_is_refused_and_the_call_goes_on(db):
    """It ended the call as `error` (issue 14, item 11): now the caller is told and asked again."""
    script = ["english", "i want to pay my bill", "4" * 5000, "dtmf:100200300#", "no thank you"]
    done = cli("chat", "--db", str(db), "--json", stdin="\n".join(script) + "\n")
    assert done.returncode == 0, done.stderr
    turns = [json.loads(line) for line in done.stdout.splitlines()]
    assert "too long" in turns[3]["say"] and turns[3]["expecting"] == "account_number"
    assert not turns[3]["ended"] and turns[4]["expecting"] == "pin"
    assert turns[-1]["outcome"] != "error" and "error" not in done.stderr
