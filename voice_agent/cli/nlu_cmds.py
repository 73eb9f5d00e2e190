"""`voice-agent understand`: one utterance per input line in, one JSON object per line out.

What it prints is masked as a stored caller turn is (voice_agent/redact.py): a PIN, card or
account number can be said at any step, so the text never shows a run of four or more digits,
in numerals or words, and a value keeps only what the value's kind may show (a PIN nothing).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from voice_agent.expect import EXPECTATIONS, is_secret
from voice_agent.redact import mask_caller_turn, redact_entry
from voice_agent.settings import Settings

VALUE_KINDS = ("digits", "amount", "date", "expiry", "yes_no", "language", "number")


def register(sub, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "understand", parents=[common],
        help="intent and values of utterances read from standard input, one per line")
    parser.add_argument("--lang", required=True, help="language code (e.g. en, es, ko)")
    parser.add_argument("--expect", choices=VALUE_KINDS, default=None,
                        help="parse a value of this kind")
    parser.add_argument("--today", default=None, metavar="YYYY-MM-DD",
                        help="the date relative dates count from (default: today)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line (the default output; kept for scripts)")
    parser.set_defaults(func=cmd_understand)


def cmd_understand(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.cli import CliError
    from voice_agent.nlu import LocaleError, Understander

    today = None
    if args.today:
        try:
            today = dt.date.fromisoformat(args.today)
        except ValueError:
            raise CliError(f"--today {args.today!r} is not a date (YYYY-MM-DD)") from None
    languages = tuple(settings.languages) if hasattr(settings, "languages") else (args.lang,)
    if args.lang not in languages:
        raise CliError(f"--lang {args.lang!r} is not a configured language "
                       f"({', '.join(languages)})")
    try:
        nlu = Understander(languages=languages)
    except (LocaleError, OSError) as exc:
        raise CliError(f"cannot load language data: {exc}") from None
    for raw in sys.stdin.buffer:
        # bytes that are not UTF-8 become U+FFFD rather than ending the run
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        result = nlu.understand(text, args.lang, expect=args.expect, today=today).to_json()
        result["text"] = mask_caller_turn(text, args.lang, languages)
        result["value"] = shown(result["value"], args.expect, args.lang)
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


def shown(value: Any, name: str | None, lang: str) -> Any:
    """A value as it may be printed: a number string (digits, an account number, a PIN said
    with a request) or a secret (an expiry) masked by what it answers (`redact_entry`: a PIN or
    an expiry wholly, any other run of four or more digits as a stored turn), the values of a
    request each by its own name."""
    if isinstance(value, dict):
        return {key: shown(val, key, lang) for key, val in value.items()}
    asked = [e.name for e in EXPECTATIONS.values() if e.kind == name]
    if len(asked) == 1:
        name = asked[0]        # the one question a kind answers: --expect expiry is a card's
    if isinstance(value, str) and (value.isdigit() or is_secret(name)):
        return redact_entry(value, name, lang)
    return value
