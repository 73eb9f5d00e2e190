"""After real calls with card, bank, PIN and SSN entry, no file the product wrote holds the digits.

Everything runs through the CLI in child processes, as a user would: `db import`, text calls with
`chat` (keypad and spoken digits, a wrong PIN, a call killed at the confirm step so the WAL is
left behind), a recorded voice `call` keyed with DTMF tones, then the staff commands (`calls
show`, `payments list`, `audit verify`, `settlement export`). The product's working directory,
database, log, TTS cache, call output and everything it printed (stdout and stderr, saved to
files) are scanned for the secrets as plain digits, spaced digits, grouped digits and words.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from fault_helpers import voice_agent

CARD = "5105105105105100"          # Mastercard test number (Luhn ok); last four may be shown
BANK_ACCOUNT = "987654321012"
ROUTING = "011000015"
PIN, WRONG_PIN = "7395", "1593"
SSN_A, SSN_B = "8264", "6817"
EXPIRY = "1230"
WORDS = "zero one two three four five six seven eight nine".split()

ACCOUNTS = {"accounts": [
    {"account_number": "911000111", "name": "Leak Alpha", "service_address": "1 A St",
     "zip": "29730", "phone": "+18035550111", "pin": PIN, "ssn_last4": SSN_A, "language": "en",
     "status": "active", "balance_cents": 12345, "past_due_cents": 0, "due_date": "2030-12-20",
     "charges": [{"id": "c1", "date": "2026-11-01", "description": "Service",
                  "amount_cents": 12345}]},
    {"account_number": "911000222", "name": "Leak Beta", "service_address": "2 B St",
     "zip": "29731", "phone": "+18035550222", "ssn_last4": SSN_B, "language": "en",
     "status": "active", "balance_cents": 6789, "past_due_cents": 0, "due_date": "2030-12-20",
     "charges": [{"id": "c1", "date": "2026-11-01", "description": "Service",
                  "amount_cents": 6789}]},
]}


def spoken(digits: str) -> str:
    return " ".join(WORDS[int(d)] for d in digits)


def patterns() -> dict[str, re.Pattern]:
    """Each secret in the forms it could be written in. Short ones must stand alone (not inside
    a longer run of letters and digits, as in a hex digest)."""
    def alone(text: str) -> bytes:
        return rb"(?<![0-9A-Za-z])" + re.escape(text.encode()) + rb"(?![0-9A-Za-z])"
    found: dict[str, list[bytes]] = {
        "card": [re.escape(CARD[:12].encode()), re.escape(" ".join(CARD[:12]).encode()),
                 re.escape(" ".join(CARD[i:i + 4] for i in range(0, 12, 4)).encode()),
                 re.escape(spoken(CARD[:12]).encode())],
        "bank account": [re.escape(BANK_ACCOUNT[:8].encode()),
                         re.escape(" ".join(BANK_ACCOUNT[:8]).encode()),
                         re.escape(spoken(BANK_ACCOUNT[:8]).encode())],
        "routing": [re.escape(ROUTING.encode()), re.escape(spoken(ROUTING).encode())],
        "expiry": [alone(EXPIRY), re.escape(b"12/30")],
    }
    for name, value in (("pin", PIN), ("wrong pin", WRONG_PIN), ("ssn", SSN_A), ("ssn", SSN_B)):
        found.setdefault(name, []).extend(
            [alone(value), re.escape(" ".join(value).encode()), re.escape(spoken(value).encode())])
    return {name: re.compile(b"|".join(forms)) for name, forms in found.items()}


def scan(root: Path) -> list[str]:
    hits = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            for name, pattern in patterns().items():
                m = pattern.search(data)
                if m:
                    around = data[max(0, m.start() - 40): m.end() + 40]
                    hits.append(f"{path.relative_to(root)}: {name} {around!r}")
    return hits


class Product:
    """The CLI with one settings file; all it writes and prints lands under ``self.dir``."""

    def __init__(self, tmp: Path):
        self.dir = tmp / "product"
        self.inputs = tmp / "inputs"
        self.dir.mkdir()
        self.inputs.mkdir()
        self.config = self.inputs / "settings.toml"
        self.config.write_text(
            f"database = {json.dumps(str(self.dir / 'agent.db'))}\n"
            f"log_path = {json.dumps(str(self.dir / 'agent.log'))}\n"
            "password_hash = { n = 256, r = 8, p = 1 }\n", encoding="utf-8")
        self.env = {"XDG_CACHE_HOME": str(self.dir / "cache"), "HOME": str(self.dir / "home")}
        self.runs = 0

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        proc = voice_agent(*args, "--config", str(self.config), cwd=self.dir, env=self.env,
                           stdin=stdin)
        self.keep(proc.stdout, proc.stderr, args[0])
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc

    def keep(self, out: str, err: str, name: str) -> None:
        """What the product printed is product output too: keep it for the scan."""
        self.runs += 1
        logs = self.dir / "printed"
        logs.mkdir(exist_ok=True)
        (logs / f"{self.runs:02d}-{name}.stdout").write_text(out, encoding="utf-8")
        (logs / f"{self.runs:02d}-{name}.stderr").write_text(err, encoding="utf-8")

    def chat(self, lines: list[str]) -> list[dict]:
        script = "\n".join(lines) + "\n"
        (self.inputs / f"chat-{self.runs}.txt").write_text(script, encoding="utf-8")
        proc = self.run("chat", "--lang", "en", "--json", stdin=script)
        return [json.loads(line) for line in proc.stdout.splitlines()]

    def chat_killed_at_confirm(self, lines: list[str]) -> dict:
        """A call whose process dies (SIGKILL) while the card is in memory at the read-back."""
        (self.inputs / "chat-killed.txt").write_text("\n".join(lines), encoding="utf-8")
        proc = subprocess.Popen([sys.executable, "-m", "voice_agent", "chat", "--lang", "en",
                                 "--json", "--config", str(self.config)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.dir,
                                env={**os.environ, **self.env})
        turn = json.loads(proc.stdout.readline())
        for line in lines:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            turn = json.loads(proc.stdout.readline())
            if turn["expecting"] == "confirm":
                break
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        self.keep(out, err, "chat-killed")
        return turn


def keyed_turns(folder: Path, keys: list[str]) -> list[str]:
    from voice_agent.voice import dtmf
    from voice_agent.voice.audio import silence, write_wav
    paths = []
    for i, k in enumerate(keys):
        path = folder / f"turn{i:02d}.wav"
        write_wav(path, silence(0.3, 16000) + dtmf.generate(k, 16000) + silence(0.6, 16000), 16000)
        paths.append(str(path))
    return paths


def test_calls_leave_no_secret_digits_in_any_file(tmp_path):
    p = Product(tmp_path)
    (p.inputs / "accounts.json").write_text(json.dumps(ACCOUNTS), encoding="utf-8")
    p.run("db", "init")
    p.run("db", "import", str(p.inputs / "accounts.json"))

    # Keypad entry, card.
    turns = p.chat(["pay my bill", "dtmf:911000111#", f"dtmf:{PIN}#", "other amount", "fifty dollars", "card",
                    f"dtmf:{CARD}#", f"dtmf:{EXPIRY}#", "yes", "no", "goodbye"])
    assert turns[-1]["outcome"] == "paid", turns[-3:]
    # Spoken entry, ZIP and SSN, bank account.
    turns = p.chat(["pay my bill", spoken("911000222"), spoken("29731"), spoken(SSN_B),
                    "full balance", "bank account", spoken(ROUTING), spoken(BANK_ACCOUNT),
                    "yes", "no"])
    assert turns[-1]["outcome"] == "paid", turns[-3:]
    # A wrong PIN first, then a spoken card number; the call dies at the read-back.
    turn = p.chat_killed_at_confirm(
        ["pay my bill", spoken("911000111"), spoken(WRONG_PIN), spoken("911000111"), spoken(PIN),
         "other amount",
         "twenty dollars", "card", spoken(CARD), "december thirty"])
    assert turn["expecting"] == "confirm", turn
    # Killed with the database open: the WAL and what it holds are scanned as they were left.
    assert (p.dir / "agent.db-wal").exists()
    assert scan(p.dir) == []

    # A recorded voice call keyed with DTMF tones: SSN verification, then a card payment.
    wavs = keyed_turns(p.inputs, ["2", "911000111#", f"{PIN}#", "3", "2000#", "1", f"{CARD}#",
                                  f"{EXPIRY}#", "1", "2"])
    p.run("call", *wavs, "--lang", "en", "--out-dir", str(p.dir / "call-out"))
    transcript = json.loads((p.dir / "call-out" / "transcript.json").read_text())
    assert "accepted" in transcript["turns"][-2]["reply"], transcript["turns"][-2:]

    # Staff reads and the settlement batch.
    calls = [json.loads(line) for line in p.run("calls", "list", "--json").stdout.splitlines()]
    assert len(calls) == 4 and calls[0]["channel"] == "voice" and calls[0]["outcome"] == "paid"
    for c in calls:
        p.run("calls", "show", str(c["id"]), "--json")
    p.run("payments", "list", "--json")
    p.run("audit", "verify")
    p.run("settlement", "export", "--out", str(p.dir / "exports" / "batch-1.bin"))

    assert scan(p.dir) == []
    # The log was really written (one line per command, UTC stamps), so its scan means something.
    logged = (p.dir / "agent.log").read_text(encoding="utf-8").splitlines()
    assert any(line.endswith("chat finished with status 0") for line in logged), logged[-5:]
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ", line) for line in logged
               if not line.startswith(("Traceback", " ", "\t"))), logged
    # The scan finds these secrets where they really are (our own input scripts and WAV names
    # aside): every kind of secret was typed into the calls above.
    found_in_inputs = {hit.split(": ", 1)[1].split(" ")[0] for hit in scan(p.inputs)}
    assert {"card", "bank", "routing", "pin", "wrong", "ssn", "expiry"} <= found_in_inputs


def test_secrets_volunteered_out_of_turn_are_not_stored(tmp_path):
    p = Product(tmp_path)
    (p.inputs / "accounts.json").write_text(json.dumps(ACCOUNTS), encoding="utf-8")
    p.run("db", "init")
    p.run("db", "import", str(p.inputs / "accounts.json"))
    p.chat([f"my pin is {PIN} and my social is {spoken(SSN_A)}", "dtmf:911000111#",
            f"pay with card {CARD}"])
    assert scan(p.dir) == []
