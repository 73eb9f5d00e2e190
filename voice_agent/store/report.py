"""The figures of the operations report, computed from the store (the rendering is elsewhere:
voice_agent/report/ draws them; `voice-agent report --json` prints them as they are).

Numbers only: counts, sums of cents, dates, channels, languages, dialogue steps and case kinds.
No caller words and no account numbers are read into the figures (turn texts are never
selected), so no rendering of them can leak one.

The period (``start``..``end``, whole UTC days, both included) selects calls by their start and
payments by their creation; open cases are counted as they stand now, by age.

Definitions (also printed in the report):

- *containment*: of the calls that ended, those that ended ``paid`` or ``completed`` (the caller
  was served with no person); ``transferred`` calls were handed off; ``abandoned`` ones hung up
  with nothing done; every other outcome (``no_input``, ``no_match``, ``locked_out``,
  ``error``, ``interrupted``) is a failure.
- *payment funnel*: calls whose caller asked to pay (the turn's task is ``payment``), then those
  that got through verification to the payment questions, gave an amount, chose a method, heard
  the read-back, and paid (a payment of the call, not an arrangement's). Each call counts at the
  furthest stage it reached and every stage before it; ``dropped`` is how many stopped before the
  next stage.
- *misses*: an agent turn answering a miss, counted at the step and language of the caller turn
  it answered: ``no_input`` (silence) or ``no_match`` (anything not understood, not valid, too
  long).
- *confidence bands*: the recogniser's confidence of caller turns per step, against the settings
  ``audio.confidence_confirm`` (below: ``low``, asked again) and ``audio.confidence_accept``
  (below: ``confirm``, read back; else ``accepted``).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import sqlite_utils

from voice_agent.store.db import as_utc, iso, parse_iso
from voice_agent.store.queues import TABLES

CONTAINED = ("paid", "completed")
HANDED_OFF = ("transferred",)
ABANDONED = ("abandoned",)
FUNNEL = ("started", "verified", "amount", "method", "read-back", "paid")
# The payment steps at which a call has passed each funnel stage (the stage's index).
AFTER_AMOUNT = {"method", "card_number", "card_expiry", "routing_number", "bank_account_number",
                "confirm", "repeat_code"}
AFTER_METHOD = {"card_number", "card_expiry", "routing_number", "bank_account_number", "confirm",
                "repeat_code"}
READ_BACK = {"confirm", "repeat_code"}
AGE_BUCKETS = ((1, "under 1 day"), (3, "1-2 days"), (7, "3-6 days"), (14, "7-13 days"),
               (30, "14-29 days"), (None, "30 days or more"))
BANDS = ("low", "confirm", "accepted")


def figures(db: sqlite_utils.Database, *, start: date | None = None, end: date | None = None,
            confirm: float = 0.5, accept: float = 0.75,
            now: datetime | None = None) -> dict:
    """Every figure of the report, as plain JSON-ready data."""
    now = as_utc(now)
    calls_where, calls_params = _period("started_at", start, end)
    return {
        "period": {"from": start.isoformat() if start else None,
                   "to": end.isoformat() if end else None, "generated_at": iso(now)},
        "calls": calls_per_day(db, calls_where, calls_params),
        "outcomes": outcomes(db, calls_where, calls_params),
        "containment": containment(db, calls_where, calls_params),
        "funnel": funnel(db, calls_where, calls_params),
        "misses": misses(db, calls_where, calls_params),
        "confidence": confidence(db, calls_where, calls_params, confirm, accept),
        "payments": payments_per_day(db, *_period("created_at", start, end)),
        "open_cases": open_cases(db, now),
    }


def _period(column: str, start: date | None, end: date | None) -> tuple[str, list]:
    """A WHERE clause on an ISO-8601 text column for whole UTC days (text compares as time)."""
    where, params = ["1 = 1"], []
    if start is not None:
        where.append(f"{column} >= ?")
        params.append(start.isoformat())
    if end is not None:
        where.append(f"{column} < ?")
        params.append((end + timedelta(days=1)).isoformat())
    return " AND ".join(where), params


def calls_per_day(db, where: str, params: list) -> dict:
    rows = db.execute(f"SELECT substr(started_at, 1, 10) AS day, channel, lang, COUNT(*)"
                      f" FROM calls WHERE {where} GROUP BY day, channel, lang"
                      f" ORDER BY day, channel, lang", params).fetchall()
    return {"total": sum(r[3] for r in rows),
            "per_day": [{"day": d, "channel": c, "lang": lang, "calls": n}
                        for d, c, lang, n in rows]}


def outcomes(db, where: str, params: list) -> dict[str, int]:
    rows = db.execute(f"SELECT COALESCE(outcome, 'open'), COUNT(*) FROM calls WHERE {where}"
                      f" GROUP BY 1 ORDER BY 2 DESC, 1", params).fetchall()
    return dict(rows)


def containment(db, where: str, params: list) -> dict:
    counts = Counter()
    for outcome, n in db.execute(f"SELECT outcome, COUNT(*) FROM calls WHERE {where}"
                                 f" AND outcome IS NOT NULL GROUP BY outcome", params):
        counts[("contained" if outcome in CONTAINED else "handed_off" if outcome in HANDED_OFF
                else "abandoned" if outcome in ABANDONED else "failed")] += n
    ended = sum(counts.values())
    return {"ended": ended, "contained": counts["contained"], "handed_off": counts["handed_off"],
            "abandoned": counts["abandoned"], "failed": counts["failed"],
            "rate": round(counts["contained"] / ended, 4) if ended else None}


def funnel(db, where: str, params: list) -> list[dict]:
    furthest: dict[int, int] = {}
    rows = db.execute(f"SELECT t.call_id, t.state FROM turns t JOIN calls c ON c.id = t.call_id"
                      f" WHERE c.id IN (SELECT id FROM calls WHERE {where})"
                      f" AND t.task = 'payment'", params)
    for call_id, state in rows:
        flow, _, step = (state or "").partition(".")
        stage = 0
        if flow == "payment":
            stage = (3 if step in READ_BACK else 2 if step in AFTER_METHOD
                     else 1 if step in AFTER_AMOUNT else 0) + 1
        furthest[call_id] = max(furthest.get(call_id, 0), stage)
    paid = {r[0] for r in db.execute(
        f"SELECT DISTINCT call_id FROM payments WHERE arrangement_id IS NULL AND status IN"
        f" ('approved', 'scheduled') AND call_id IN (SELECT id FROM calls WHERE {where})",
        params)}
    for call_id in paid & furthest.keys():
        furthest[call_id] = len(FUNNEL) - 1
    reached = [sum(1 for s in furthest.values() if s >= i) for i in range(len(FUNNEL))]
    return [{"stage": name, "calls": reached[i],
             "dropped": reached[i] - reached[i + 1] if i + 1 < len(FUNNEL) else 0}
            for i, name in enumerate(FUNNEL)]


def misses(db, where: str, params: list) -> list[dict]:
    """No-input and no-match counts per (step, language), the busiest first."""
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    last: tuple[str, str] | None = None
    current = None
    rows = db.execute(f"SELECT call_id, speaker, state, lang, miss FROM turns WHERE call_id IN"
                      f" (SELECT id FROM calls WHERE {where}) ORDER BY call_id, id", params)
    for call_id, speaker, state, lang, miss in rows:
        if call_id != current:
            current, last = call_id, None
        if speaker == "caller":
            last = (state or "?", lang or "?")
        elif miss:
            key = last or (state or "?", lang or "?")
            counts[key]["no_input" if miss == "no_input" else "no_match"] += 1
    spots = [{"step": step, "lang": lang, "no_input": c["no_input"], "no_match": c["no_match"]}
             for (step, lang), c in counts.items()]
    spots.sort(key=lambda s: (-(s["no_input"] + s["no_match"]), s["step"], s["lang"]))
    return spots


def confidence(db, where: str, params: list, confirm: float, accept: float) -> list[dict]:
    rows = db.execute(f"SELECT COALESCE(state, expecting, '?'),"
                      f" SUM(confidence < ?), SUM(confidence >= ? AND confidence < ?),"
                      f" SUM(confidence >= ?), COUNT(*), AVG(confidence) FROM turns"
                      f" WHERE speaker = 'caller' AND confidence IS NOT NULL AND call_id IN"
                      f" (SELECT id FROM calls WHERE {where}) GROUP BY 1 ORDER BY 1",
                      [confirm, confirm, accept, accept, *params]).fetchall()
    return [{"step": step, "low": low, "confirm": mid, "accepted": high, "turns": n,
             "mean": round(mean, 3)} for step, low, mid, high, n, mean in rows]


def payments_per_day(db, where: str, params: list) -> list[dict]:
    rows = db.execute(f"SELECT substr(created_at, 1, 10) AS day, method, COUNT(*),"
                      f" SUM(amount_cents), SUM(fee_cents) FROM payments WHERE {where}"
                      f" AND status IN ('approved', 'scheduled') GROUP BY day, method"
                      f" ORDER BY day, method", params).fetchall()
    return [{"day": d, "method": m, "payments": n, "amount_cents": a, "fee_cents": f}
            for d, m, n, a, f in rows]


def age_bucket(days: float) -> str:
    for limit, label in AGE_BUCKETS:
        if limit is None or days < limit:
            return label
    raise AssertionError("the last bucket has no limit")


def open_cases(db, now: datetime) -> list[dict]:
    counts: Counter = Counter()
    for kind, table in TABLES.items():
        for (created,) in db.execute(f"SELECT created_at FROM {table.name} WHERE status = ?",
                                     [table.open]):
            moment = parse_iso(created)
            days = (now - moment).total_seconds() / 86400 if moment else 0.0
            counts[(kind, age_bucket(days))] += 1
    order = [label for _, label in AGE_BUCKETS]
    return [{"kind": kind, "age": age, "cases": n}
            for (kind, age), n in sorted(counts.items(),
                                         key=lambda kv: (list(TABLES).index(kv[0][0]),
                                                         order.index(kv[0][1])))]
