"""The append-only, hash-chained audit log and its checkpoint file outside the database.

Entry ``seq`` (1, 2, 3, ...) stores ``prev_hash`` (the hash of entry ``seq - 1``, 64 zeros for the
first) and ``hash = sha256(prev_hash || canonical JSON of seq, at, event, account_number, call_id,
details)``. Changing, deleting or reordering an entry breaks the chain at that entry. Deleting the
newest entries leaves a valid chain, so after each commit the newest ``seq`` and ``hash`` are also
written to a checkpoint file (``settings.audit_checkpoint_path``); ``verify`` requires the chain to
reach the checkpoint with the same hash. The checkpoint only moves forward (under a file lock),
and it is written after the commit, so it may lag the database but never run ahead of it. It
carries an HMAC under a key derived from the pepper, so someone who can edit the database and the
checkpoint file but cannot read the pepper cannot rewrite the checkpoint to match a cut tail.

The checkpoint moves forward only along the chain: the entry it names must still be in the log
with its hash, and every entry from there to the new one must follow it. Otherwise a cut tail
refilled by later use (``payments list`` appends an entry) would carry the checkpoint past the
cut and hide it; instead the checkpoint stays where it was, as evidence for ``verify``. The file
is created once, for a new store (no accounts, empty log, see ``start``), and never recreated: a
deleted checkpoint stays missing. What the chain cannot catch alone (a log, checkpoint and
accounts all deleted, i.e. a new store) is caught by comparing with the newest hash recorded
outside the machine: ``audit verify`` prints it and every settlement file carries it (``head``).

Details must never hold a secret: callers pass counts, references, last four digits.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlite_utils

from voice_agent.store.db import Transactions, iso, utcnow
from voice_agent.store.models import AuditReport

GENESIS = "0" * 64
log = logging.getLogger(__name__)

# The events the store writes (the list plus a few more).
EVENTS = frozenset({
    "import", "verify_success", "verify_failure", "verify_locked", "lockout", "payment_posted",
    "payment_scheduled", "payment_cancelled", "dispute_opened", "callback_requested",
    "settlement_export", "payments_read", "arrangement_created", "ticket_opened",
    "account_restored", "demo_created",
    # The staff side (queues.py): who closed which case, and who read the queues.
    "dispute_resolved", "callback_done", "ticket_done", "arrangement_cancelled", "cases_read",
})


def entry_hash(prev_hash: str, seq: int, at: str, event: str, account_number: str | None,
               call_id: int | None, details: str) -> str:
    body = json.dumps([seq, at, event, account_number, call_id, details],
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


class AuditLog:
    def __init__(self, tx: Transactions, checkpoint_path: Path, key: bytes):
        self.tx = tx
        self.checkpoint_path = Path(checkpoint_path)
        self._key = hmac.new(key, b"voice_agent audit checkpoint", hashlib.sha256).digest()

    def _mac(self, seq: int, digest: str) -> str:
        return hmac.new(self._key, f"{seq}:{digest}".encode("ascii"), hashlib.sha256).hexdigest()

    def append(self, event: str, *, account_number: str | None = None,
               call_id: int | None = None, **details: Any) -> int:
        """Add one entry inside the current (or a new) write transaction; returns its seq."""
        if event not in EVENTS:
            raise ValueError(f"unknown audit event {event!r}")
        with self.tx() as db:
            last = db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            at = iso(utcnow())
            text = json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              default=str)
            digest = entry_hash(prev, seq, at, event, account_number, call_id, text)
            db.execute(
                "INSERT INTO audit_log (seq, at, event, account_number, call_id, details,"
                " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [seq, at, event, account_number, call_id, text, prev, digest])
            self.tx.after_commit(lambda: self._advance_checkpoint(seq, digest))
        return seq

    # --- checkpoint -----------------------------------------------------------------------

    def read_checkpoint(self) -> tuple[int, str] | None:
        """(seq, hash) from the checkpoint file; None if missing; ValueError if forged/damaged."""
        try:
            data = json.loads(self.checkpoint_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        seq, digest = int(data["seq"]), str(data["hash"])
        if not hmac.compare_digest(str(data.get("mac", "")), self._mac(seq, digest)):
            raise ValueError("checkpoint signature does not match")
        return seq, digest

    def head(self, db: sqlite_utils.Database) -> tuple[int, str]:
        """The newest entry's (seq, hash); (0, GENESIS) for an empty log."""
        row = db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def start(self, db: sqlite_utils.Database) -> None:
        """Create the checkpoint of a new store (at entry 0) if it has none. Only a store with no
        accounts and an empty log is new: for any other a missing checkpoint was deleted."""
        if self.checkpoint_path.exists():
            return
        if db.execute("SELECT EXISTS(SELECT 1 FROM audit_log)"
                      " OR EXISTS(SELECT 1 FROM accounts)").fetchone()[0]:
            return
        try:
            self._write_checkpoint(0, GENESIS, create=True)
        except OSError as exc:
            log.warning("audit checkpoint %s not created: %s", self.checkpoint_path,
                        exc.strerror or exc)

    def _advance_checkpoint(self, seq: int, digest: str) -> None:
        # Runs after the commit: a failure here (disk full) must not turn a committed payment
        # into an error for the caller. The checkpoint may lag; the next commit moves it on.
        try:
            self._write_checkpoint(seq, digest)
        except OSError as exc:
            log.warning("audit checkpoint %s not advanced to %d: %s", self.checkpoint_path, seq,
                        exc.strerror or exc)

    def _write_checkpoint(self, seq: int, digest: str, *, create: bool = False) -> None:
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.checkpoint_path.with_name(self.checkpoint_path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = self.read_checkpoint()
            except (ValueError, KeyError, json.JSONDecodeError):
                return                  # damaged or forged: keep it as evidence for verify
            if current is None and not create:
                return                  # deleted after use: recreating it would hide a cut tail
            if current is not None and current[0] >= seq:
                return
            if current is not None and not self._leads_to(current, seq, digest):
                log.warning("audit checkpoint %s kept at entry %d: the log no longer leads from"
                            " it to entry %d (run `voice-agent audit verify`)",
                            self.checkpoint_path, current[0], seq)
                return
            tmp = self.checkpoint_path.with_name(self.checkpoint_path.name + ".tmp")
            tmp.write_text(json.dumps({"seq": seq, "hash": digest,
                                       "mac": self._mac(seq, digest)}), encoding="utf-8")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.checkpoint_path)

    def _leads_to(self, checkpoint: tuple[int, str], seq: int, digest: str) -> bool:
        """Does the committed log still hold the checkpoint's entry, followed by a valid chain up
        to entry ``seq`` with hash ``digest``? (Runs after the commit, on this Store's connection,
        under its lock: it reads what is committed.)"""
        cp_seq, prev = checkpoint
        if cp_seq:
            row = self.tx.db.execute("SELECT hash FROM audit_log WHERE seq = ?",
                                     [cp_seq]).fetchone()
            if row is None or row[0] != prev:
                return False
        expected = cp_seq
        rows = self.tx.db.execute("SELECT seq, at, event, account_number, call_id, details,"
                                  " prev_hash, hash FROM audit_log WHERE seq > ? AND seq <= ?"
                                  " ORDER BY seq", [cp_seq, seq])
        for n, at, event, account, call_id, details, prev_hash, entry in rows:
            expected += 1
            if (n != expected or prev_hash != prev
                    or entry_hash(prev, n, at, event, account, call_id, details) != entry):
                return False
            prev = entry
        return expected == seq and prev == digest

    # --- verification ---------------------------------------------------------------------

    def verify(self, db: sqlite_utils.Database,
               recorded: tuple[int, str] | None = None) -> AuditReport:
        """Recompute the chain, check it reaches the checkpoint, and, given ``recorded`` (an
        entry's number and hash that staff wrote down outside the machine), that the entry still
        has that hash."""
        report = self._verify_chain(db)
        if not report.ok or recorded is None:
            return report
        seq, digest = recorded
        row = db.execute("SELECT hash FROM audit_log WHERE seq = ?", [seq]).fetchone()
        if row is None:
            return replace(report, ok=False, first_bad=seq, message=f"entry {seq}, recorded"
                           f" outside the machine, is not in the log (it holds {report.entries})")
        if not hmac.compare_digest(row[0], digest.strip().lower()):
            return replace(report, ok=False, first_bad=seq, message=f"entry {seq} does not have"
                           " the hash recorded outside the machine: the log was rewritten")
        return replace(report, message=f"{report.message}; entry {seq} matches the recorded"
                                       " hash")

    def _verify_chain(self, db: sqlite_utils.Database) -> AuditReport:
        prev, count = GENESIS, 0
        rows = db.execute("SELECT seq, at, event, account_number, call_id, details, prev_hash,"
                          " hash FROM audit_log ORDER BY seq")
        for seq, at, event, account, call_id, details, prev_hash, digest in rows:
            count += 1
            if seq != count:
                return AuditReport(False, count, count,
                                   f"entry {count} is missing (next entry found is {seq})")
            if prev_hash != prev:
                return AuditReport(False, count, seq,
                                   f"entry {seq} ({event}) does not follow entry {seq - 1}:"
                                   " an entry was removed, reordered or changed")
            if entry_hash(prev, seq, at, event, account, call_id, details) != digest:
                return AuditReport(False, count, seq, f"entry {seq} ({event}) was changed")
            prev = digest
        try:
            checkpoint = self.read_checkpoint()
        except (ValueError, KeyError, json.JSONDecodeError):
            return AuditReport(False, count, None, f"checkpoint file {self.checkpoint_path} is"
                               " damaged or was rewritten (its signature does not match)")
        if count == 0:
            accounts = db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]
            if accounts:
                return AuditReport(False, 0, 1, f"the audit log is empty, but the store holds"
                                   f" {accounts} accounts (their import was audited): the log"
                                   " was deleted")
        if checkpoint is None:
            if count:
                return AuditReport(False, count, None,
                                   f"checkpoint file {self.checkpoint_path} is missing")
            return AuditReport(True, 0, None, "audit log is empty", 0, GENESIS)
        cp_seq, cp_hash = checkpoint
        if cp_seq > count:
            return AuditReport(False, count, count + 1,
                               f"entries {count + 1}..{cp_seq} were deleted (the checkpoint"
                               f" records {cp_seq} entries, the log holds {count})")
        row = db.execute("SELECT hash FROM audit_log WHERE seq = ?", [cp_seq]).fetchone()
        if cp_seq and (row is None or row[0] != cp_hash):
            return AuditReport(False, count, cp_seq,
                               f"entry {cp_seq} does not match the checkpoint")
        return AuditReport(True, count, None, f"audit log intact: {count} entries", count, prev)
