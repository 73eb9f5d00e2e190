"""Cases a call can open: disputes, payment arrangements, callback requests, service tickets."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from voice_agent.store.db import as_utc, iso, unique_code, utcnow
from voice_agent.store.models import Arrangement, DisputeResult, PaymentMethod, StoreError
from voice_agent.store.payments import PAYMENT_COLUMNS, row_to_payment


class CasesMixin:
    """Part of :class:`voice_agent.store.Store`."""

    # --- disputes -------------------------------------------------------------------------

    def open_dispute(self, number: str, charge_id: str, reason: str, *,
                     call_id: int | None = None) -> DisputeResult:
        """Dispute one charge: its amount is held out of the past-due amount while open.

        A second dispute of the same charge returns the first ticket with ``already_open``.
        """
        with self.tx() as db:
            open_ = db.execute("SELECT ticket FROM disputes WHERE account_number = ?"
                               " AND charge_id = ? AND status = 'open'",
                               [number, charge_id]).fetchone()
            if open_:
                return DisputeResult(ticket=open_[0], already_open=True)
            charge = db.execute("SELECT amount_cents FROM charges WHERE account_number = ?"
                                " AND charge_id = ?", [number, charge_id]).fetchone()
            if charge is None:
                raise StoreError("no such charge on this account")
            ticket = unique_code(db, "disputes", "ticket", prefix="D-", length=6)
            db.execute("INSERT INTO disputes (ticket, account_number, charge_id, amount_cents,"
                       " reason, status, created_at, call_id) VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
                       [ticket, number, charge_id, max(0, charge[0]), reason or "",
                        iso(utcnow()), call_id])
            self.audit.append("dispute_opened", account_number=number, call_id=call_id,
                              ticket=ticket, charge_id=charge_id, amount_cents=charge[0])
        return DisputeResult(ticket=ticket, already_open=False)

    # --- arrangements ---------------------------------------------------------------------

    def active_arrangement(self, number: str) -> Arrangement | None:
        with self.tx.read() as db:
            row = db.execute("SELECT id FROM arrangements WHERE account_number = ?"
                             " AND status = 'active'", [number]).fetchone()
            return self._arrangement(row[0]) if row else None

    def _arrangement(self, arrangement_id: int) -> Arrangement:
        db = self.db
        aid, ref, acc, status, created = db.execute(
            "SELECT id, reference, account_number, status, created_at FROM arrangements"
            " WHERE id = ?", [arrangement_id]).fetchone()
        rows = db.execute(f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE arrangement_id = ?"
                          " ORDER BY scheduled_for, id", [aid]).fetchall()
        return Arrangement(id=aid, reference=ref, account_number=acc, status=status,
                           created_at=created, installments=[row_to_payment(r) for r in rows])

    def create_arrangement(self, number: str, installments: list[tuple[date, int]],
                           method: PaymentMethod, *, call_id: int | None = None,
                           now: datetime | None = None) -> Arrangement:
        """Split what is owed into dated installments, each a payment linked to the arrangement.

        An installment dated today (or earlier) posts at once; later ones are scheduled and
        posted by ``run_scheduled``. One active arrangement per account.
        """
        now = as_utc(now)
        policy = self.settings["arrangements"]
        limits = self.settings["payment_limits"]
        if not policy["enabled"]:
            raise StoreError("payment arrangements are not offered")
        if not policy["min_installments"] <= len(installments) <= policy["max_installments"]:
            raise StoreError(f"an arrangement has {policy['min_installments']} to"
                             f" {policy['max_installments']} installments")
        last_day = now.date() + timedelta(days=policy["max_days"])
        for when, cents in installments:
            if when > last_day:
                raise StoreError(f"installments must fall by {last_day.isoformat()}")
            if not isinstance(cents, int) or not limits["min_cents"] <= cents <= limits["max_cents"]:
                raise StoreError("each installment must be within the payment limits")
        fee = self.settings.fee_cents(method.kind)
        with self.tx() as db:
            if db.execute("SELECT 1 FROM arrangements WHERE account_number = ? AND status ="
                          " 'active'", [number]).fetchone():
                raise StoreError("this account already has an active arrangement")
            if not db.execute("SELECT 1 FROM accounts WHERE number = ?", [number]).fetchone():
                raise StoreError("no such account")
            reference = unique_code(db, "arrangements", "reference", prefix="A-", length=6)
            db.execute("INSERT INTO arrangements (reference, account_number, status, created_at,"
                       " call_id) VALUES (?, ?, 'active', ?, ?)",
                       [reference, number, iso(now), call_id])
            aid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
            # One vault entry serves every installment (kept until the last one is settled).
            vaulted = self._method_to_vault(number, method, now.date(), now)
            for i, (when, cents) in enumerate(sorted(installments)):
                self.post_payment(number, cents, fee, method, f"{reference}:{i + 1}",
                                  call_id=call_id, scheduled_for=when, now=now,
                                  _arrangement_id=aid, _vaulted=vaulted)
            self.audit.append("arrangement_created", account_number=number, call_id=call_id,
                              reference=reference, installments=len(installments),
                              total_cents=sum(c for _, c in installments))
            self._refresh_arrangement(aid)
            arrangement = self._arrangement(aid)
        return arrangement

    def _refresh_arrangement(self, arrangement_id: int) -> None:
        """Mark an arrangement completed (or cancelled) once nothing is left scheduled."""
        db = self.db
        left = db.execute("SELECT COUNT(*) FROM payments WHERE arrangement_id = ?"
                          " AND status = 'scheduled'", [arrangement_id]).fetchone()[0]
        if left:
            return
        paid = db.execute("SELECT COUNT(*) FROM payments WHERE arrangement_id = ?"
                          " AND status = 'approved'", [arrangement_id]).fetchone()[0]
        db.execute("UPDATE arrangements SET status = ? WHERE id = ? AND status = 'active'",
                   ["completed" if paid else "cancelled", arrangement_id])

    # --- callbacks and tickets ------------------------------------------------------------

    def request_callback(self, phone: str, window: str, *, account_number: str | None = None,
                         call_id: int | None = None, reason: str | None = None) -> str:
        with self.tx() as db:
            reference = unique_code(db, "callbacks", "reference", prefix="CB-", length=6)
            db.execute("INSERT INTO callbacks (reference, phone, window, account_number, reason,"
                       " status, created_at, call_id) VALUES (?, ?, ?, ?, ?, 'requested', ?, ?)",
                       [reference, phone, window, account_number, reason, iso(utcnow()),
                        call_id])
            self.audit.append("callback_requested", account_number=account_number,
                              call_id=call_id, reference=reference, window=window)
        return reference

    def open_ticket(self, number: str, kind: str, note: str, *,
                    call_id: int | None = None) -> str:
        with self.tx() as db:
            reference = unique_code(db, "tickets", "reference", prefix="T-", length=6)
            db.execute("INSERT INTO tickets (reference, account_number, kind, note, status,"
                       " created_at, call_id) VALUES (?, ?, ?, ?, 'open', ?, ?)",
                       [reference, number, kind, note, iso(utcnow()), call_id])
            self.audit.append("ticket_opened", account_number=number, call_id=call_id,
                              reference=reference, kind=kind)
        return reference

    def tickets(self, number: str | None = None) -> list[dict]:
        with self.tx.read() as db:
            sql = "SELECT reference, account_number, kind, note, status, created_at FROM tickets"
            rows = db.execute(sql + (" WHERE account_number = ?" if number else "")
                              + " ORDER BY id", [number] if number else []).fetchall()
        keys = ("reference", "account_number", "kind", "note", "status", "created_at")
        return [dict(zip(keys, r)) for r in rows]
