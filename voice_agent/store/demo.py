"""Demo accounts for ``voice-agent db init --demo`` (documented in the README).

=========  =================  ====  =====  =====  =========  ======================================
Account    Name               Lang  PIN    ZIP    SSN last4  State
=========  =================  ====  =====  =====  =========  ======================================
100200300  Jane Doe           en    4321   29730  6789       active, nothing past due, saved Visa
                                                             card ending 1111 (expires 12/30)
200300400  Carlos Rivera      es    2468   29732  1357       active, $72.50 past due
300400500  Min-jun Kim        ko    8642   29708  2580       suspended, $98.00 past due
400500600  Robert Smith       en    (none) 29715  3690       active; verify with ZIP + SSN only
=========  =================  ====  =====  =====  =========  ======================================

Due dates are set relative to the day the demo is created (so scheduling "before the due date"
always has room). Test card numbers that pass the checks: 4111 1111 1111 1111 (Visa),
5555 5555 5555 4444 (Mastercard); a test bank routing number: 011000015.
"""
from __future__ import annotations

from datetime import date, timedelta

from voice_agent.store.db import iso, utcnow

DEMO_SAVED_CARD = {"number": "4111111111111111", "expiry": "12/30", "brand": "visa"}


def demo_accounts(today: date | None = None) -> dict:
    """The demo accounts in the import file format."""
    today = today or utcnow().date()

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    return {"accounts": [
        {"account_number": "100200300", "name": "Jane Doe",
         "service_address": "12 Oak St, Rock Hill, SC 29730", "zip": "29730",
         "phone": "+18035550100", "pin": "4321", "ssn_last4": "6789", "language": "en",
         "status": "active", "balance_cents": 8420, "past_due_cents": 0, "due_date": day(8),
         "charges": [
             {"id": "c1", "date": day(-24), "description": "Internet 300", "amount_cents": 6500},
             {"id": "c2", "date": day(-24), "description": "Equipment rental",
              "amount_cents": 1920}]},
        {"account_number": "200300400", "name": "Carlos Rivera",
         "service_address": "45 Main St, Rock Hill, SC 29732", "zip": "29732",
         "phone": "+18035550142", "pin": "2468", "ssn_last4": "1357", "language": "es",
         "status": "active", "balance_cents": 15675, "past_due_cents": 7250, "due_date": day(5),
         "charges": [
             {"id": "c1", "date": day(-55), "description": "Electric service",
              "amount_cents": 7250},
             {"id": "c2", "date": day(-25), "description": "Electric service",
              "amount_cents": 6925},
             {"id": "c3", "date": day(-25), "description": "Late fee", "amount_cents": 1500}]},
        {"account_number": "300400500", "name": "Min-jun Kim",
         "service_address": "9 Elm Ct, Rock Hill, SC 29708", "zip": "29708",
         "phone": "+18035550177", "pin": "8642", "ssn_last4": "2580", "language": "ko",
         "status": "suspended", "balance_cents": 14300, "past_due_cents": 9800,
         "due_date": day(-10),
         "charges": [
             {"id": "c1", "date": day(-70), "description": "Mobile plan", "amount_cents": 4500},
             {"id": "c2", "date": day(-40), "description": "Mobile plan", "amount_cents": 4500},
             {"id": "c3", "date": day(-40), "description": "International calls",
              "amount_cents": 800},
             {"id": "c4", "date": day(-10), "description": "Mobile plan", "amount_cents": 4500}]},
        {"account_number": "400500600", "name": "Robert Smith",
         "service_address": "300 Pine Rd, Rock Hill, SC 29715", "zip": "29715",
         "phone": "+18035550199", "ssn_last4": "3690", "language": "en",
         "status": "active", "balance_cents": 5600, "past_due_cents": 0, "due_date": day(12),
         "charges": [
             {"id": "c1", "date": day(-18), "description": "Water and sewer",
              "amount_cents": 5600}]},
    ]}


def install_demo(store, today: date | None = None) -> None:
    """Import the demo accounts and put a saved card on file for 100200300."""
    store.import_accounts(demo_accounts(today))
    with store.tx() as db:
        if db.execute("SELECT 1 FROM saved_methods WHERE account_number = '100200300'").fetchone():
            return
        from voice_agent.store.crypto import new_token
        token = new_token()
        card = DEMO_SAVED_CARD
        nonce, ciphertext = store.vault.seal(token, {"number": card["number"],
                                                     "expiry": card["expiry"]})
        now = iso(utcnow())
        db.execute("INSERT INTO vault (token, kind, nonce, ciphertext, saved, created_at, key_id)"
                   " VALUES (?, 'card', ?, ?, 1, ?, ?)",
                   [token, nonce, ciphertext, now, store.vault.key_id])
        db.execute("INSERT INTO saved_methods (token, account_number, kind, brand, bank, last4,"
                   " created_at) VALUES (?, '100200300', 'card', ?, NULL, ?, ?)",
                   [token, card["brand"], card["number"][-4:], now])
        store.audit.append("demo_created", accounts=4, saved_cards=1)
