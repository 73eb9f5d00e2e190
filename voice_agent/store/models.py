"""The typed records the store hands out. Plain frozen dataclasses: no database handles inside.

Secret fields (full card or bank numbers, routing numbers, expiry) are ``repr=False`` so that a
record printed in a log or a traceback never shows them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


class StoreError(Exception):
    """A refused store operation; the message is safe to show to staff (never holds a secret)."""


class ImportError_(StoreError):
    """An import file that cannot be loaded; the message names the record and the field."""


@dataclass(frozen=True)
class PaymentMethod:
    """How a caller pays. ``number``/``routing``/``expiry`` live only in memory and in the vault.

    A saved method on file is named by ``token`` alone (no number). ``expiry`` is ``(month, year)``
    as the NLU gives it, or ``"MM/YY"``.
    """

    kind: str                      # "card" | "bank"
    last4: str = ""
    brand: str | None = None
    bank: str | None = None
    number: str | None = field(default=None, repr=False)
    expiry: tuple[int, int] | str | None = field(default=None, repr=False)
    routing: str | None = field(default=None, repr=False)
    token: str | None = None


@dataclass(frozen=True)
class Charge:
    id: str
    date: date
    description: str
    amount_cents: int
    disputed: bool = False


@dataclass(frozen=True)
class Account:
    number: str
    name: str
    zip: str
    phone: str
    language: str
    status: str                    # "active" | "suspended"
    balance_cents: int
    past_due_cents: int            # disputed amounts already held out
    due_date: date | None
    has_pin: bool
    has_ssn: bool
    saved_methods: list[PaymentMethod] = field(default_factory=list)
    service_address: str = ""
    disputed_cents: int = 0        # open disputes held out of past_due_cents


@dataclass(frozen=True)
class Verification:
    ok: bool
    locked: bool = False
    locked_until: datetime | None = None


@dataclass(frozen=True)
class Payment:
    id: int
    confirmation: str
    account_number: str
    amount_cents: int
    fee_cents: int
    method: str
    brand: str | None
    bank: str | None
    last4: str
    status: str                    # "approved" | "scheduled" | "cancelled" | "failed"
    created_at: str
    scheduled_for: date | None
    arrangement_id: int | None = None
    posted_at: str | None = None
    exported_at: str | None = None

    def to_json(self) -> dict:
        return {
            "confirmation": self.confirmation, "account_number": self.account_number,
            "amount_cents": self.amount_cents, "fee_cents": self.fee_cents, "method": self.method,
            "brand": self.brand, "bank": self.bank, "last4": self.last4, "status": self.status,
            "created_at": self.created_at,
            "scheduled_for": self.scheduled_for.isoformat() if self.scheduled_for else None,
            "posted_at": self.posted_at, "exported_at": self.exported_at,
            "arrangement_id": self.arrangement_id,
        }


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    duplicate: bool = False
    restored: bool = False
    ticket: str | None = None


@dataclass(frozen=True)
class DisputeResult:
    ticket: str
    already_open: bool = False


@dataclass(frozen=True)
class Arrangement:
    id: int
    reference: str
    account_number: str
    status: str                    # "active" | "completed" | "cancelled"
    created_at: str
    installments: list[Payment] = field(default_factory=list)


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    entries: int
    first_bad: int | None
    message: str
    # The newest entry (0 and None for an empty log): what staff record outside the machine.
    newest_seq: int = 0
    newest_hash: str | None = None


@dataclass(frozen=True)
class ImportReport:
    accounts: int
    created: int
    updated: int
    charges: int
    seconds: float = 0.0
    unchanged: int = 0             # same source record as at the last import: skipped whole
