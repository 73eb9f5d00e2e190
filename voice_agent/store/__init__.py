"""The account and payment store: SQLite through sqlite-utils.

``Store.open(settings)`` opens (creating and migrating) ``settings.database`` and returns a Store
whose methods are small repository functions, grouped by topic in the mixin modules:
accounts.py (import, reading, verification, lockout), payments.py, cases.py (disputes,
arrangements, callbacks, tickets), calls.py, settlement.py; the audit chain is audit.py.

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
from voice_agent.store import migrations
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
from voice_agent.store.settlement import SettlementMixin

__all__ = ["Store", "Account", "Charge", "PaymentMethod", "Payment", "PaymentResult",
           "Verification", "DisputeResult", "Arrangement", "AuditReport", "ImportReport",
           "StoreError", "ImportError_"]


def _refuse_lost_keys(settings: Settings, db: sqlite_utils.Database) -> None:
    """Key files are made on first use only. If one is missing while the database holds data
    made with it, a fresh key would silently make that data unreadable (every PIN failing,
    vault entries lost), so refuse and say which file to restore."""
    pepper_used = db.execute(
        "SELECT EXISTS(SELECT 1 FROM accounts WHERE pin_hash IS NOT NULL OR ssn_hash IS NOT NULL)"
        " OR EXISTS(SELECT 1 FROM audit_log)").fetchone()[0]
    if pepper_used and not settings.pepper_path.exists():
        raise StoreError(f"the pepper file {settings.pepper_path} is missing, but this database"
                         " holds PIN/SSN hashes and an audit checkpoint made with it; restore the"
                         " file from your key backup (a new pepper would make every PIN fail)")
    vault_used = db.execute("SELECT EXISTS(SELECT 1 FROM vault)").fetchone()[0]
    if vault_used and not settings.vault_key_path.exists():
        raise StoreError(f"the vault key file {settings.vault_key_path} is missing, but the vault"
                         " holds encrypted card/bank numbers; restore the file from your key"
                         " backup (a new key could not read them)")


class Store(AccountsMixin, PaymentsMixin, CasesMixin, CallsMixin, SettlementMixin):
    def __init__(self, settings: Settings, db: sqlite_utils.Database):
        self.settings = settings
        self.db = db
        self.tx = Transactions(db)
        _refuse_lost_keys(settings, db)
        cost = settings.get("password_hash") or {"n": 16384, "r": 8, "p": 1}
        self.hasher = Hasher(settings.pepper_path, int(cost["n"]), int(cost["r"]), int(cost["p"]))
        self.audit = AuditLog(self.tx, settings.audit_checkpoint_path, self.hasher.pepper)
        self.vault = Vault(settings.vault_key_path)

    @classmethod
    def open(cls, settings: Settings, *, create: bool = True) -> Store:
        """Open ``settings.database`` and apply pending migrations. Without ``create`` a missing
        database is refused (a mistyped path must not become a new empty store with new keys):
        only `db init` creates one (voice_agent.app.build opens with ``create=False``)."""
        path = Path(settings.database)
        if not create and not path.exists():
            raise migrations.UnusableDatabase(f"no database at {path}; create it with"
                                         f" `voice-agent db init --db {path}`")
        db = connect(path)
        try:
            migrations.apply(db, create=create, name=str(path))
            return cls(settings, db)
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

    def audit_verify(self) -> AuditReport:
        with self.tx.read() as db:
            return self.audit.verify(db)

    def install_demo(self) -> None:
        from voice_agent.store.demo import install_demo
        install_demo(self)
