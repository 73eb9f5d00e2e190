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

Details must never hold a secret: callers pass counts, references, last four digits.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Any

import sqlite_utils

from voice_agent.store.db import Transactions, iso, utcnow
from voice_agent.store.models import AuditReport

GENESIS = "0" * 64
log = logging.getLogger(__name__)

# The events the store writes (the list plus a few more).
EVENTS = frozenset({
    "import", "verify_success", "verify_failure", "lockout", "payment_posted",
    "payment_scheduled", "payment_cancelled", "dispute_opened", "callback_requested",
    "settlement_export", "payments_read", "arrangement_created", "ticket_opened",
    "account_restored", "demo_created",
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

    def _advance_checkpoint(self, seq: int, digest: str) -> None:
        # Runs after the commit: a failure here (disk full) must not turn a committed payment
        # into an error for the caller. The checkpoint may lag; the next commit moves it on.
        try:
            self._write_checkpoint(seq, digest)
        except OSError as exc:
            log.warning("audit checkpoint %s not advanced to %d: %s", self.checkpoint_path, seq,
                        exc.strerror or exc)

    def _write_checkpoint(self, seq: int, digest: str) -> None:
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.checkpoint_path.with_name(self.checkpoint_path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = self.read_checkpoint()
            except (ValueError, KeyError, json.JSONDecodeError):
                return                  # damaged or forged: keep it as evidence for verify
            if current is None and seq > 1:
                return                  # deleted after use: recreating it would hide a cut tail
            if current and current[0] >= seq:
                return
            tmp = self.checkpoint_path.with_name(self.checkpoint_path.name + ".tmp")
            tmp.write_text(json.dumps({"seq": seq, "hash": digest,
                                       "mac": self._mac(seq, digest)}), encoding="utf-8")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.checkpoint_path)

    # --- verification ---------------------------------------------------------------------

    def verify(self, db: sqlite_utils.Database) -> AuditReport:
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
        if checkpoint is None:
            if count:
                return AuditReport(False, count, None,
                                   f"checkpoint file {self.checkpoint_path} is missing")
            return AuditReport(True, 0, None, "audit log is empty")
        cp_seq, cp_hash = checkpoint
        if cp_seq > count:
            return AuditReport(False, count, count + 1,
                               f"entries {count + 1}..{cp_seq} were deleted (the checkpoint"
                               f" records {cp_seq} entries, the log holds {count})")
        row = db.execute("SELECT hash FROM audit_log WHERE seq = ?", [cp_seq]).fetchone()
        if cp_seq and (row is None or row[0] != cp_hash):
            return AuditReport(False, count, cp_seq,
                               f"entry {cp_seq} does not match the checkpoint")
        return AuditReport(True, count, None, f"audit log intact: {count} entries")
