"""Secrets at rest: peppered scrypt hashes for PINs/SSN digits, an AES-GCM vault for numbers.

Hash format (one text column): ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``. The password fed
to scrypt is ``HMAC-SHA256(pepper, secret)``: the pepper is 32 random bytes in a file outside the
database, so a stolen database alone does not let anyone brute-force a 4-digit PIN. Each hash
records its own cost, so raising ``password_hash.n`` later still verifies old hashes.

Vault entries are ``AESGCM(key).encrypt(nonce, json, aad=token)`` with a fresh 12-byte nonce;
the 32-byte key lives in ``settings.vault_key_path`` (mode 0600, created on first use). Binding
the token as associated data stops a ciphertext being moved to another token.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SALT_BYTES = 16
HASH_BYTES = 32
KEY_BYTES = 32
NONCE_BYTES = 12

log = logging.getLogger(__name__)


def secret_file(path: Path, size: int = KEY_BYTES) -> bytes:
    """Read a key file, creating it with mode 0600 on first use.

    The key is written and fsynced under a private temporary name, then hard-linked to ``path``:
    the link fails if the file exists (no overwrite; two processes making it at once both use
    the first one's), and nobody can read the file before it is complete (a plain O_EXCL create
    let a second process read it empty, between the create and the write). A key file other
    users can read or write (copied or restored with a loose mode) is used, with a warning
    naming it: refusing it would stop every call, but staff must hear of it."""
    path = Path(path)
    try:
        data = path.read_bytes()
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("key file %s can be read or changed by other users (mode %03o);"
                        " make it owner-only: chmod 600 %s", path, mode, path)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = secrets.token_bytes(size)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.link(tmp, path)
        except FileExistsError:            # another process made it first: use theirs
            return secret_file(path, size)
        finally:
            tmp.unlink(missing_ok=True)
    if len(data) != size:
        raise ValueError(f"key file {path} is damaged (expected {size} bytes)")
    return data


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_secret(secret: str, pepper: bytes, n: int, r: int, p: int) -> str:
    """A salted, peppered, memory-hard hash (module-level so a process pool can call it)."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, pepper, salt, n, r, p)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def _scrypt(secret: str, pepper: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    password = hmac.new(pepper, secret.encode("utf-8"), hashlib.sha256).digest()
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES,
                          maxmem=256 * n * r * p + 2**20)


def check_secret(secret: str, stored: str, pepper: bytes) -> bool:
    """Constant-time comparison of ``secret`` against a stored hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = _scrypt(secret, pepper, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


class Hasher:
    """Hashes and checks secrets with the store's pepper and the configured scrypt cost."""

    def __init__(self, pepper_path: Path, n: int, r: int, p: int):
        self.pepper = secret_file(pepper_path)
        self.n, self.r, self.p = n, r, p
        # A real hash of nothing anyone knows: checked when the account (or its PIN) does not
        # exist, so that path costs the same scrypt as a real comparison.
        self._dummy = hash_secret(secrets.token_hex(8), self.pepper, n, r, p)

    def hash(self, secret: str) -> str:
        return hash_secret(secret, self.pepper, self.n, self.r, self.p)

    def check(self, secret: str, stored: str | None) -> bool:
        if not stored:
            check_secret(secret, self._dummy, self.pepper)
            return False
        return check_secret(secret, stored, self.pepper)

    def burn(self) -> None:
        """Spend one hash's worth of time (unknown account, missing factor)."""
        check_secret("0000", self._dummy, self.pepper)


class Vault:
    """AES-GCM encryption of card and bank details under a key kept outside the database.

    ``key_id`` names the key without revealing it (keys.py records it in the database, and
    each vault entry records the id of the key that sealed it)."""

    def __init__(self, key_path: Path):
        self.key_path = Path(key_path)
        key = secret_file(key_path)
        self._aead = AESGCM(key)
        self.key_id = hmac.new(key, b"voice_agent vault key id", hashlib.sha256).hexdigest()[:16]

    def seal(self, token: str, payload: dict) -> tuple[bytes, bytes]:
        nonce = secrets.token_bytes(NONCE_BYTES)
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return nonce, self._aead.encrypt(nonce, data, token.encode("ascii"))

    def open(self, token: str, nonce: bytes, ciphertext: bytes, key_id: str | None = None) -> dict:
        """Decrypt an entry; ``key_id`` (the entry's record of its key) must be this key's."""
        if key_id is not None and key_id != self.key_id:
            raise ValueError(f"vault entry {token} was sealed with key {key_id}, but the vault"
                             f" key file {self.key_path} holds key {self.key_id}")
        return json.loads(self._aead.decrypt(nonce, ciphertext, token.encode("ascii")))

    def encrypt_blob(self, data: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, aad)

    def decrypt_blob(self, blob: bytes, aad: bytes) -> bytes:
        return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)


def new_token() -> str:
    return "tok_" + secrets.token_hex(12)
