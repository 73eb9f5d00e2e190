"""Accounts: import from the billing export, reading, caller verification and lockout."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from multiprocessing import get_context

from voice_agent.store.crypto import hash_secret
from voice_agent.store.db import as_utc, iso, parse_date, parse_iso, utcnow
from voice_agent.store.importer import CleanAccount, fingerprint, fingerprint_key, validate
from voice_agent.store.models import Account, Charge, ImportReport, PaymentMethod, Verification
from voice_agent.store.unverified import ref_key, unverified_ref

# Below this many secrets a process pool costs more than it saves.
POOL_THRESHOLD = 32


class AccountsMixin:
    """Part of :class:`voice_agent.store.Store` (needs db, tx, audit, hasher, settings)."""

    # --- import ---------------------------------------------------------------------------

    def import_accounts(self, data: dict,
                        progress: Callable[[int, int], None] | None = None) -> ImportReport:
        """Upsert accounts by number and replace their charges: all of the file or nothing.

        A record whose keyed fingerprint (``importer.fingerprint``) is the one stored at its last
        import is unchanged: it is skipped whole (no hashing, no writing), so a nightly
        re-import of the whole customer base hashes only what changed. ``progress(done,
        total)`` is called as the secrets of the changed records are hashed.
        """
        started = time.perf_counter()
        clean = validate(data)
        key = fingerprint_key(self.hasher.pepper)
        prints = [fingerprint(acc, key) for acc in clean]
        with self.tx.read() as db:
            known = dict(db.execute("SELECT number, source_fingerprint FROM accounts"))
        changed = [(acc, fp) for acc, fp in zip(clean, prints)
                   if acc.number not in known or known[acc.number] != fp]
        hashes = self._hash_all([acc for acc, _ in changed], progress)
        now = iso(utcnow())
        created = sum(acc.number not in known for acc, _ in changed)
        with self.tx() as db:
            rows = []
            for (acc, fp), (pin_hash, ssn_hash) in zip(changed, hashes):
                rows.append({
                    "number": acc.number, "name": acc.name,
                    "service_address": acc.service_address, "zip": acc.zip, "phone": acc.phone,
                    "language": acc.language, "status": acc.status,
                    "balance_cents": acc.balance_cents, "past_due_cents": acc.past_due_cents,
                    "due_date": acc.due_date, "pin_hash": pin_hash, "ssn_hash": ssn_hash,
                    "updated_at": now, "source_fingerprint": fp})
            # upsert (not replace): a REPLACE would delete the row and cascade to its saved cards.
            db["accounts"].upsert_all(rows, pk="number", batch_size=500)
            numbers = [acc.number for acc, _ in changed]
            for i in range(0, len(numbers), 500):
                chunk = numbers[i:i + 500]
                db.execute(f"DELETE FROM charges WHERE account_number IN"
                           f" ({','.join('?' * len(chunk))})", chunk)
            charges = [dict(c, account_number=acc.number) for acc, _ in changed
                       for c in acc.charges]
            if charges:
                db["charges"].insert_all(charges, batch_size=500)
            total_charges = sum(len(acc.charges) for acc in clean)
            self.audit.append("import", accounts=len(clean), created=created,
                              updated=len(changed) - created, unchanged=len(clean) - len(changed),
                              charges=total_charges)
        return ImportReport(accounts=len(clean), created=created, updated=len(changed) - created,
                            charges=total_charges, seconds=time.perf_counter() - started,
                            unchanged=len(clean) - len(changed))

    def _hash_all(self, clean: list[CleanAccount], progress: Callable[[int, int], None] | None = None
                  ) -> list[tuple[str | None, str | None]]:
        """Hash every PIN and SSN, in parallel processes when there are many (scrypt is CPU)."""
        jobs = [s for acc in clean for s in (acc.pin, acc.ssn_last4) if s is not None]
        hasher = self.hasher
        fn = partial(hash_secret, pepper=hasher.pepper, n=hasher.n, r=hasher.r, p=hasher.p)
        workers = int(self.settings.get("import_workers", 0) or 0) or (os.cpu_count() or 1)
        report = progress or (lambda done, total: None)
        done: list[str] = []
        if len(jobs) < POOL_THRESHOLD or workers == 1:
            for secret in jobs:
                done.append(fn(secret))
                report(len(done), len(jobs))
        else:
            # spawn: the workers inherit no threads, locks or database handles from us.
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                chunk = max(1, min(256, len(jobs) // (workers * 8)))
                for digest in pool.map(fn, jobs, chunksize=chunk):
                    done.append(digest)
                    if len(done) % chunk == 0 or len(done) == len(jobs):
                        report(len(done), len(jobs))
        it = iter(done)
        return [(next(it) if acc.pin is not None else None,
                 next(it) if acc.ssn_last4 is not None else None) for acc in clean]

    # --- reading --------------------------------------------------------------------------

    def account(self, number: str) -> Account | None:
        with self.tx.read() as db:
            row = db.execute("SELECT * FROM accounts WHERE number = ?", [number]).fetchone()
            if row is None:
                return None
            cols = [d[0] for d in db.execute("SELECT * FROM accounts LIMIT 0").description]
            acc = dict(zip(cols, row))
            disputed = self._disputed_cents(number)
            methods = [PaymentMethod(kind=k, last4=l4, brand=b, bank=bk, token=t)
                       for t, k, b, bk, l4 in db.execute(
                           "SELECT token, kind, brand, bank, last4 FROM saved_methods"
                           " WHERE account_number = ? ORDER BY created_at, token", [number])]
        return Account(
            number=acc["number"], name=acc["name"], zip=acc["zip"], phone=acc["phone"],
            language=acc["language"], status=acc["status"], balance_cents=acc["balance_cents"],
            past_due_cents=max(0, acc["past_due_cents"] - disputed),
            due_date=parse_date(acc["due_date"]), has_pin=bool(acc["pin_hash"]),
            has_ssn=bool(acc["ssn_hash"]), saved_methods=methods,
            service_address=acc["service_address"], disputed_cents=disputed)

    def _disputed_cents(self, number: str) -> int:
        row = self.db.execute("SELECT COALESCE(SUM(amount_cents), 0) FROM disputes"
                              " WHERE account_number = ? AND status = 'open'", [number]).fetchone()
        return int(row[0])

    def charges(self, number: str) -> list[Charge]:
        with self.tx.read() as db:
            rows = db.execute(
                "SELECT c.charge_id, c.date, c.description, c.amount_cents,"
                " EXISTS(SELECT 1 FROM disputes d WHERE d.account_number = c.account_number"
                "        AND d.charge_id = c.charge_id AND d.status = 'open')"
                " FROM charges c WHERE c.account_number = ? ORDER BY c.date, c.rowid",
                [number]).fetchall()
        return [Charge(id=r[0], date=parse_date(r[1]), description=r[2], amount_cents=r[3],
                       disputed=bool(r[4])) for r in rows]

    # --- verification and lockout ---------------------------------------------------------

    def verify(self, number: str, *, pin: str | None = None, zip: str | None = None,
               ssn_last4: str | None = None, call_id: int | None = None,
               now: datetime | None = None) -> Verification:
        """Check the caller's secret(s) against the account; never says which one was wrong.

        Accepted: the PIN (and, if given, the ZIP must match too), or ZIP + SSN last four.
        Every path spends the same scrypt work, known account or not. Until it succeeds the
        number is kept only as ``unverified_number(number)`` (failures, locks, their audit).
        """
        now = as_utc(now)
        with self.tx() as db:
            until = self._locked_until(number, now)
            if until is not None:
                self.hasher.burn()
                # Audited like any attempt (the factor tried, never its value); not counted as a
                # failure: the lock already runs, and the secret was not even compared.
                self.audit.append("verify_locked", account_number=self.unverified_number(number),
                                  call_id=call_id, factor=_factor(pin, zip, ssn_last4),
                                  until=iso(until))
                return Verification(ok=False, locked=True, locked_until=until)
            row = db.execute("SELECT pin_hash, ssn_hash, zip FROM accounts WHERE number = ?",
                             [number]).fetchone()
            pin_hash, ssn_hash, real_zip = row if row else (None, None, None)
            if pin:
                ok = self.hasher.check(pin, pin_hash)
                ok = ok and (zip is None or _same_zip(zip, real_zip))
            elif ssn_last4 and zip:
                ok = self.hasher.check(ssn_last4, ssn_hash) and _same_zip(zip, real_zip)
            else:
                self.hasher.burn()
                ok = False
            ok = ok and row is not None
            if ok:
                db.execute("DELETE FROM verification_failures WHERE account_number = ?",
                           [self.unverified_number(number)])
                self.audit.append("verify_success", account_number=number, call_id=call_id,
                                  factor="pin" if pin else "zip+ssn")
                return Verification(ok=True)
            return self._record_failure(number, call_id, now)

    def unverified_number(self, number: str) -> str:
        """How ``number`` is stored while it is not verified: masked, with a keyed hash
        (``store.unverified``); the same number always gives the same reference."""
        return unverified_ref(number, ref_key(self.hasher.pepper))

    def _record_failure(self, number: str, call_id: int | None, now: datetime) -> Verification:
        policy = self.settings["lockout"]
        db = self.db
        number = self.unverified_number(number)
        db.execute("INSERT INTO verification_failures (account_number, at, call_id)"
                   " VALUES (?, ?, ?)", [number, iso(now), call_id])
        since = iso(now - timedelta(minutes=policy["window_minutes"]))
        failures = db.execute("SELECT COUNT(*) FROM verification_failures"
                              " WHERE account_number = ? AND at > ?", [number, since]).fetchone()[0]
        self.audit.append("verify_failure", account_number=number, call_id=call_id,
                          failures=failures)
        if failures < policy["max_failures"]:
            return Verification(ok=False)
        until = now + timedelta(minutes=policy["lock_minutes"])
        db.execute("INSERT OR REPLACE INTO lockouts (account_number, locked_at, locked_until)"
                   " VALUES (?, ?, ?)", [number, iso(now), iso(until)])
        # The count restarts after a lock: the next lock needs max_failures new failures.
        db.execute("DELETE FROM verification_failures WHERE account_number = ?", [number])
        self.audit.append("lockout", account_number=number, call_id=call_id,
                          until=iso(until), failures=failures)
        return Verification(ok=False, locked=True, locked_until=until)

    def _locked_until(self, number: str, now: datetime) -> datetime | None:
        row = self.db.execute("SELECT locked_until FROM lockouts WHERE account_number = ?",
                              [self.unverified_number(number)]).fetchone()
        if row is None:
            return None
        until = parse_iso(row[0])
        return until if until and until > now else None

    def is_locked(self, number: str, now: datetime | None = None) -> bool:
        with self.tx.read():
            return self._locked_until(number, as_utc(now)) is not None


def _factor(pin: str | None, zip: str | None, ssn_last4: str | None) -> str:
    """Which secret a verification attempt offered (for the audit), never the secret."""
    if pin:
        return "pin"
    return "zip+ssn" if ssn_last4 and zip else "none"


def _same_zip(given: str | None, real: str | None) -> bool:
    if not given or not real:
        return False
    return "".join(ch for ch in given if ch.isdigit())[:5] == real[:5]
