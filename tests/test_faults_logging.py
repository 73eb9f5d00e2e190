"""Logging: commands that use the store write ``log_path`` (UTC ISO stamps, INFO); an unexpected
exception is one line on stderr naming the log, its traceback goes to the log with every run of
four or more digits masked; a dialogue fault is no traceback on the terminal."""
from __future__ import annotations

import logging
import re
import subprocess
import sys
import textwrap

from voice_agent.cli.logs import DigitMask
from voice_agent.redact import mask_digits

from fault_helpers import ROOT, no_traceback, voice_agent
from store_helpers import FAST_HASH_ARGS

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARNING|ERROR) ")

FAULTY = textwrap.dedent('''
    import sys
    import voice_agent.cli as cli
    build = cli.build_parser
    def boom(args, settings):
        {raise_line}
    def patched():
        parser = build()
        calls = parser._subparsers._group_actions[0].choices["calls"]
        calls._subparsers._group_actions[0].choices["list"].set_defaults(func=boom)
        return parser
    cli.build_parser = patched
    sys.exit(cli.main(sys.argv[1:]))
''')


def run_faulty(raise_line: str, *args: str) -> subprocess.CompletedProcess:
    """`voice-agent calls list` whose work is replaced by a fault (a bug we have not made yet)."""
    code = FAULTY.replace("{raise_line}", raise_line)
    return subprocess.run([sys.executable, "-c", code, "calls", "list", *args],
                          capture_output=True, text=True, cwd=str(ROOT), timeout=120)


def test_mask_digits_masks_runs_of_four_or_more():
    assert mask_digits("pin 7395, card 4111 1111-1111.1111, ssn 826 4") == \
        "pin ****, card **** ****-****.****, ssn *** *"
    assert mask_digits("call 12 at 3 pm, 120 dollars") == "call 12 at 3 pm, 120 dollars"


def test_digit_mask_filter_masks_message_args_and_traceback():
    record = logging.LogRecord("voice_agent.x", logging.ERROR, __file__, 1, "paid with %s", ("4111111111111111",), None)
    try:
        raise ValueError("pin 7395 refused")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert DigitMask().filter(record)
    assert record.getMessage() == "paid with ****************"
    assert "7395" not in record.exc_text and "pin **** refused" in record.exc_text


def test_unexpected_exception_is_one_line_and_the_traceback_goes_to_the_log(tmp_path):
    db = tmp_path / "agent.db"
    proc = run_faulty('raise ValueError("card 4111 1111 1111 1111, pin 7395")', "--db", str(db))
    text = no_traceback(proc)
    log_path = tmp_path / "agent.db.log"
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, text
    assert "unexpected error (ValueError" in proc.stderr and str(log_path) in proc.stderr, text
    assert "4111" not in text and "7395" not in text
    logged = log_path.read_text(encoding="utf-8")
    assert STAMP.match(logged) and "Traceback (most recent call last)" in logged, logged
    assert "ValueError: card **** **** **** ****, pin ****" in logged, logged
    assert "4111" not in logged and "7395" not in logged


def test_unwritable_log_does_not_hide_the_error(tmp_path):
    db = tmp_path / "agent.db"
    proc = run_faulty('raise RuntimeError("boom")', "--db", str(db),
                      "--set", f"log_path={tmp_path / 'no-such-dir' / 'agent.log'}")
    text = no_traceback(proc)
    assert proc.returncode == 1 and "RuntimeError: boom" in text and "could not be written" in text


def test_store_commands_write_the_log_and_others_do_not(tmp_path):
    db = tmp_path / "agent.db"
    assert voice_agent("db", "init", "--demo", "--db", str(db), *FAST_HASH_ARGS).returncode == 0
    assert voice_agent("calls", "list", "--db", str(db)).returncode == 0
    lines = (tmp_path / "agent.db.log").read_text(encoding="utf-8").splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "db finished with status 0", "calls finished with status 0"], lines
    assert all(STAMP.match(line) for line in lines), lines
    assert voice_agent("config", "show", "--db", str(tmp_path / "other.db")).returncode == 0
    assert not (tmp_path / "other.db.log").exists()


def test_a_command_without_the_store_logs_only_its_problems(tmp_path):
    db = tmp_path / "agent.db"
    code = FAULTY.replace("{raise_line}", 'raise KeyError("x")').replace('"calls"', '"models"')
    proc = subprocess.run([sys.executable, "-c", code, "models", "list", "--db", str(db)],
                          capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert proc.returncode == 1 and str(tmp_path / "agent.db.log") in proc.stderr, proc.stderr
    assert "KeyError" in (tmp_path / "agent.db.log").read_text(encoding="utf-8")
    assert voice_agent("models", "list", "--db", str(tmp_path / "b.db")).returncode == 0
    assert not (tmp_path / "b.db.log").exists()
