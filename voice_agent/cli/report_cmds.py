"""`voice-agent report`: the operations report as one self-contained HTML file, or its figures
as JSON (the same numbers; voice_agent.store.report computes them, voice_agent.report draws)."""
from __future__ import annotations

import argparse
import json
import os
from datetime import date
from pathlib import Path

from voice_agent.cli import CliError
from voice_agent.cli.store_cmds import open_store
from voice_agent.settings import Settings


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("report", parents=[common],
                       help="operations report: calls, containment, funnel, misses, payments")
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day (UTC)")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (UTC), included")
    p.add_argument("--out", metavar="FILE.html", help="write the HTML report here")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.set_defaults(func=cmd_report)


def _day(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{flag} must be a date YYYY-MM-DD, got {text!r}") from None


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    if not args.out and not args.json:
        raise CliError("give --out FILE.html, --json, or both")
    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    if start and end and start > end:
        raise CliError("--from is after --to")
    from voice_agent.store.report import figures
    audio = settings["audio"]
    with open_store(settings) as store, store.tx.read() as db:
        data = figures(db, start=start, end=end, confirm=float(audio["confidence_confirm"]),
                       accept=float(audio["confidence_accept"]))
    if args.out:
        from voice_agent.report import render_html
        out = Path(args.out)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(render_html(data), encoding="utf-8")
        os.replace(tmp, out)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(f"report of {data['calls']['total']} calls written to {args.out}")
    return 0
