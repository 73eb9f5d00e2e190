"""The staff side of cases: work queues over what callers asked for, and the actions staff take.

cases.py opens cases during a call; this module lists them for staff and closes them:

- a dispute is *resolved* with an outcome: ``credited`` (the caller was right: a credit, by
  default the disputed amount, comes off the balance and the past-due amount), ``upheld`` (the
  charge stands: nothing credited, the amount counts as past due again) or ``withdrawn``;
- a callback request or a ticket is marked *done*;
- an active arrangement is *cancelled* with its installments still scheduled.

Each action is one transaction with its audit entry, naming who took it (``by``): a credit is
never on the balance without its entry, nor an entry without the credit. Listing is audited too
(``cases_read``), as reading payments is: the queues show account numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from voice_agent.store.db import as_utc, iso, parse_iso
from voice_agent.store.models import StoreError
from voice_agent.store.payments import PAYMENT_COLUMNS, row_to_payment

KINDS = ("dispute", "callback", "ticket", "arrangement")
DISPUTE_OUTCOMES = ("credited", "upheld", "withdrawn")


@dataclass(frozen=True)
class _Table:
    """How one kind of case is stored: its table, reference column and open/closed statuses."""

    name: str
    ref: str
    open: str
    closed: str
    columns: str            # the kind's own columns, after the common ones


TABLES = {
    "dispute": _Table("disputes", "ticket", "open", "resolved",
                      "charge_id, amount_cents, reason, outcome, credit_cents"),
    "callback": _Table("callbacks", "reference", "requested", "done", "phone, window, reason"),
    "ticket": _Table("tickets", "reference", "open", "done", "kind AS ticket_kind, note"),
    "arrangement": _Table("arrangements", "reference", "active", "cancelled", "id"),
}
# The statuses `cases list --status` takes: the kinds' own, plus "open" and "closed" for any kind.
STATUSES = ("open", "closed", "requested", "done", "resolved", "active", "completed", "cancelled")


class QueuesMixin:
    """Part of :class:`voice_agent.store.Store` (needs db, tx, audit)."""

    # --- reading --------------------------------------------------------------------------

    def cases(self, *, kind: str | None = None, status: str | None = None,
              account: str | None = None, reader: str = "staff",
              now: datetime | None = None) -> list[dict]:
        """The cases, newest first, as plain records (``case_record``); audited."""
        if kind is not None and kind not in KINDS:
            raise StoreError(f"no case kind {kind!r} (one of {', '.join(KINDS)})")
        if status is not None and status not in STATUSES:
            raise StoreError(f"no case status {status!r} (one of {', '.join(STATUSES)})")
        now = as_utc(now)
        records: list[dict] = []
        with self.tx() as db:
            for name in (kind,) if kind else KINDS:
                records += self._case_rows(db, name, status, account, now)
            self.audit.append("cases_read", account_number=account, reader=reader, kind=kind,
                              status=status, count=len(records))
        records.sort(key=lambda r: (r["created_at"], r["reference"]), reverse=True)
        return records

    def _case_rows(self, db, kind: str, status: str | None, account: str | None,
                   now: datetime, reference: str | None = None) -> list[dict]:
        table = TABLES[kind]
        where, params = [], []
        if status == "open":
            where.append("status = ?")
            params.append(table.open)
        elif status == "closed":
            where.append("status != ?")
            params.append(table.open)
        elif status is not None:
            where.append("status = ?")
            params.append(status)
        if account is not None:
            where.append("account_number = ?")
            params.append(account)
        if reference is not None:
            where.append(f"{table.ref} = ?")
            params.append(reference)
        sql = (f"SELECT {table.ref} AS reference, account_number, status, created_at, closed_at,"
               f" closed_by, call_id, {table.columns} FROM {table.name}")
        if where:
            sql += " WHERE " + " AND ".join(where)
        cur = db.execute(sql + " ORDER BY id DESC", params)
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        for row in rows:
            created = parse_iso(row["created_at"])
            row.update(kind=kind, open=row["status"] == table.open,
                       age_days=max(0, (now - created).days) if created else None)
            if kind == "arrangement":
                aid = row.pop("id")
                installments = [row_to_payment(p) for p in db.execute(
                    f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE arrangement_id = ?"
                    " ORDER BY scheduled_for, id", [aid])]
                row["installments"] = [p.to_json() for p in installments]
                row["total_cents"] = sum(p.amount_cents for p in installments)
        return rows

    def case(self, reference: str, now: datetime | None = None) -> dict | None:
        """One case by its reference (any kind), or None."""
        with self.tx.read() as db:
            found = self._find(db, reference, as_utc(now))
        return found

    def _find(self, db, reference: str, now: datetime) -> dict | None:
        reference = reference.strip().upper()
        for kind in KINDS:
            rows = self._case_rows(db, kind, None, None, now, reference=reference)
            if rows:
                return rows[0]
        return None

    def _open_case(self, db, reference: str, kinds: tuple[str, ...], action: str) -> dict:
        case = self._find(db, reference, as_utc(None))
        if case is None:
            raise StoreError(f"no case {reference.strip().upper()}")
        if case["kind"] not in kinds:
            raise StoreError(f"{case['reference']} is a {case['kind']}: only a"
                             f" {' or '.join(kinds)} can be {action}")
        if not case["open"]:
            raise StoreError(f"{case['reference']} is already {case['status']}"
                             f" ({case['closed_by'] or 'no one recorded'}, {case['closed_at'] or '-'})")
        return case

    # --- actions --------------------------------------------------------------------------

    def resolve_dispute(self, reference: str, outcome: str, *, by: str,
                        credit_cents: int | None = None) -> dict:
        """Close a dispute with ``outcome``; ``credited`` takes ``credit_cents`` (default: the
        disputed amount, at most that) off the balance and the past-due amount."""
        if outcome not in DISPUTE_OUTCOMES:
            raise StoreError(f"no dispute outcome {outcome!r} (one of {', '.join(DISPUTE_OUTCOMES)})")
        if credit_cents is not None and outcome != "credited":
            raise StoreError("a credit goes with the outcome credited")
        with self.tx() as db:
            case = self._open_case(db, reference, ("dispute",), "resolved")
            credit = 0
            if outcome == "credited":
                credit = case["amount_cents"] if credit_cents is None else credit_cents
                if not isinstance(credit, int) or not 0 < credit <= case["amount_cents"]:
                    raise StoreError(f"a credit must be more than 0 and at most the disputed"
                                     f" amount ({case['amount_cents']} cents)")
                db.execute("UPDATE accounts SET balance_cents = balance_cents - ?,"
                           " past_due_cents = MAX(0, past_due_cents - ?), updated_at = ?"
                           " WHERE number = ?", [credit, credit, iso(as_utc(None)),
                                                  case["account_number"]])
            now = iso(as_utc(None))
            db.execute("UPDATE disputes SET status = 'resolved', outcome = ?, credit_cents = ?,"
                       " closed_at = ?, closed_by = ? WHERE ticket = ? AND status = 'open'",
                       [outcome, credit, now, by, case["reference"]])
            self.audit.append("dispute_resolved", account_number=case["account_number"],
                              ticket=case["reference"], outcome=outcome, credit_cents=credit,
                              by=by)
            return self._find(db, case["reference"], as_utc(None))

    def mark_done(self, reference: str, *, by: str) -> dict:
        """A callback made or a ticket worked: off the open queue."""
        with self.tx() as db:
            case = self._open_case(db, reference, ("callback", "ticket"), "marked done")
            table = TABLES[case["kind"]]
            db.execute(f"UPDATE {table.name} SET status = 'done', closed_at = ?, closed_by = ?"
                       f" WHERE {table.ref} = ?", [iso(as_utc(None)), by, case["reference"]])
            self.audit.append(f"{case['kind']}_done", account_number=case["account_number"],
                              reference=case["reference"], by=by)
            return self._find(db, case["reference"], as_utc(None))

    def cancel_arrangement(self, reference: str, *, by: str) -> dict:
        """Cancel an active arrangement and, in the same transaction, its scheduled installments
        (their vault entries destroyed once nothing else needs them)."""
        with self.tx() as db:
            case = self._open_case(db, reference, ("arrangement",), "cancelled")
            aid = db.execute("SELECT id FROM arrangements WHERE reference = ?",
                             [case["reference"]]).fetchone()[0]
            rows = db.execute("SELECT id, confirmation, token FROM payments WHERE"
                              " arrangement_id = ? AND status = 'scheduled' ORDER BY id",
                              [aid]).fetchall()
            for pid, _, _ in rows:
                db.execute("UPDATE payments SET status = 'cancelled' WHERE id = ?", [pid])
            for token in {t for _, _, t in rows}:
                self._drop_unused_vault_entry(token)
            db.execute("UPDATE arrangements SET status = 'cancelled', closed_at = ?, closed_by = ?"
                       " WHERE id = ?", [iso(as_utc(None)), by, aid])
            self.audit.append("arrangement_cancelled", account_number=case["account_number"],
                              reference=case["reference"], by=by,
                              installments_cancelled=[c for _, c, _ in rows])
            return self._find(db, case["reference"], as_utc(None))
