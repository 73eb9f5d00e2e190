"""The SQLite connection and the one way we write: ``BEGIN IMMEDIATE`` transactions.

sqlite-utils commits each write by itself and its ``atomic()`` opens a deferred ``BEGIN``; two
writers doing read-then-write then fail with "database is locked". Every write here goes through
:class:`Transactions`, which takes the write lock up front (``BEGIN IMMEDIATE``) so the read and
the write that depends on it see the same data, and waits on the busy timeout instead of failing.
sqlite-utils write methods called inside join that open transaction.
"""
from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_S = 30.0
# Read aloud without confusion: no 0/O, no 1/I.
READABLE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def connect(path: Path | str) -> sqlite_utils.Database:
    """Open the database with the pragmas the store relies on (WAL, FULL sync, foreign keys)."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False: the Store serializes access with its own lock (one Store may
    # serve several call threads).
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    db.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        _enable_wal(db)
    # FULL: a committed payment survives power loss (NORMAL may roll back the last commits).
    db.execute("PRAGMA synchronous = FULL")
    # Deleted rows (vault entries after settlement) are overwritten, not left in free pages.
    db.execute("PRAGMA secure_delete = ON")
    return db


def _enable_wal(db: sqlite_utils.Database) -> None:
    """Switch to WAL once per file. Two processes doing it at once on a fresh file get an
    immediate "database is locked" (the busy timeout does not cover it), so retry briefly."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Transactions:
    """Reentrant ``BEGIN IMMEDIATE`` transactions with after-commit hooks, one per Store.

    Nested ``with tx():`` blocks join the outer transaction (a method may call another).
    ``after_commit(fn)`` runs ``fn`` once the outermost transaction has committed; the audit
    checkpoint file is written that way so it never runs ahead of the database.
    """

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.lock = threading.RLock()
        self._depth = 0
        self._hooks: list[Callable[[], None]] = []

    @contextmanager
    def __call__(self) -> Iterator[sqlite_utils.Database]:
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.db
                finally:
                    self._depth -= 1
                return
            self.db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.db
            except BaseException:
                self._depth = 0
                self._hooks.clear()
                self.db.conn.rollback()
                raise
            self._depth = 0
            try:
                self.db.conn.commit()
            except BaseException:
                # A failed commit (disk full, I/O error) must not leave this transaction's
                # after-commit hooks for the next one: they would move the audit checkpoint
                # to entries that were rolled back, and verify would then report a cut log.
                self._hooks.clear()
                self.db.conn.rollback()
                raise
            hooks, self._hooks = self._hooks, []
            for hook in hooks:
                hook()

    def after_commit(self, hook: Callable[[], None]) -> None:
        if self._depth:
            self._hooks.append(hook)
        else:
            hook()

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """Serialize reads with writes on this connection (it may be shared by threads)."""
        with self.lock:
            yield self.db


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with seconds, one fixed form so stored times compare as strings."""
    return as_utc(moment).isoformat(timespec="seconds")


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def parse_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def readable_code(length: int = 8) -> str:
    return "".join(secrets.choice(READABLE_ALPHABET) for _ in range(length))


def unique_code(db: sqlite_utils.Database, table: str, column: str, prefix: str = "",
                length: int = 8) -> str:
    """A fresh readable code not yet used in ``table.column`` (checked inside the transaction)."""
    for _ in range(100):
        code = prefix + readable_code(length)
        if not db.execute(f"SELECT 1 FROM [{table}] WHERE [{column}] = ?", [code]).fetchone():
            return code
    raise RuntimeError(f"could not find a free code for {table}.{column}")
