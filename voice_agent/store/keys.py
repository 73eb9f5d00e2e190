"""Which key files belong to this database: refuse a missing or replaced one before it is used.

The pepper and the vault key live in files outside the database. A wrong file does not fail
loudly by itself: a replaced pepper makes every right PIN fail (and count toward lockout), a
replaced vault key seals new payments that the old ones cannot be exported with. So the
database records, in ``key_checks``, a keyed hash of a fixed text under each key:

- ``vault_key_id``: HMAC-SHA256(vault key, "voice_agent vault key id"), first 16 hex digits;
  each vault entry also records the id of the key that sealed it (``vault.key_id``);
- ``pepper_check``: HMAC-SHA256(pepper, "voice_agent pepper check"), hex.

Neither reveals anything about the key (HMAC of a public text under a 256-bit random key). On
every open the files' values must match, else :class:`StoreError` names the file.

Databases made before these records existed get them on their first open, after checking what
the data allows: every vault entry must decrypt under the key file (AES-GCM authenticates), and
the audit checkpoint's signature must verify under the pepper. If that check fails, nothing is
recorded and the store refuses to open, naming the file; when there is nothing to check against
(an empty vault, no checkpoint), the files present are recorded as the right ones.
"""
from __future__ import annotations

import hashlib
import hmac
import json

import sqlite_utils
from cryptography.exceptions import InvalidTag

from voice_agent.settings import Settings
from voice_agent.store.audit import AuditLog
from voice_agent.store.crypto import Vault
from voice_agent.store.db import Transactions, iso, utcnow
from voice_agent.store.models import StoreError


def pepper_check(pepper: bytes) -> str:
    return hmac.new(pepper, b"voice_agent pepper check", hashlib.sha256).hexdigest()


def _recorded(db: sqlite_utils.Database) -> dict[str, str]:
    return dict(db.execute("SELECT name, value FROM key_checks").fetchall())


def refuse_lost_keys(settings: Settings, db: sqlite_utils.Database) -> None:
    """Key files are made on first use only. If one is missing while the database holds data
    made with it (or has recorded its id), a fresh key would silently make that data unreadable
    (every PIN failing, vault entries lost), so refuse and say which file to restore."""
    recorded = _recorded(db)
    pepper_used = "pepper_check" in recorded or db.execute(
        "SELECT EXISTS(SELECT 1 FROM accounts WHERE pin_hash IS NOT NULL OR ssn_hash IS NOT NULL)"
        " OR EXISTS(SELECT 1 FROM audit_log)").fetchone()[0]
    if pepper_used and not settings.pepper_path.exists():
        raise StoreError(f"the pepper file {settings.pepper_path} is missing, but this database"
                         " was made with it (PIN/SSN hashes, the audit checkpoint); restore the"
                         " file from your key backup (a new pepper would make every PIN fail)")
    vault_used = "vault_key_id" in recorded or db.execute(
        "SELECT EXISTS(SELECT 1 FROM vault)").fetchone()[0]
    if vault_used and not settings.vault_key_path.exists():
        raise StoreError(f"the vault key file {settings.vault_key_path} is missing, but this"
                         " database was made with it (encrypted card/bank numbers, settlement"
                         " files); restore the file from your key backup (a new key could not"
                         " read them)")


def check_keys(tx: Transactions, settings: Settings, pepper: bytes, vault: Vault,
               audit: AuditLog) -> None:
    """Refuse key files that are not the ones this database recorded; record them if it has
    none yet (a new database, or one made before the records existed). Writes only then."""
    want = {"vault_key_id": vault.key_id, "pepper_check": pepper_check(pepper)}
    files = {"vault_key_id": f"the vault key file {settings.vault_key_path}",
             "pepper_check": f"the pepper file {settings.pepper_path}"}
    with tx.read() as db:
        recorded = _recorded(db)
        untagged = db.execute("SELECT EXISTS(SELECT 1 FROM vault WHERE key_id IS NULL)"
                              ).fetchone()[0]
    _refuse_mismatch(recorded, want, files)
    if recorded.keys() == want.keys() and not untagged:
        return
    with tx() as db:
        recorded = _recorded(db)            # again, under the write lock
        _refuse_mismatch(recorded, want, files)
        # Entries sealed before entries named their key: tagged once they open with this one.
        _check_legacy_vault(db, vault, files["vault_key_id"])
        db.execute("UPDATE vault SET key_id = ? WHERE key_id IS NULL", [vault.key_id])
        if "pepper_check" not in recorded:
            _check_legacy_checkpoint(audit, files["pepper_check"])
        now = iso(utcnow())
        for name, value in want.items():
            if name not in recorded:
                db.execute("INSERT INTO key_checks (name, value, recorded_at) VALUES (?, ?, ?)",
                           [name, value, now])


def _refuse_mismatch(recorded: dict[str, str], want: dict[str, str],
                     files: dict[str, str]) -> None:
    for name, value in want.items():
        if name in recorded and not hmac.compare_digest(recorded[name], value):
            raise StoreError(f"{files[name]} is not the key this database was made with;"
                             " restore the right file from your key backup (the database is"
                             " unchanged)")


def _check_legacy_vault(db: sqlite_utils.Database, vault: Vault, what: str) -> None:
    rows = db.execute("SELECT token, nonce, ciphertext FROM vault WHERE key_id IS NULL")
    for token, nonce, ciphertext in rows:
        try:
            vault.open(token, nonce, ciphertext)
        except (InvalidTag, ValueError):
            raise StoreError(f"{what} does not open the vault entries of this database; restore"
                             " the right file from your key backup (the database is unchanged)"
                             ) from None


def _check_legacy_checkpoint(audit: AuditLog, what: str) -> None:
    try:
        audit.read_checkpoint()
    except (ValueError, KeyError, json.JSONDecodeError):
        raise StoreError(f"{what} does not verify the audit checkpoint"
                         f" {audit.checkpoint_path}: either the pepper file was replaced"
                         " (restore it from your key backup) or the checkpoint was rewritten"
                         ) from None
