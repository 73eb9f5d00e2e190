"""Staff commands over the store: db, payments, calls, audit, settlement.

Every subcommand takes the common options (``--db PATH``, ``--config``, ``--set``) after its name.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from voice_agent.cli import CliError
from voice_agent.settings import Settings

PAYMENT_STATUSES = ("approved", "scheduled", "cancelled", "failed")


def register(sub, common: argparse.ArgumentParser) -> None:
    db = sub.add_parser("db", help="create the database, load accounts")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = db_sub.add_parser("init", parents=[common], help="create (or migrate) the database")
    p.add_argument("--demo", action="store_true", help="add the demo accounts (see README)")
    p.set_defaults(func=cmd_db_init)
    p = db_sub.add_parser("import", parents=[common],
                          help="upsert accounts from a billing export (JSON)")
    p.add_argument("file", metavar="FILE.json")
    p.set_defaults(func=cmd_db_import)

    pay = sub.add_parser("payments", help="list payments, post scheduled ones")
    pay_sub = pay.add_subparsers(dest="payments_command", metavar="ACTION", required=True)
    p = pay_sub.add_parser("list", parents=[common], help="list payments (audited)")
    p.add_argument("--account", metavar="NUMBER")
    p.add_argument("--status", choices=PAYMENT_STATUSES)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_payments_list)
    p = pay_sub.add_parser("run-scheduled", parents=[common],
                           help="post the scheduled payments that are due, each exactly once")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="the business day (default: today, UTC)")
    p.set_defaults(func=cmd_run_scheduled)

    calls = sub.add_parser("calls", help="call records and their (redacted) transcripts")
    calls_sub = calls.add_subparsers(dest="calls_command", metavar="ACTION", required=True)
    p = calls_sub.add_parser("list", parents=[common], help="the newest calls")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_calls_list)
    p = calls_sub.add_parser("show", parents=[common], help="one call with its turns")
    p.add_argument("call_id", metavar="ID", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_calls_show)

    audit = sub.add_parser("audit", help="the hash-chained audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = audit_sub.add_parser("verify", parents=[common],
                             help="recompute the chain and check the checkpoint file")
    p.add_argument("--recorded", metavar="NUMBER:HASH",
                   help="also check an entry against the hash written down outside the machine"
                        " (the `newest entry` line of an earlier run, or a settlement file's)")
    p.set_defaults(func=cmd_audit_verify)

    settle = sub.add_parser("settlement", help="store-and-forward batches for the processor")
    settle_sub = settle.add_subparsers(dest="settlement_command", metavar="ACTION", required=True)
    p = settle_sub.add_parser("export", parents=[common],
                              help="write the pending batch (encrypted), then destroy its vault"
                                   " entries")
    p.add_argument("--out", metavar="FILE", required=True)
    p.set_defaults(func=cmd_settlement_export)


def open_store(settings: Settings, *, create: bool = False):
    """The store of ``settings``. Only `db init` (``create``) makes a new database; every other
    command, `db import` too, refuses a missing one, naming the path and `db init`: a mistyped
    ``--db`` must not report success over a new empty store with new keys."""
    from voice_agent.store import Store, StoreError
    try:
        return Store.open(settings, create=create)
    except StoreError:
        raise                 # its message names the database and what to do (one line, main)
    except Exception as exc:  # a path that cannot be opened, a file that is not a database
        raise CliError(f"cannot open the database {settings.database}: {exc}") from None


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def cmd_db_init(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings, create=True) as store:
        if args.demo:
            store.install_demo()
            print(f"{settings.database}: ready, demo accounts loaded"
                  " (100200300, 200300400, 300400500, 400500600)")
        else:
            print(f"{settings.database}: ready")
    return 0


def cmd_db_import(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.store import ImportError_
    from voice_agent.store.importer import loads
    path = Path(args.file)
    try:
        data = loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(f"{path}: not valid JSON ({exc}); nothing was imported") from None
    from voice_agent.cli.progress import ProgressBar
    bar = ProgressBar("hashing PINs and SSN digits")
    with open_store(settings) as store:
        try:
            report = store.import_accounts(data, progress=bar)
        except ImportError_ as exc:
            raise CliError(f"{path}: {exc}; nothing was imported") from None
        finally:
            bar.close()
    print(f"imported {report.accounts} accounts ({report.created} new, {report.updated} updated,"
          f" {report.unchanged} unchanged), {report.charges} charges in {report.seconds:.1f} s")
    return 0


def cmd_payments_list(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        payments = store.payments(account=args.account, status=args.status, reader="staff-cli")
    if args.json:
        for p in payments:
            print(json.dumps(p.to_json(), ensure_ascii=False))
        return 0
    print_payments(payments)
    return 0


def print_payments(payments) -> None:
    """The staff table of payments (`payments list`, and the demo's closing list)."""
    if not payments:
        print("no payments")
        return
    print(f"{'CONFIRM':<9} {'ACCOUNT':<10} {'AMOUNT':>10} {'FEE':>7} {'METHOD':<24} {'STATUS':<10}"
          f" {'CREATED (UTC)':<26} SCHEDULED")
    for p in payments:
        method = f"{p.brand or p.bank or p.method} ****{p.last4}"
        print(f"{p.confirmation:<9} {p.account_number:<10} {money(p.amount_cents):>10}"
              f" {money(p.fee_cents):>7} {method:<24} {p.status:<10} {p.created_at:<26}"
              f" {p.scheduled_for.isoformat() if p.scheduled_for else '-'}")


def cmd_run_scheduled(args: argparse.Namespace, settings: Settings) -> int:
    try:
        today = date.fromisoformat(args.today) if args.today else None
    except ValueError:
        raise CliError(f"--today must be a date YYYY-MM-DD, got {args.today!r}") from None
    with open_store(settings) as store:
        from voice_agent.store.db import utcnow
        posted = store.run_scheduled(today or utcnow().date())
    for p in posted:
        print(f"posted {p.confirmation} {p.account_number} {money(p.amount_cents)}"
              f" (scheduled for {p.scheduled_for})")
    print(f"{len(posted)} scheduled payment(s) posted")
    return 0


def cmd_calls_list(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        calls = store.calls(limit=args.limit)
    if args.json:
        for c in calls:
            print(json.dumps({**c, "turns": len(c["turns"])}, ensure_ascii=False))
        return 0
    if not calls:
        print("no calls")
        return 0
    print(f"{'ID':>5} {'STARTED (UTC)':<26} {'CHANNEL':<8} {'LANG':<5} {'ACCOUNT':<10}"
          f" {'TURNS':>5} OUTCOME")
    for c in calls:
        print(f"{c['id']:>5} {c['started_at']:<26} {c['channel']:<8} {c['lang']:<5}"
              f" {c['account_number'] or '-':<10} {len(c['turns']):>5} {c['outcome'] or '(open)'}")
    return 0


def cmd_calls_show(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        call = store.call(args.call_id)
    if call is None:
        raise CliError(f"no call {args.call_id}", status=1)
    if args.json:
        print(json.dumps(call, ensure_ascii=False, indent=2))
        return 0
    changes = f" (languages {call['languages']})" if call["languages"] != call["lang"] else ""
    print(f"call {call['id']}  {call['channel']}  {call['lang']}{changes}"
          f"  started {call['started_at']}  ended {call['ended_at'] or '-'}")
    print(f"account {call['account_number'] or '-'}  caller id {call['caller_id'] or '-'}"
          f"  outcome {call['outcome'] or '(open)'}")
    if call["summary"]:
        print(f"summary: {call['summary']}")
    for t in call["turns"]:
        conf = f" ({t['confidence']:.2f})" if t["confidence"] is not None else ""
        print(f"  {t['at'][11:19]} {t['speaker']:>6}: {t['text']}{conf}")
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    recorded = None
    if args.recorded:
        number, _, digest = args.recorded.replace(" ", ":", 1).partition(":")
        if not (number.isascii() and number.isdigit()) or len(digest.strip()) != 64:
            raise CliError(f"--recorded must be NUMBER:HASH (the 64-digit hash), got"
                           f" {args.recorded!r}")
        recorded = (int(number), digest.strip())
    with open_store(settings) as store:
        report = store.audit_verify(recorded)
    if report.ok:
        print(report.message)
        # The chain's head, to be written down outside this machine (README, "Staff commands").
        print(f"newest entry: {report.newest_seq} {report.newest_hash}")
        return 0
    where = f" (first broken entry: {report.first_bad})" if report.first_bad else ""
    print(f"AUDIT LOG BROKEN: {report.message}{where}", file=sys.stderr)
    return 1


def cmd_settlement_export(args: argparse.Namespace, settings: Settings) -> int:
    out = Path(args.out)
    if out.exists():
        raise CliError(f"{out} already exists; choose a new file for each batch")
    with open_store(settings) as store:
        count = store.settlement_export(out)
    print(f"exported {count} payment(s) to {out} (encrypted with the vault key);"
          " their vault entries are destroyed")
    return 0
