"""Call records and their turns (the transcript), stored as they are given.

Masking happens once, before the store: the dialogue masks a caller's turn
(``voice_agent.redact.mask_caller_turn``: every run of 4+ digits, in numerals or number words
of any of our languages, only 12+ keeping their last four) and card numbers in its own turns and
the call summary (``mask_card_numbers``). ``add_turn(redact=True)`` stores "[redacted]" in place
of the text (the dialogue sets it while a PIN, card number or SSN is being given).

A call records the process that opened it (owner.py). A process killed mid-call never ends its
calls, so every ``Store.open`` closes, as ``interrupted``, the open calls whose process is gone;
calls of live processes (other ``serve`` processes sharing the database) are left alone. Calls
opened before owners were recorded are closed once they are older than a day (no call lasts
that long).
"""
from __future__ import annotations

from datetime import datetime, timedelta

# Only the placeholder: voice_agent.redact imports nothing of the NLU at module level.
from voice_agent.redact import REDACTED
from voice_agent.store.db import as_utc, iso, utcnow
from voice_agent.store.owner import Owner, is_gone, this_process

INTERRUPTED = "interrupted"
UNOWNED_CALL_MAX_AGE = timedelta(days=1)
# What a call record shows (the owner columns are bookkeeping, not part of the record).
CALL_COLUMNS = ("id, channel, lang, languages, caller_id, started_at, ended_at, outcome,"
                " account_number, summary")


class CallsMixin:
    """Part of :class:`voice_agent.store.Store`."""

    def start_call(self, channel: str, lang: str, caller_id: str | None = None) -> int:
        me = this_process()
        with self.tx() as db:
            db.execute("INSERT INTO calls (channel, lang, languages, caller_id, started_at,"
                       " owner_host, owner_pid, owner_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [channel, lang, lang, caller_id, iso(utcnow()), me.host, me.pid, me.start])
            return db.execute("SELECT last_insert_rowid()").fetchone()[0]

    def close_abandoned_calls(self, now: datetime | None = None) -> list[int]:
        """End as ``interrupted`` the open calls whose process is gone; returns their ids."""
        now = as_utc(now)
        with self.tx.read() as db:
            rows = db.execute("SELECT id, owner_host, owner_pid, owner_start, started_at"
                              " FROM calls WHERE ended_at IS NULL").fetchall()
        oldest = iso(now - UNOWNED_CALL_MAX_AGE)
        gone = [call_id for call_id, host, pid, start, started in rows
                if (is_gone(Owner(host, pid, start or "")) if host and pid is not None
                    else started < oldest)]
        if gone:
            with self.tx() as db:
                for call_id in gone:
                    db.execute("UPDATE calls SET ended_at = ?, outcome = ? WHERE id = ?"
                               " AND ended_at IS NULL", [iso(now), INTERRUPTED, call_id])
        return gone

    def add_turn(self, call_id: int, speaker: str, text: str, *, expecting: str | None = None,
                 confidence: float | None = None, redact: bool = False, lang: str | None = None,
                 state: str | None = None, task: str | None = None,
                 miss: str | None = None) -> None:
        """Record one turn. ``lang`` is the language it was held in: a turn in another language
        than the call's makes that the call's language (``calls.lang``, what `calls list` shows)
        and adds it to ``calls.languages`` (the changes, in order). ``state`` (the dialogue step),
        ``task`` (the flow the caller is on) and ``miss`` (the miss an agent turn answers) feed
        the operations report (report.py); none of them holds caller words."""
        stored = REDACTED if redact else (text or "")
        with self.tx() as db:
            db.execute("INSERT INTO turns (call_id, speaker, text, expecting, confidence, redacted,"
                       " at, lang, state, task, miss) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [call_id, speaker, stored, expecting, confidence, int(redact),
                        iso(utcnow()), lang, state, task, miss])
            if lang:
                db.execute("UPDATE calls SET lang = ?, languages = COALESCE(languages || ',', '')"
                           " || ? WHERE id = ? AND lang != ?", [lang, lang, call_id, lang])

    def end_call(self, call_id: int, outcome: str, *, account_number: str | None = None,
                 summary: str | None = None) -> None:
        with self.tx() as db:
            db.execute("UPDATE calls SET ended_at = ?, outcome = ?,"
                       " account_number = COALESCE(?, account_number), summary = ? WHERE id = ?",
                       [iso(utcnow()), outcome, account_number, summary or None, call_id])

    def calls(self, limit: int = 50) -> list[dict]:
        """The newest calls, each with its ``turns`` (a list, as ``call()`` gives them)."""
        with self.tx.read() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM calls ORDER BY id DESC LIMIT ?",
                                            [limit])]
            return [self.call(i) for i in ids]

    def call(self, call_id: int) -> dict | None:
        """One call with its turns in order, or None."""
        with self.tx.read() as db:
            cur = db.execute(f"SELECT {CALL_COLUMNS} FROM calls WHERE id = ?", [call_id])
            row = cur.fetchone()
            if row is None:
                return None
            record = dict(zip([d[0] for d in cur.description], row))
            cur = db.execute("SELECT speaker, text, expecting, confidence, redacted, at, lang"
                             " FROM turns"
                             " WHERE call_id = ? ORDER BY id", [call_id])
            cols = [d[0] for d in cur.description]
            record["turns"] = [dict(zip(cols, r)) for r in cur.fetchall()]
        return record
