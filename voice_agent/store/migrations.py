"""The schema, as ordered sqlite-utils migrations recorded in ``_sqlite_migrations``.

Add a new ``@MIGRATIONS()`` function at the end for every change; never edit an applied one.
Money is integer cents, times are UTC ISO-8601 text, dates ``YYYY-MM-DD``.
"""
from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from voice_agent.store.models import StoreError

MIGRATIONS = Migrations("voice_agent.store")


@MIGRATIONS()
def m001_core(db: sqlite_utils.Database) -> None:
    db.executescript("""
    CREATE TABLE accounts (
        number TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        service_address TEXT NOT NULL DEFAULT '',
        zip TEXT NOT NULL,
        phone TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
        balance_cents INTEGER NOT NULL,
        past_due_cents INTEGER NOT NULL CHECK (past_due_cents >= 0),
        due_date TEXT,
        pin_hash TEXT,
        ssn_hash TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE charges (
        account_number TEXT NOT NULL REFERENCES accounts(number) ON DELETE CASCADE,
        charge_id TEXT NOT NULL,
        date TEXT NOT NULL,
        description TEXT NOT NULL,
        amount_cents INTEGER NOT NULL,
        PRIMARY KEY (account_number, charge_id)
    );
    -- Encrypted card and bank numbers (AES-GCM, key file outside the database).
    CREATE TABLE vault (
        token TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        saved INTEGER NOT NULL DEFAULT 0,   -- 1: a method on file, kept after settlement
        created_at TEXT NOT NULL
    );
    CREATE TABLE saved_methods (
        token TEXT PRIMARY KEY REFERENCES vault(token),
        account_number TEXT NOT NULL REFERENCES accounts(number) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        brand TEXT,
        bank TEXT,
        last4 TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE arrangements (
        id INTEGER PRIMARY KEY,
        reference TEXT NOT NULL UNIQUE,
        account_number TEXT NOT NULL REFERENCES accounts(number),
        status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'cancelled')),
        created_at TEXT NOT NULL,
        call_id INTEGER
    );
    -- At most one active arrangement per account, enforced by the database too.
    CREATE UNIQUE INDEX arrangements_one_active ON arrangements(account_number)
        WHERE status = 'active';
    CREATE TABLE payments (
        id INTEGER PRIMARY KEY,
        confirmation TEXT NOT NULL UNIQUE,
        idempotency_key TEXT NOT NULL UNIQUE,
        account_number TEXT NOT NULL REFERENCES accounts(number),
        amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
        fee_cents INTEGER NOT NULL CHECK (fee_cents >= 0),
        method TEXT NOT NULL CHECK (method IN ('card', 'bank')),
        brand TEXT,
        bank TEXT,
        last4 TEXT NOT NULL,
        token TEXT,                          -- vault entry; NULL once settled and destroyed
        status TEXT NOT NULL CHECK (status IN ('approved', 'scheduled', 'cancelled', 'failed')),
        created_at TEXT NOT NULL,
        scheduled_for TEXT,
        posted_at TEXT,
        exported_at TEXT,
        settlement_batch TEXT,
        arrangement_id INTEGER REFERENCES arrangements(id),
        call_id INTEGER
    );
    CREATE INDEX payments_account ON payments(account_number);
    CREATE INDEX payments_status ON payments(status, scheduled_for);
    CREATE TABLE disputes (
        id INTEGER PRIMARY KEY,
        ticket TEXT NOT NULL UNIQUE,
        account_number TEXT NOT NULL REFERENCES accounts(number),
        charge_id TEXT NOT NULL,
        amount_cents INTEGER NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
        created_at TEXT NOT NULL,
        call_id INTEGER
    );
    CREATE UNIQUE INDEX disputes_one_open ON disputes(account_number, charge_id)
        WHERE status = 'open';
    CREATE TABLE callbacks (
        id INTEGER PRIMARY KEY,
        reference TEXT NOT NULL UNIQUE,
        phone TEXT NOT NULL,
        window TEXT NOT NULL,
        account_number TEXT,
        reason TEXT,
        status TEXT NOT NULL DEFAULT 'requested',
        created_at TEXT NOT NULL,
        call_id INTEGER
    );
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        reference TEXT NOT NULL UNIQUE,
        account_number TEXT NOT NULL,
        kind TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'open',
        created_at TEXT NOT NULL,
        call_id INTEGER
    );
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        lang TEXT NOT NULL,
        caller_id TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        outcome TEXT,
        account_number TEXT,
        summary TEXT
    );
    CREATE TABLE turns (
        id INTEGER PRIMARY KEY,
        call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        speaker TEXT NOT NULL CHECK (speaker IN ('caller', 'agent')),
        text TEXT NOT NULL,
        expecting TEXT,
        confidence REAL,
        redacted INTEGER NOT NULL DEFAULT 0,
        at TEXT NOT NULL
    );
    CREATE INDEX turns_call ON turns(call_id, id);
    -- Failed verifications (kept per account number, known or not) and the resulting locks.
    CREATE TABLE verification_failures (
        id INTEGER PRIMARY KEY,
        account_number TEXT NOT NULL,
        at TEXT NOT NULL,
        call_id INTEGER
    );
    CREATE INDEX verification_failures_account ON verification_failures(account_number, at);
    CREATE TABLE lockouts (
        account_number TEXT PRIMARY KEY,
        locked_at TEXT NOT NULL,
        locked_until TEXT NOT NULL
    );
    -- Append-only, hash-chained. seq is dense from 1; hash = sha256(prev_hash + canonical entry).
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        event TEXT NOT NULL,
        account_number TEXT,
        call_id INTEGER,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    -- The database itself refuses edits and deletes of audit entries (a careless UPDATE or a
    -- bug); a determined attacker editing the file is caught by `audit verify` instead.
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    """)


@MIGRATIONS()
def m002_key_checks(db: sqlite_utils.Database) -> None:
    """Which keys this database was made with (keys.py), and which key sealed each vault entry.

    The values are not known here (the key files are not read by migrations): the store records
    them on its first open after this migration (``keys.check_keys``), after checking what it
    can of the existing data against the key files.
    """
    # One statement at a time: executescript would commit the migration's transaction early.
    db.execute("""CREATE TABLE key_checks (
        name TEXT PRIMARY KEY,               -- 'vault_key_id' or 'pepper_check'
        value TEXT NOT NULL,                 -- a keyed hash of a fixed text, never the key
        recorded_at TEXT NOT NULL)""")
    db.execute("ALTER TABLE vault ADD COLUMN key_id TEXT")


@MIGRATIONS()
def m003_call_owner(db: sqlite_utils.Database) -> None:
    """The process that opened each call, so a later start can close the calls of a dead one
    (calls.py). Calls opened before this migration have no owner (NULL)."""
    for statement in ("ALTER TABLE calls ADD COLUMN owner_host TEXT",
                      "ALTER TABLE calls ADD COLUMN owner_pid INTEGER",
                      "ALTER TABLE calls ADD COLUMN owner_start TEXT",
                      "CREATE INDEX calls_open ON calls(id) WHERE ended_at IS NULL"):
        db.execute(statement)


@MIGRATIONS()
def m004_staff_side(db: sqlite_utils.Database) -> None:
    """What the staff side needs (issue 15).

    - Each turn records the language it was held in, the dialogue step (``state``), the task the
      caller is on (the flow, or the one waiting for verification) and, on the agent's turn, the
      miss it answered (``no_input``, ``no_match``, ...): the report's funnel and hot spots.
      ``calls.languages`` lists the call's languages in order ("en,es"); ``calls.lang`` becomes
      the language the call was held in (its latest).
    - Cases record who closed them and when; a dispute its outcome and the credit given.
    - Accounts record a keyed fingerprint of their last imported source record (importer.py):
      a re-import skips records whose fingerprint is unchanged (no re-hashing).
    """
    for statement in (
            "ALTER TABLE turns ADD COLUMN lang TEXT",
            "ALTER TABLE turns ADD COLUMN state TEXT",
            "ALTER TABLE turns ADD COLUMN task TEXT",
            "ALTER TABLE turns ADD COLUMN miss TEXT",
            "ALTER TABLE calls ADD COLUMN languages TEXT",
            "UPDATE calls SET languages = lang",
            "CREATE INDEX calls_started ON calls(started_at)",
            "ALTER TABLE disputes ADD COLUMN outcome TEXT",
            "ALTER TABLE disputes ADD COLUMN credit_cents INTEGER",
            "ALTER TABLE accounts ADD COLUMN source_fingerprint TEXT"):
        db.execute(statement)
    for table in ("disputes", "callbacks", "tickets", "arrangements"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN closed_at TEXT")
        db.execute(f"ALTER TABLE {table} ADD COLUMN closed_by TEXT")


class UnusableDatabase(StoreError):
    """A database this code must not use: no schema where one was required, or a newer one."""


def known() -> list[str]:
    """The names of the migrations this code defines, in order (what a fresh database gets)."""
    return [m.name for m in MIGRATIONS.pending(sqlite_utils.Database(memory=True))]


def apply(db: sqlite_utils.Database, *, create: bool = True, name: str = "the database") -> list[str]:
    """Apply pending migrations under the write lock; returns the names applied now.

    BEGIN IMMEDIATE first, so two processes opening a fresh database at once do not both apply
    m001 (the second waits, then finds nothing pending). A database with migrations this code
    does not know was made by a newer version: migrating or writing it could break what that
    version relies on, so it is refused, not used. Without ``create``, a database with no
    schema at all (an empty file) is refused too: only `db init` and `db import` make one.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        applied = [m.name for m in MIGRATIONS.applied(db)]
        newer = [m for m in applied if m not in known()]
        if newer:
            raise UnusableDatabase(f"{name} has a newer schema than this voice_agent knows"
                              f" ({', '.join(newer)}); use the newer version of voice_agent")
        if not applied and not create:
            raise UnusableDatabase(f"{name} holds no voice_agent data; create it with"
                              f" `voice-agent db init --db {name}`")
        pending = [m.name for m in MIGRATIONS.pending(db)]
        if pending:
            MIGRATIONS.apply(db)
        db.conn.commit()
    except BaseException:
        db.conn.rollback()
        raise
    return pending
