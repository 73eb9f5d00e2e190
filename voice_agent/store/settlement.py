"""Settlement export: the pending store-and-forward batch for the payment processor.

File format (version 1), written with mode 0600::

    b"VASETTLE1\\n"            10-byte magic and version line
    nonce                     12 bytes
    ciphertext + tag          AES-256-GCM under the vault key, associated data = the magic line

The plaintext is UTF-8 JSON::

    {"format": "voice_agent.settlement.v1", "batch": "<id>", "created_at": "<UTC ISO-8601>",
     "count": N, "total_cents": T, "fee_cents": F,
     "audit_seq": S, "audit_hash": "<hex>",
     "payments": [{"confirmation", "account_number", "amount_cents", "fee_cents",
                   "method": "card"|"bank", "brand", "bank", "last4",
                   "number", "expiry" (cards, "MM/YY" or null), "routing" (bank),
                   "created_at", "posted_at", "scheduled_for"}]}

``audit_seq``/``audit_hash`` are the newest audit entry committed before this export (0 and
64 zeros for an empty log): a copy of the chain's head that leaves the machine with every batch,
so a later rewrite of the log can be shown against it (README, "Staff commands and the store").
The export's own audit entry is not used: it is written in the same transaction as the file and
would name a hash that never existed if that transaction failed.

"Pending" means approved, not yet exported, with a vault entry. No CVV is ever collected, so
none is in the batch. After the file is written (and fsynced) the payments are marked exported
with the batch id and the vault entries no pending payment or saved method still needs are
destroyed, all in the same transaction. If that transaction fails after the file was written the
next export repeats those payments: the processor deduplicates on ``confirmation``.

``read_settlement(path, vault_key_path)`` decrypts a file (the processor side, and our tests).
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from voice_agent.store.crypto import Vault
from voice_agent.store.db import iso, utcnow

MAGIC = b"VASETTLE1\n"
FORMAT = "voice_agent.settlement.v1"


def read_settlement(path: Path, vault_key_path: Path) -> dict:
    blob = Path(path).read_bytes()
    if not blob.startswith(MAGIC):
        raise ValueError(f"{path} is not a voice_agent settlement file")
    return json.loads(Vault(vault_key_path).decrypt_blob(blob[len(MAGIC):], MAGIC))


def _write_private(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class SettlementMixin:
    """Part of :class:`voice_agent.store.Store`."""

    def settlement_export(self, out_path: Path | str) -> int:
        """Write the pending batch to ``out_path``; returns how many payments it holds."""
        now = iso(utcnow())
        batch = "B-" + secrets.token_hex(6)
        with self.tx() as db:
            rows = db.execute(
                "SELECT p.id, p.confirmation, p.account_number, p.amount_cents, p.fee_cents,"
                " p.method, p.brand, p.bank, p.last4, p.created_at, p.posted_at,"
                " p.scheduled_for, v.token, v.nonce, v.ciphertext, v.key_id FROM payments p"
                " JOIN vault v ON v.token = p.token"
                " WHERE p.status = 'approved' AND p.exported_at IS NULL ORDER BY p.id").fetchall()
            items = []
            for (_pid, conf, acc, amount, fee, method, brand, bank, last4, created, posted,
                 sched, token, nonce, ciphertext, key_id) in rows:
                secret = self.vault.open(token, nonce, ciphertext, key_id)
                items.append({"confirmation": conf, "account_number": acc,
                              "amount_cents": amount, "fee_cents": fee, "method": method,
                              "brand": brand, "bank": bank, "last4": last4,
                              "number": secret.get("number"), "expiry": secret.get("expiry"),
                              "routing": secret.get("routing"), "created_at": created,
                              "posted_at": posted, "scheduled_for": sched})
            audit_seq, audit_hash = self.audit.head(db)
            doc = {"format": FORMAT, "batch": batch, "created_at": now, "count": len(items),
                   "total_cents": sum(i["amount_cents"] for i in items),
                   "fee_cents": sum(i["fee_cents"] for i in items),
                   "audit_seq": audit_seq, "audit_hash": audit_hash, "payments": items}
            plaintext = json.dumps(doc, separators=(",", ":")).encode("utf-8")
            _write_private(Path(out_path), MAGIC + self.vault.encrypt_blob(plaintext, MAGIC))
            del plaintext, items, doc
            tokens = {r[12] for r in rows}
            for r in rows:
                db.execute("UPDATE payments SET exported_at = ?, settlement_batch = ? WHERE id = ?",
                           [now, batch, r[0]])
            for token in tokens:
                self._drop_unused_vault_entry(token)
            # Exported payments no longer point at destroyed entries.
            db.execute("UPDATE payments SET token = NULL WHERE exported_at IS NOT NULL AND token"
                       " IS NOT NULL AND token NOT IN (SELECT token FROM vault)")
            self.audit.append("settlement_export", batch=batch, count=len(rows),
                              total_cents=sum(r[3] for r in rows))
        return len(rows)
