"""The account and payment store: SQLite through sqlite-utils.

``Store.open(settings)`` opens (creating and migrating) ``settings.database`` and returns a Store
whose methods are small repository functions, grouped by topic in the mixin modules:
accounts.py (import, reading, verification, lockout), payments.py, cases.py (disputes,
arrangements, callbacks, tickets), queues.py (the staff's work queues over them), calls.py,
settlement.py; the operations report's figures are report.py; the audit chain is audit.py. Opening
refuses key files that are not this database's (keys.py) and closes the calls a dead process
left open (calls.py, owner.py).

Secrets never leave it in clear: PINs and SSN digits are peppered scrypt hashes (crypto.py),
card and bank numbers live in the AES-GCM vault, payments keep a token, brand and last four.
Every read-then-write runs in ``BEGIN IMMEDIATE`` (db.py).

Demo accounts (``voice-agent db init --demo``, see demo.py):
  100200300 Jane Doe, PIN 4321, ZIP 29730 - active, nothing past due, saved Visa ending 1111
  200300400 Carlos Rivera (es), PIN 2468, ZIP 29732 - active, $72.50 past due
  300400500 Min-jun Kim (ko), PIN 8642, ZIP 29708 - suspended, $98.00 past due
  400500600 Robert Smith, no PIN: ZIP 29715 + SSN last four 3690 - active
"""
from __future__ import annotations

from pathlib import Path

import sqlite_utils

from voice_agent.settings import Settings
from voice_agent.store import keys, migrations
from voice_agent.store.accounts import AccountsMixin
from voice_agent.store.audit import AuditLog
from voice_agent.store.calls import CallsMixin
from voice_agent.store.cases import CasesMixin
from voice_agent.store.crypto import Hasher, Vault
from voice_agent.store.db import Transactions, connect
from voice_agent.store.models import (
    Account,
    Arrangement,
    AuditReport,
    Charge,
    DisputeResult,
    ImportError_,
    ImportReport,
    Payment,
    PaymentMethod,
    PaymentResult,
    StoreError,
    Verification,
)
from voice_agent.store.payments import PaymentsMixin
from voice_agent.store.queues import QueuesMixin
from voice_agent.store.settlement import SettlementMixin

__all__ = ["Store", "Account", "Charge", "PaymentMethod", "Payment", "PaymentResult",
           "Verification", "DisputeResult", "Arrangement", "AuditReport", "ImportReport",
           "StoreError", "ImportError_"]


class Store(AccountsMixin, PaymentsMixin, CasesMixin, QueuesMixin, CallsMixin, SettlementMixin):
    def __init__(self, settings: Settings, db: sqlite_utils.Database):
        self.settings = settings
        self.db = db
        self.tx = Transactions(db)
        keys.refuse_lost_keys(settings, db)
        cost = settings.get("password_hash") or {"n": 1024, "r": 8, "p": 1}
        self.hasher = Hasher(settings.pepper_path, int(cost["n"]), int(cost["r"]), int(cost["p"]))
        self.audit = AuditLog(self.tx, settings.audit_checkpoint_path, self.hasher.pepper)
        self.vault = Vault(settings.vault_key_path)
        keys.check_keys(self.tx, settings, self.hasher.pepper, self.vault, self.audit)

    @classmethod
    def open(cls, settings: Settings, *, create: bool = True) -> Store:
        """Open ``settings.database`` and apply pending migrations; refuse key files that are not
        this database's (keys.py); start the audit checkpoint of a new store; close the calls a
        dead process left open (calls.py). Without ``create`` a missing database is refused (a
        mistyped path must not become a new empty store with new keys): only `db init` creates
        one (voice_agent.app.build opens with ``create=False``)."""
        path = Path(settings.database)
        if not create and not path.exists():
            raise migrations.UnusableDatabase(f"no database at {path}; create it with"
                                              f" `voice-agent db init --db {path}`")
        db = connect(path)
        try:
            migrations.apply(db, create=create, name=str(path))
            store = cls(settings, db)
            with store.tx.read():
                store.audit.start(db)
            store.close_abandoned_calls()
            return store
        except BaseException:
            db.conn.close()
            raise

    def close(self) -> None:
        with self.tx.lock:
            self.db.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def audit_verify(self, recorded: tuple[int, str] | None = None) -> AuditReport:
        """Check the audit chain (and an entry's hash recorded outside the machine)."""
        with self.tx.read() as db:
            return self.audit.verify(db, recorded)

    def install_demo(self) -> None:
        from voice_agent.store.demo import install_demo
        install_demo(self)
