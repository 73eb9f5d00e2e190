"""Issue 14 items 1-3: secrets given where none is expected reach no file the product writes.

1. A card number or a full SSN given as the account number (at the account prompt, or in the
   opening sentence, which fills it) and failing verification: kept only masked with a keyed
   hash in `audit_log`, `verification_failures` and `lockouts`.
2. Keys entered where no secret is expected (a card number keyed at the menu, an expiry keyed at
   the method question): masked in the captions of `voice-agent call` and in transcript.json.
3. Free text (a dispute reason) with a PIN in it, in numerals or number words: stored masked and
   not read back.

Everything runs through the CLI in child processes (``test_leaks_calls.Product``); then every
file under the product's folder (database, WAL, SHM, log, transcript, captions printed, the
settlement file) is scanned for the secrets as plain, spaced and spoken digits.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from test_leaks_calls import ACCOUNTS, PIN, SSN_B, Product, keyed_turns, spoken

from voice_helpers import needs_espeak

CARD_AS_ACCOUNT = "4012888888881881"     # Visa test number (Luhn ok): its last four may show
SSN_AS_ACCOUNT = "219099999"             # a full SSN said at the account prompt
SSN_IN_OPENING = "078051120"             # ... or in the opening sentence
CARD_AT_MENU = "378282246310005"         # Amex test number keyed at the main menu
EXPIRY_AT_METHOD = "0931"                # an expiry keyed at the payment-method question
PIN_IN_REASON = "8052"                   # a PIN in the words of a dispute reason


def _alone(text: str) -> bytes:
    return rb"(?<![0-9A-Za-z])" + re.escape(text.encode()) + rb"(?![0-9A-Za-z])"


def _forms(digits: str, keep_last4: bool) -> list[bytes]:
    """The secret as digits, spaced digits and words; a card's last four alone may show."""
    shown = digits[:-4] if keep_last4 else digits
    forms = [re.escape(shown.encode()), re.escape(" ".join(shown).encode()),
             re.escape(spoken(shown).encode())]
    return [_alone(shown) if len(shown) <= 5 else forms[0], *forms[1:]]


SECRETS = {
    "card as account": _forms(CARD_AS_ACCOUNT, keep_last4=True),
    "ssn as account": _forms(SSN_AS_ACCOUNT, keep_last4=False) + [_alone(SSN_AS_ACCOUNT[:5])],
    "ssn in opening": _forms(SSN_IN_OPENING, keep_last4=False) + [_alone(SSN_IN_OPENING[:5])],
    "card at menu": _forms(CARD_AT_MENU, keep_last4=True),
    "expiry at method": _forms(EXPIRY_AT_METHOD, keep_last4=False) + [re.escape(b"09/31")],
    "pin in reason": _forms(PIN_IN_REASON, keep_last4=False),
}


def scan(root: Path) -> list[tuple[str, str, bytes]]:
    """(file, secret, what is around it) for every secret found in a file under ``root``."""
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for name, forms in SECRETS.items():
            m = re.search(b"|".join(forms), data)
            if m:
                hits.append((str(path.relative_to(root)), name,
                             data[max(0, m.start() - 40): m.end() + 40]))
    return hits


def _product(tmp_path: Path) -> Product:
    p = Product(tmp_path)
    (p.inputs / "accounts.json").write_text(json.dumps(ACCOUNTS), encoding="utf-8")
    p.run("db", "init")
    p.run("db", "import", str(p.inputs / "accounts.json"))
    return p


def _stored_numbers(db: Path) -> list[str]:
    import sqlite3
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute(
            "SELECT account_number FROM audit_log WHERE account_number IS NOT NULL"
            " UNION ALL SELECT account_number FROM verification_failures")]


def test_unverified_numbers_and_free_text_leave_no_secret_in_any_file(tmp_path):
    p = _product(tmp_path)
    # 1. A card number, then a full SSN (keyed and spoken) at the account prompt: both fail.
    turns = p.chat(["pay my bill", CARD_AS_ACCOUNT, f"dtmf:{PIN}#",
                    spoken(SSN_AS_ACCOUNT), f"dtmf:{PIN}#", f"dtmf:{SSN_AS_ACCOUNT}#",
                    f"dtmf:{PIN}#", "goodbye"])
    assert turns[-1]["outcome"] == "verification_failed", turns[-2:]
    # ... and an SSN in the opening sentence, which fills the account number.
    turns = p.chat([f"pay my bill for account {SSN_IN_OPENING}", f"dtmf:{PIN}#",
                    "goodbye"])
    assert turns[1]["expecting"] == "pin", turns[1]          # the number was taken from it
    # 3. A PIN in a dispute reason, in number words and in numerals.
    confirms = []
    for verify, reason in ((["dtmf:911000111#", f"dtmf:{PIN}#"],
                            f"someone used my pin {spoken(PIN_IN_REASON)}"),
                           (["dtmf:911000222#", "dtmf:29731#", f"dtmf:{SSN_B}#"],
                            f"someone used my pin {PIN_IN_REASON}")):
        turns = p.chat(["dispute a charge", *verify, "service", reason, "yes", "goodbye"])
        assert turns[-1]["outcome"] == "completed", turns[-3:]
        confirms.append(next(t["say"] for t in turns if t["state"] == "dispute.confirm"))
    # Staff reads and the settlement file are product output too.
    for c in [json.loads(line) for line in p.run("calls", "list", "--json").stdout.splitlines()]:
        p.run("calls", "show", str(c["id"]))
    p.run("audit", "verify")
    p.run("settlement", "export", "--out", str(p.dir / "exports" / "batch-1.bin"))

    assert scan(p.dir) == []
    assert all("because of what you told me" in say for say in confirms), confirms
    stored = _stored_numbers(p.dir / "agent.db")
    assert "************1881" in " ".join(stored)           # the masked form, a card's last four
    assert all("#" in s or s in ("911000111", "911000222") for s in stored), stored
    # The scan finds these secrets where they really are: the chat scripts we typed.
    found = {name for _, name, _ in scan(p.inputs)}
    assert {"card as account", "ssn as account", "ssn in opening", "pin in reason"} <= found


@needs_espeak
def test_keys_where_no_secret_is_expected_are_masked_in_captions_and_transcript(tmp_path):
    p = _product(tmp_path)
    # 2. A card number keyed at the menu, an expiry keyed at the method question, then a
    #    payment by the account's saved details (the read-back and "accepted" show it went on).
    wavs = keyed_turns(p.inputs, [f"{CARD_AT_MENU}#", "2", "911000111#", f"{PIN}#", "3",
                                  "2000#", f"{EXPIRY_AT_METHOD}#", "1", "5105105105105100#",
                                  "1230#", "1", "2"])
    proc = p.run("call", *wavs, "--lang", "en", "--out-dir", str(p.dir / "call-out"))
    assert scan(p.dir) == []
    transcript = json.loads((p.dir / "call-out" / "transcript.json").read_text())
    keyed = [t["dtmf"] for t in transcript["turns"] if t.get("dtmf")]
    assert "***********0005#" in keyed and "****#" in keyed, keyed
    assert "[keys] ***********0005#" in proc.stdout and "[keys] ****#" in proc.stdout
    assert transcript["outcome"] == "paid", transcript["turns"][-2:]
