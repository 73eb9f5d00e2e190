"""Payments: posting (now or scheduled), idempotency, restoration, listing, running schedules.

Offline, a payment is store-and-forward: it is *approved* here against the offline limits, the
full number goes to the vault, and ``settlement export`` later hands the batch to the processor.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from voice_agent.cards import aba_ok, card_brand, luhn_ok
from voice_agent.store.crypto import new_token
from voice_agent.store.db import as_utc, iso, parse_date, unique_code
from voice_agent.store.models import Payment, PaymentMethod, PaymentResult, StoreError

PAYMENT_COLUMNS = ("id, confirmation, account_number, amount_cents, fee_cents, method, brand, bank,"
                   " last4, status, created_at, scheduled_for, arrangement_id, posted_at,"
                   " exported_at")


def row_to_payment(row) -> Payment:
    (pid, conf, acc, amount, fee, method, brand, bank, last4, status, created, sched, arr,
     posted, exported) = row
    return Payment(id=pid, confirmation=conf, account_number=acc, amount_cents=amount,
                   fee_cents=fee, method=method, brand=brand, bank=bank, last4=last4,
                   status=status, created_at=created, scheduled_for=parse_date(sched),
                   arrangement_id=arr, posted_at=posted, exported_at=exported)


def _expiry_text(expiry) -> str | None:
    if expiry is None:
        return None
    if isinstance(expiry, str):
        return expiry
    month, year = expiry
    return f"{int(month):02d}/{int(year) % 100:02d}"


def _check_expiry(expiry, today: date) -> None:
    text = _expiry_text(expiry)
    if text is None:
        return
    try:
        month, year = (int(x) for x in text.split("/"))
    except ValueError:
        raise StoreError("card expiry must be MM/YY") from None
    if not 1 <= month <= 12:
        raise StoreError("card expiry month must be 1 to 12")
    if (2000 + year % 100, month) < (today.year, today.month):
        raise StoreError("the card has expired")


class PaymentsMixin:
    """Part of :class:`voice_agent.store.Store`."""

    def post_payment(self, number: str, amount_cents: int, fee_cents: int,
                     method: PaymentMethod, idempotency_key: str, *, call_id: int | None = None,
                     scheduled_for: date | None = None, now: datetime | None = None,
                     _arrangement_id: int | None = None,
                     _vaulted: tuple | None = None) -> PaymentResult:
        """Post (or schedule) one payment, exactly once per ``idempotency_key``."""
        now = as_utc(now)
        if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
            raise StoreError("amount must be a positive whole number of cents")
        if not isinstance(fee_cents, int) or fee_cents < 0:
            raise StoreError("fee must be a whole number of cents, 0 or more")
        if not idempotency_key:
            raise StoreError("an idempotency key is required")
        with self.tx() as db:
            found = db.execute(f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE idempotency_key = ?",
                               [idempotency_key]).fetchone()
            if found:
                original = row_to_payment(found)
                if original.amount_cents != amount_cents or original.account_number != number:
                    raise StoreError("this payment key was already used for a different payment")
                return PaymentResult(payment=original, duplicate=True)
            acc = db.execute("SELECT status, due_date FROM accounts WHERE number = ?",
                             [number]).fetchone()
            if acc is None:
                raise StoreError("no such account")
            if self._locked_until(number, now) is not None:
                raise StoreError("the account is locked after failed verifications")
            today = now.date()
            scheduled = scheduled_for is not None and scheduled_for > today
            if _arrangement_id is None:
                self._check_limits(number, amount_cents, now, scheduled_for if scheduled else None,
                                   parse_date(acc[1]))
            token, kind, brand, bank, last4 = (
                _vaulted or self._method_to_vault(number, method, today, now))
            confirmation = unique_code(db, "payments", "confirmation")
            status = "scheduled" if scheduled else "approved"
            db.execute(
                "INSERT INTO payments (confirmation, idempotency_key, account_number, amount_cents,"
                " fee_cents, method, brand, bank, last4, token, status, created_at, scheduled_for,"
                " posted_at, arrangement_id, call_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [confirmation, idempotency_key, number, amount_cents, fee_cents, kind, brand, bank,
                 last4, token, status, iso(now),
                 scheduled_for.isoformat() if scheduled_for else None,
                 None if scheduled else iso(now), _arrangement_id, call_id])
            pid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
            if scheduled:
                self.audit.append("payment_scheduled", account_number=number, call_id=call_id,
                                  confirmation=confirmation, amount_cents=amount_cents,
                                  scheduled_for=scheduled_for.isoformat(), last4=last4)
                restored, ticket = False, None
            else:
                restored, ticket = self._apply_payment(number, amount_cents, confirmation,
                                                       call_id, last4)
            payment = self._payment_by_id(pid)
        return PaymentResult(payment=payment, duplicate=False, restored=restored, ticket=ticket)

    def _check_limits(self, number: str, amount: int, now: datetime,
                      scheduled_for: date | None, due: date | None) -> None:
        limits = self.settings["payment_limits"]
        if amount < limits["min_cents"]:
            raise StoreError(f"the smallest payment accepted is {limits['min_cents']} cents")
        if amount > limits["max_cents"]:
            raise StoreError(f"the largest payment accepted is {limits['max_cents']} cents")
        day = now.date().isoformat()
        used = self.db.execute(
            "SELECT COALESCE(SUM(amount_cents), 0) FROM payments WHERE account_number = ?"
            " AND status IN ('approved', 'scheduled') AND substr(created_at, 1, 10) = ?",
            [number, day]).fetchone()[0]
        if used + amount > limits["max_per_day_cents"]:
            raise StoreError(f"the daily limit of {limits['max_per_day_cents']} cents is reached")
        if scheduled_for is not None:
            ahead = int(self.settings["schedule"]["max_days_ahead"])
            latest = now.date() + timedelta(days=ahead) if ahead else due
            if latest is not None and scheduled_for > latest:
                raise StoreError(f"a payment can be scheduled up to {latest.isoformat()}")

    def _method_to_vault(self, number: str, method: PaymentMethod, today: date,
                         now: datetime) -> tuple[str, str, str | None, str | None, str]:
        """Token, kind, brand, bank, last4 for the payment row; a new number goes to the vault."""
        if method.kind not in ("card", "bank"):
            raise StoreError("payment method must be card or bank")
        if method.number is None:
            if not method.token:
                raise StoreError("a payment method needs a number or a saved token")
            row = self.db.execute("SELECT kind, brand, bank, last4 FROM saved_methods"
                                  " WHERE token = ? AND account_number = ?",
                                  [method.token, number]).fetchone()
            if row is None:
                raise StoreError("that saved payment method is not on this account")
            return (method.token, *row)
        digits = "".join(ch for ch in method.number if ch.isdigit())
        if method.kind == "card":
            if not 12 <= len(digits) <= 19 or not luhn_ok(digits):
                raise StoreError("the card number is not valid")
            _check_expiry(method.expiry, today)
            brand, bank = card_brand(digits) or "card", None   # a network we do not name
            payload = {"number": digits, "expiry": _expiry_text(method.expiry)}
        else:
            routing = "".join(ch for ch in (method.routing or "") if ch.isdigit())
            if not 4 <= len(digits) <= 17:
                raise StoreError("the bank account number is not valid")
            if not aba_ok(routing):
                raise StoreError("the routing number is not valid")
            brand, bank = None, method.bank
            payload = {"number": digits, "routing": routing}
        token = new_token()
        nonce, ciphertext = self.vault.seal(token, payload)
        self.db.execute("INSERT INTO vault (token, kind, nonce, ciphertext, saved, created_at,"
                        " key_id) VALUES (?, ?, ?, ?, 0, ?, ?)",
                        [token, method.kind, nonce, ciphertext, iso(now), self.vault.key_id])
        return token, method.kind, brand, bank, digits[-4:]

    def _apply_payment(self, number: str, amount: int, confirmation: str, call_id: int | None,
                       last4: str) -> tuple[bool, str | None]:
        """Lower balance and past-due together; restore a suspended account that is now clear."""
        db = self.db
        db.execute("UPDATE accounts SET balance_cents = balance_cents - ?,"
                   " past_due_cents = MAX(0, past_due_cents - ?) WHERE number = ?",
                   [amount, amount, number])
        self.audit.append("payment_posted", account_number=number, call_id=call_id,
                          confirmation=confirmation, amount_cents=amount, last4=last4)
        status, past_due = db.execute("SELECT status, past_due_cents FROM accounts"
                                      " WHERE number = ?", [number]).fetchone()
        if status != "suspended" or past_due - self._disputed_cents(number) > 0:
            return False, None
        db.execute("UPDATE accounts SET status = 'active' WHERE number = ?", [number])
        ticket = self.open_ticket(number, "restoration",
                                  f"past due paid (payment {confirmation}): restore service",
                                  call_id=call_id)
        self.audit.append("account_restored", account_number=number, call_id=call_id,
                          ticket=ticket, confirmation=confirmation)
        return True, ticket

    def _payment_by_id(self, pid: int) -> Payment:
        row = self.db.execute(f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = ?",
                              [pid]).fetchone()
        return row_to_payment(row)

    # --- reading and running --------------------------------------------------------------

    def payments(self, account: str | None = None, status: str | None = None, *,
                 reader: str = "staff") -> list[Payment]:
        """Payments, newest first. Every read is audited (who, which filter, how many)."""
        where, params = [], []
        if account:
            where.append("account_number = ?")
            params.append(account)
        if status:
            where.append("status = ?")
            params.append(status)
        sql = f"SELECT {PAYMENT_COLUMNS} FROM payments"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self.tx() as db:
            rows = db.execute(sql + " ORDER BY id DESC", params).fetchall()
            self.audit.append("payments_read", account_number=account, reader=reader,
                              status=status, count=len(rows))
        return [row_to_payment(r) for r in rows]

    def scheduled_payments(self, number: str) -> list[Payment]:
        with self.tx.read() as db:
            rows = db.execute(f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE account_number = ?"
                              " AND status = 'scheduled' ORDER BY scheduled_for, id",
                              [number]).fetchall()
        return [row_to_payment(r) for r in rows]

    def cancel_payment(self, number: str, confirmation: str) -> bool:
        """Cancel a scheduled payment of this account; False when there is none to cancel."""
        with self.tx() as db:
            row = db.execute("SELECT id, arrangement_id, token FROM payments WHERE confirmation = ?"
                             " AND account_number = ? AND status = 'scheduled'",
                             [confirmation.upper(), number]).fetchone()
            if row is None:
                return False
            db.execute("UPDATE payments SET status = 'cancelled' WHERE id = ?", [row[0]])
            self.audit.append("payment_cancelled", account_number=number,
                              confirmation=confirmation.upper())
            self._drop_unused_vault_entry(row[2])
            if row[1] is not None:
                self._refresh_arrangement(row[1])
        return True

    def run_scheduled(self, today: date, *, now: datetime | None = None) -> list[Payment]:
        """Post every scheduled payment due by ``today``, each exactly once.

        One transaction per payment, and the status moves scheduled -> approved only if it still
        is "scheduled": a second runner (or a rerun after a crash) skips what is done.
        """
        now = as_utc(now)
        with self.tx.read() as db:
            due = [r[0] for r in db.execute(
                "SELECT id FROM payments WHERE status = 'scheduled' AND scheduled_for <= ?"
                " ORDER BY scheduled_for, id", [today.isoformat()])]
        posted = []
        for pid in due:
            with self.tx() as db:
                cur = db.execute("UPDATE payments SET status = 'approved', posted_at = ?"
                                 " WHERE id = ? AND status = 'scheduled'", [iso(now), pid])
                if cur.rowcount != 1:
                    continue
                p = self._payment_by_id(pid)
                self._apply_payment(p.account_number, p.amount_cents, p.confirmation, None,
                                    p.last4)
                if p.arrangement_id is not None:
                    self._refresh_arrangement(p.arrangement_id)
                posted.append(p)
        return posted

    def _drop_unused_vault_entry(self, token: str | None) -> None:
        """Destroy a vault entry no pending payment and no saved method needs any more."""
        if not token:
            return
        needed = self.db.execute(
            "SELECT EXISTS(SELECT 1 FROM payments WHERE token = ? AND exported_at IS NULL"
            " AND status IN ('approved', 'scheduled'))"
            " OR EXISTS(SELECT 1 FROM vault WHERE token = ? AND saved = 1)",
            [token, token]).fetchone()[0]
        if not needed:
            self.db.execute("DELETE FROM vault WHERE token = ?", [token])
