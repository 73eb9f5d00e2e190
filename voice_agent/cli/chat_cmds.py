"""`voice-agent chat`: the call dialogue as text, for a terminal or a script.

Interactive when standard input is a terminal (an accessible channel for callers who cannot hear
or speak); scripted otherwise: one caller turn per line, `dtmf:KEYS` is keypad input - and so is
a line of nothing but digits, `*` and `#` (`1`, `4321#`), as someone typing a phone's keys means
it - an empty line is silence, the end of input is a hang-up. `--json` prints one JSON object
per agent turn: {"say", "lang", "expecting", "state", "ended"} and "outcome" on the last one.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TextIO

DTMF_KEYS = set("0123456789*#ABCD")
# A bare line of these is keypad input; the letter keys A-D need `dtmf:` ("a" is a word).
BARE_KEYS = set("0123456789*#")


def register(sub, common) -> None:
    p = sub.add_parser("chat", parents=[common], help="talk with the agent in text",
                       description=__doc__.splitlines()[0])
    p.add_argument("--lang", metavar="LANG", help="language of the call (skips the language menu)")
    p.add_argument("--caller-id", metavar="NUMBER", help="the caller's phone number")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="the date the dialogue takes as today")
    p.add_argument("--json", action="store_true", help="one JSON object per agent turn")
    p.set_defaults(func=run_chat)


def parse_line(line: str):
    """One script line as a caller event; raises ValueError for a malformed `dtmf:` line."""
    from voice_agent.dialogue import CallerEvent
    # Input bytes that are not UTF-8 arrive as lone surrogates; storing the turn would then crash
    # the call (sqlite cannot encode them), so they become U+FFFD here.
    text = line.encode("utf-8", "surrogatepass").decode("utf-8", "replace").rstrip("\r\n")
    if text.lower().startswith("dtmf:"):
        keys = text[5:].strip().upper().replace(" ", "")
        if not keys or not set(keys) <= DTMF_KEYS:
            raise ValueError(f"keypad line needs keys 0-9, *, #: {text!r}")
        return CallerEvent(dtmf=keys)
    if not text.strip():
        return CallerEvent()
    keys = text.replace(" ", "").replace("\t", "")
    if set(keys) <= BARE_KEYS:
        return CallerEvent(dtmf=keys)
    return CallerEvent(text=text.strip())


def _parse_today(value: str | None) -> dt.date | None:
    from voice_agent.cli import CliError
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CliError(f"--today needs a date as YYYY-MM-DD, got {value!r}") from None


def run_chat(args: argparse.Namespace, settings, stdin: TextIO | None = None,
             stdout: TextIO | None = None) -> int:
    from voice_agent.app import build
    from voice_agent.cli import CliError
    from voice_agent.dialogue import AgentTurn

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if args.lang is not None and args.lang not in settings.languages:
        raise CliError(f"--lang {args.lang!r} is not enabled (enabled: "
                       f"{', '.join(settings.languages)})")
    today = _parse_today(args.today)
    interactive = stdin.isatty() and not args.json

    def emit(turn: AgentTurn) -> None:
        if args.json:
            print(turn.to_json(), file=stdout, flush=True)
        else:
            print(f"agent: {turn.say}", file=stdout, flush=True)
            if turn.ended:
                print(f"[call ended: {turn.outcome}]", file=stdout, flush=True)

    services = build(settings)
    agent = services.agent
    try:
        session, turn = agent.start(lang=args.lang, caller_id=args.caller_id, today=today,
                                    channel="text")
        emit(turn)
        while not turn.ended:
            if interactive:
                try:
                    line = input("you> ") + "\n"
                except EOFError:
                    line = ""
            else:
                line = stdin.readline()
            if line == "":  # end of input: the caller hung up
                agent.hangup(session)
                emit(AgentTurn(say="", lang=session.lang, expecting="none", state=session.state,
                               ended=True, outcome=session.outcome, slow=session.slow))
                break
            try:
                event = parse_line(line)
            except ValueError as exc:
                print(f"voice-agent: {exc} (line ignored)", file=sys.stderr, flush=True)
                continue
            turn = agent.step(session, event)
            emit(turn)
    finally:
        # Interrupted (Ctrl-C) or failed mid-call: the call record is still closed as a hang-up.
        if "session" in locals() and not session.ended:
            agent.hangup(session)
        services.close()
    return 0
