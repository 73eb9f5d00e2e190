"""Staff work queues: `voice-agent cases list|show|resolve|done|cancel`.

What callers asked for (disputes, callback requests, service tickets, payment arrangements) is
listed and closed here; the store does the work (store/queues.py), in one audited transaction per
action. Who acts is ``--by NAME``, else the operating-system user running the command.
"""
from __future__ import annotations

import argparse
import getpass
import json
import re

from voice_agent.cli import CliError
from voice_agent.cli.store_cmds import money, open_store
from voice_agent.settings import Settings

KINDS = ("dispute", "callback", "ticket", "arrangement")
STATUSES = ("open", "closed", "requested", "done", "resolved", "active", "completed", "cancelled")
OUTCOMES = ("credited", "upheld", "withdrawn")
AMOUNT = re.compile(r"^\$?(\d{1,7})(?:\.(\d{2}))?$", re.ASCII)


def register(sub, common: argparse.ArgumentParser) -> None:
    cases = sub.add_parser("cases", help="work queues: disputes, callbacks, tickets, arrangements")
    cases_sub = cases.add_subparsers(dest="cases_command", metavar="ACTION", required=True)
    p = cases_sub.add_parser("list", parents=[common], help="list cases, newest first (audited)")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--status", choices=STATUSES,
                   help="a kind's own status, or open / closed for any kind")
    p.add_argument("--account", metavar="NUMBER")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_cases_list)
    p = cases_sub.add_parser("show", parents=[common], help="one case by its reference")
    p.add_argument("reference", metavar="REF")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cases_show)

    by = argparse.ArgumentParser(add_help=False)
    by.add_argument("--by", metavar="NAME", help="who takes the action (default: the OS user)")
    p = cases_sub.add_parser("resolve", parents=[common, by], help="resolve a dispute")
    p.add_argument("reference", metavar="REF")
    p.add_argument("--outcome", choices=OUTCOMES, required=True,
                   help="credited: the amount comes off the balance; upheld: the charge stands;"
                        " withdrawn: the caller withdrew it")
    p.add_argument("--credit", metavar="AMOUNT",
                   help="with credited: a part of the disputed amount, e.g. 7.50 (default: all)")
    p.set_defaults(func=cmd_cases_resolve)
    p = cases_sub.add_parser("done", parents=[common, by], help="a callback made, a ticket worked")
    p.add_argument("reference", metavar="REF")
    p.set_defaults(func=cmd_cases_done)
    p = cases_sub.add_parser("cancel", parents=[common, by],
                             help="cancel an arrangement and its scheduled installments")
    p.add_argument("reference", metavar="REF")
    p.set_defaults(func=cmd_cases_cancel)


def actor(args: argparse.Namespace) -> str:
    """Who acts: ``--by``, else the OS user (never empty: the audit names someone)."""
    name = (args.by or "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):            # no passwd entry and no LOGNAME/USER (a container)
        raise CliError("cannot tell who you are: give --by NAME") from None


def cents_of(text: str) -> int:
    match = AMOUNT.match(text.strip().replace(",", ""))
    if not match:
        raise CliError(f"--credit must be an amount such as 7.50, got {text!r}")
    return int(match.group(1)) * 100 + int(match.group(2) or 0)


def _store_call(fn):
    """Run a store action, turning its refusal into one line for staff."""
    from voice_agent.store import StoreError
    try:
        return fn()
    except StoreError as exc:
        raise CliError(str(exc), status=1) from None


def cmd_cases_list(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        cases = store.cases(kind=args.kind, status=args.status, account=args.account,
                            reader="staff-cli")
    if args.json:
        for case in cases:
            print(json.dumps(case, ensure_ascii=False))
        return 0
    if not cases:
        print("no cases")
        return 0
    print(f"{'REFERENCE':<10} {'KIND':<12} {'STATUS':<10} {'ACCOUNT':<10} {'AGE':>4}"
          f" {'CREATED (UTC)':<26} DETAILS")
    for case in cases:
        age = "-" if case["age_days"] is None else f"{case['age_days']}d"
        print(f"{case['reference']:<10} {case['kind']:<12} {case['status']:<10}"
              f" {case['account_number'] or '-':<10} {age:>4} {case['created_at']:<26}"
              f" {details(case)}")
    return 0


def details(case: dict) -> str:
    """One line of what the case is about (no secrets are stored in a case)."""
    kind = case["kind"]
    if kind == "dispute":
        text = f"charge {case['charge_id']} {money(case['amount_cents'])}"
        if case["outcome"]:
            text += f", {case['outcome']}"
            if case["credit_cents"]:
                text += f" {money(case['credit_cents'])}"
        return text
    if kind == "callback":
        return f"call {case['phone']} in the {case['window']}"
    if kind == "ticket":
        return case["ticket_kind"]
    scheduled = sum(1 for p in case["installments"] if p["status"] == "scheduled")
    return (f"{len(case['installments'])} installments, {money(case['total_cents'])},"
            f" {scheduled} scheduled")


def print_case(case: dict) -> None:
    print(f"{case['reference']}  {case['kind']}  {case['status']}"
          f"  account {case['account_number'] or '-'}  created {case['created_at']}"
          f"  call {case['call_id'] or '-'}")
    print(f"  {details(case)}")
    if case["kind"] in ("dispute", "callback") and case.get("reason"):
        print(f"  reason: {case['reason']}")
    if case["kind"] == "ticket" and case["note"]:
        print(f"  note: {case['note']}")
    for p in case.get("installments", []):
        print(f"  {p['confirmation']}  {money(p['amount_cents'])}  {p['status']:<10}"
              f"  {p['scheduled_for'] or p['created_at']}")
    if case["closed_at"]:
        print(f"  closed {case['closed_at']} by {case['closed_by']}")


def _show(case: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(case, ensure_ascii=False))
    else:
        print_case(case)


def cmd_cases_show(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        case = store.case(args.reference)
    if case is None:
        raise CliError(f"no case {args.reference}", status=1)
    _show(case, args.json)
    return 0


def cmd_cases_resolve(args: argparse.Namespace, settings: Settings) -> int:
    credit = cents_of(args.credit) if args.credit is not None else None
    if credit is not None and args.outcome != "credited":
        raise CliError("--credit goes with --outcome credited")
    by = actor(args)
    with open_store(settings) as store:
        case = _store_call(lambda: store.resolve_dispute(args.reference, args.outcome, by=by,
                                                         credit_cents=credit))
    print(f"{case['reference']} resolved: {case['outcome']}"
          + (f", {money(case['credit_cents'])} credited to account {case['account_number']}"
             if case["credit_cents"] else "") + f" (by {by})")
    return 0


def cmd_cases_done(args: argparse.Namespace, settings: Settings) -> int:
    by = actor(args)
    with open_store(settings) as store:
        case = _store_call(lambda: store.mark_done(args.reference, by=by))
    print(f"{case['reference']} ({case['kind']}) done (by {by})")
    return 0


def cmd_cases_cancel(args: argparse.Namespace, settings: Settings) -> int:
    by = actor(args)
    with open_store(settings) as store:
        case = _store_call(lambda: store.cancel_arrangement(args.reference, by=by))
    cancelled = sum(1 for p in case["installments"] if p["status"] == "cancelled")
    print(f"{case['reference']} cancelled with {cancelled} scheduled installment(s) (by {by})")
    return 0
