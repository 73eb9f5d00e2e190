"""A seeded set of calls, payments and cases for the operations report tests (no tests here),
and the figures the report must give for it, worked out by hand.

Calls are recorded through the store's own API (the turns as the dialogue records them: language,
step, task, miss, confidence), then dated by SQL so that the days are known.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from voice_agent.store import PaymentMethod, Store

from store_helpers import CARD

DAY1, DAY2 = date(2026, 11, 2), date(2026, 11, 3)
CALLER_WORDS = "pineapple"          # said by every seeded caller: must never reach the report
VISA = PaymentMethod(kind="card", number=CARD, expiry=(12, 2030))
BANK = PaymentMethod(kind="bank", number="000123456789", routing="011000015", bank="First Bank")


def _call(store: Store, day: date, channel: str, turns: list[tuple], outcome: str | None,
          account: str | None = None) -> int:
    """``turns``: (speaker, lang, state, task, miss, confidence)."""
    call_id = store.start_call(channel, turns[0][1])
    for speaker, lang, state, task, miss, confidence in turns:
        text = f"{CALLER_WORDS} 100200300" if speaker == "caller" else "agent text"
        store.add_turn(call_id, speaker, text, lang=lang, state=state, task=task, miss=miss,
                       confidence=confidence)
    if outcome:
        store.end_call(call_id, outcome, account_number=account)
    store.db.execute("UPDATE calls SET started_at = ? WHERE id = ?",
                     [f"{day.isoformat()}T10:{call_id:02d}:00+00:00", call_id])
    store.db.conn.commit()
    return call_id


def seed(store: Store, now: datetime) -> None:
    """Five calls on two days, two payments, two open cases (see ``EXPECTED``)."""
    a, c = "agent", "caller"
    paid = _call(store, DAY1, "text", [
        (a, "en", "menu.intent", "menu", None, None),
        (c, "en", "menu.intent", "menu", None, None),
        (a, "en", "verify.account_number", "payment", None, None),
        (c, "en", "verify.account_number", "payment", None, None),
        (a, "en", "verify.pin", "payment", None, None),
        (c, "en", "verify.pin", "payment", None, 0.9),
        (a, "en", "payment.amount", "payment", None, None),
        (c, "en", "payment.amount", "payment", None, 0.6),
        (a, "en", "payment.method", "payment", None, None),
        (c, "en", "payment.method", "payment", None, 0.4),
        (a, "en", "payment.method", "payment", "no_match", None),
        (c, "en", "payment.method", "payment", None, 0.95),
        (a, "en", "payment.card_number", "payment", None, None),
        (c, "en", "payment.card_number", "payment", None, None),
        (a, "en", "payment.confirm", "payment", None, None),
        (c, "en", "payment.confirm", "payment", None, None),
        (a, "en", "menu.more", "menu", None, None),
    ], "paid", "100200300")
    day1 = datetime(DAY1.year, DAY1.month, DAY1.day, 10, tzinfo=UTC)
    store.post_payment("100200300", 5000, 250, VISA, "seed-1", call_id=paid, now=day1)
    _call(store, DAY1, "phone", [                       # Spanish chosen at the menu
        (a, "en", "language.choose", "language", None, None),
        (c, "en", "language.choose", "language", None, None),
        (a, "es", "menu.intent", "menu", None, None),
        (c, "es", "menu.intent", "menu", None, None),
        (a, "es", "verify.account_number", "payment", None, None),
        (c, "es", "verify.account_number", "payment", None, None),
        (a, "es", "verify.account_number", "payment", "no_input", None),
        (c, "es", "verify.account_number", "payment", None, None),
        (a, "es", "end.no_input", "payment", "no_input", None),
    ], "no_input")
    _call(store, DAY2, "phone", [                       # hangs up at the method question
        (a, "ko", "verify.account_number", "payment", None, None),
        (c, "ko", "verify.account_number", "payment", None, None),
        (a, "ko", "payment.amount", "payment", None, None),
        (c, "ko", "payment.amount", "payment", None, 0.8),
        (a, "ko", "payment.method", "payment", None, None),
    ], "abandoned", "300400500")
    _call(store, DAY2, "text", [
        (a, "en", "menu.intent", "menu", None, None),
        (c, "en", "menu.intent", "menu", None, None),
        (a, "en", "menu.more", "menu", None, None),
    ], "completed", "400500600")
    _call(store, DAY2, "text", [
        (a, "en", "menu.intent", "menu", None, None),
        (c, "en", "menu.intent", "menu", None, None),
        (a, "en", "end.transferred", "handoff", None, None),
    ], "transferred")
    day2 = datetime(DAY2.year, DAY2.month, DAY2.day, 15, tzinfo=UTC)
    store.post_payment("200300400", 3000, 0, BANK, "seed-2", now=day2)
    store.open_dispute("200300400", "c3", "")
    store.request_callback("+18035550100", "morning", account_number="100200300")
    with store.tx() as db:
        db.execute("UPDATE disputes SET created_at = ?", [(now - timedelta(hours=5)).isoformat()])
        db.execute("UPDATE callbacks SET created_at = ?", [(now - timedelta(days=10)).isoformat()])


EXPECTED = {
    "calls": {"total": 5, "per_day": [
        {"day": "2026-11-02", "channel": "phone", "lang": "es", "calls": 1},
        {"day": "2026-11-02", "channel": "text", "lang": "en", "calls": 1},
        {"day": "2026-11-03", "channel": "phone", "lang": "ko", "calls": 1},
        {"day": "2026-11-03", "channel": "text", "lang": "en", "calls": 2}]},
    "outcomes": {"abandoned": 1, "completed": 1, "no_input": 1, "paid": 1, "transferred": 1},
    "containment": {"ended": 5, "contained": 2, "handed_off": 1, "abandoned": 1, "failed": 1,
                    "rate": 0.4},
    "funnel": [{"stage": "started", "calls": 3, "dropped": 1},
               {"stage": "verified", "calls": 2, "dropped": 0},
               {"stage": "amount", "calls": 2, "dropped": 1},
               {"stage": "method", "calls": 1, "dropped": 0},
               {"stage": "read-back", "calls": 1, "dropped": 0},
               {"stage": "paid", "calls": 1, "dropped": 0}],
    "misses": [{"step": "verify.account_number", "lang": "es", "no_input": 2, "no_match": 0},
               {"step": "payment.method", "lang": "en", "no_input": 0, "no_match": 1}],
    "confidence": [
        {"step": "payment.amount", "low": 0, "confirm": 2, "accepted": 0, "turns": 2,
         "mean": 0.7},
        {"step": "payment.method", "low": 1, "confirm": 0, "accepted": 1, "turns": 2,
         "mean": 0.675},
        {"step": "verify.pin", "low": 0, "confirm": 0, "accepted": 1, "turns": 1, "mean": 0.9}],
    "payments": [
        {"day": "2026-11-02", "method": "card", "payments": 1, "amount_cents": 5000,
         "fee_cents": 250},
        {"day": "2026-11-03", "method": "bank", "payments": 1, "amount_cents": 3000,
         "fee_cents": 0}],
    "open_cases": [{"kind": "dispute", "age": "under 1 day", "cases": 1},
                   {"kind": "callback", "age": "7-13 days", "cases": 1}],
}
