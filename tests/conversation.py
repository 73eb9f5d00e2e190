"""Driving calls in tests (no tests here): the one runner of the conversation files, the one
check that a Spanish or Korean turn holds no English, and `Call`, the driver of scripted calls.

Conversation files (tests/conversations/<lang>/*.toml and tests/conversations/cases/<lang>/*.toml)
hold one or more calls on one fresh demo database (later calls see what earlier ones did, as a
lockout needs); `settings` in a file overrides settings for its database. Each call lists
caller turns (`caller` text with an optional `confidence`, `dtmf` keys, or `silence = true`)
and, per turn, what the agent must do next: `expecting`, `lang`, `state`, `ended`, substrings the
reply must (`hear`) or must not (`not_hear`) contain. A call may start with `lang` and
`caller_id` and check its `greeting` like a turn. After the call: `outcome`; for its `account`,
`payments` (how many), `status`, `past_due_cents`, and what the store must hold: `disputes`
(open disputes), `arrangement` (installments of the active arrangement), `arrangement_paid` (of
them, already posted), `scheduled` (scheduled payments, arrangement installments included),
`callbacks` (callback requests of this call), `tickets` (restoration tickets of the account).
What this call itself left in the store (the end state a caller judges): `paid_cents` (the
amounts of the payments it took, in order: `[]` for none), `paid_methods` ("card" / "bank", in
order), `paid_last4`, `disputed` (descriptions of the charges it opened disputes on),
`callback_phone` (the number of its callback request) and `final_lang` (the language the call
ended in).
Every turn in another language than English is checked for English prompt text, and every call
for secrets: what the caller said while a PIN, SSN, card or bank number was expected never
appears in the stored transcript.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from functools import cache
from pathlib import Path

from voice_agent.dialogue import EXPECTING, Agent, CallerEvent
from voice_agent.dialogue.prompts import load_catalog
from voice_agent.nlu import Understander
from voice_agent.store import Store

from store_helpers import make_settings

CONVERSATIONS = Path(__file__).parent / "conversations"
SECRET_EXPECTING = {"pin", "ssn_last4", "card_number", "card_expiry", "routing_number",
                    "bank_account_number"}
# Pieces of English prompts shorter than this many words ("Visa", "$2.50") may be shared.
MIN_WORDS = 3
# After a call, for its account: the setting name -> how many rows the store must hold.
STORE_COUNTS = {
    "disputes": "SELECT COUNT(*) FROM disputes WHERE account_number = :account"
                " AND status = 'open'",
    "arrangement": "SELECT COUNT(*) FROM payments p JOIN arrangements a ON"
                   " p.arrangement_id = a.id WHERE a.account_number = :account AND a.status ="
                   " 'active'",
    "arrangement_paid": "SELECT COUNT(*) FROM payments p JOIN arrangements a ON"
                        " p.arrangement_id = a.id WHERE a.account_number = :account AND"
                        " p.status = 'approved'",
    "scheduled": "SELECT COUNT(*) FROM payments WHERE account_number = :account"
                 " AND status = 'scheduled'",
    "callbacks": "SELECT COUNT(*) FROM callbacks WHERE call_id = :call_id",
    "tickets": "SELECT COUNT(*) FROM tickets WHERE account_number = :account"
               " AND kind = 'restoration'",
}


def conversation_files(folder: Path) -> list[Path]:
    """The conversation files of ``folder``: one subfolder per language."""
    return sorted(folder.glob("*/*.toml"))


def file_id(path: Path) -> str:
    """A file's test id: ``en/card_payment``."""
    return f"{path.parent.name}/{path.stem}"


def run_file(path: Path, folder: Path, nlu: Understander) -> None:
    """Run every call of one conversation file on a fresh demo database in ``folder``."""
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    settings = make_settings(folder, database=str(folder / "conv.db"), **spec.get("settings", {}))
    name = path.relative_to(CONVERSATIONS).with_suffix("").as_posix()
    store = Store.open(settings)
    try:
        store.install_demo()
        agent = Agent(settings, store, nlu)
        for index, call in enumerate(spec["call"], start=1):
            run_call(agent, store, call, f"{name} call {index}")
    finally:
        store.close()


def event_of(turn: dict) -> CallerEvent:
    if turn.get("silence"):
        return CallerEvent()
    if "dtmf" in turn:
        return CallerEvent(dtmf=turn["dtmf"])
    return CallerEvent(text=turn["caller"], confidence=turn.get("confidence"))


def check_turn(where: str, reply, want: dict) -> None:
    said = reply.say.lower()
    for key in ("expecting", "lang", "state", "ended"):
        if key in want:
            assert getattr(reply, key) == want[key], f"{where}: {key} is {getattr(reply, key)!r}" \
                                                     f" not {want[key]!r}; agent said: {reply.say}"
    for text in want.get("hear", []):
        assert text.lower() in said, f"{where}: expected {text!r} in: {reply.say}"
    for text in want.get("not_hear", []):
        assert text.lower() not in said, f"{where}: did not expect {text!r} in: {reply.say}"


def run_call(agent: Agent, store: Store, call: dict, where: str) -> None:
    session, reply = agent.start(lang=call.get("lang"), caller_id=call.get("caller_id"))
    check_turn(f"{where} greeting", reply, call.get("greeting", {}))
    secrets = []
    for number, turn in enumerate(call["turn"], start=1):
        assert not reply.ended, f"{where}: the call ended before turn {number}"
        if reply.expecting in SECRET_EXPECTING and not turn.get("silence"):
            secrets.append(turn.get("caller") or turn.get("dtmf"))
        reply = agent.step(session, event_of(turn))
        assert reply.expecting in EXPECTING, f"{where}: {reply.expecting!r} is not in the contract"
        check_turn(f"{where} turn {number} ({turn.get('caller') or turn.get('dtmf') or 'silence'})",
                   reply, turn)
        check_not_english(reply, f"{where} turn {number}")
    if not reply.ended:
        agent.hangup(session)
    if "outcome" in call:
        assert session.outcome == call["outcome"], f"{where}: outcome {session.outcome!r}"
    if "final_lang" in call:
        assert session.lang == call["final_lang"], f"{where}: the call ended in {session.lang!r}"
    record = store.call(session.call_id)
    assert record["outcome"] == session.outcome
    transcript = " ".join(t["text"] for t in record["turns"])
    for secret in secrets:
        digits = "".join(ch for ch in secret if ch.isdigit())
        assert secret not in transcript and (len(digits) < 4 or digits not in transcript), \
            f"{where}: a secret reached the transcript"
    account_number = call.get("account")
    if account_number:
        account = store.account(account_number)
        if "payments" in call:
            paid = store.payments(account=account_number)
            assert len(paid) == call["payments"], f"{where}: {len(paid)} payments"
        if "status" in call:
            assert account.status == call["status"], f"{where}: status {account.status}"
        if "past_due_cents" in call:
            assert account.past_due_cents == call["past_due_cents"]
    check_store(store, call, where, session.call_id)


def check_store(store: Store, call: dict, where: str, call_id: int) -> None:
    params = {"account": call.get("account"), "call_id": call_id}
    for key, sql in STORE_COUNTS.items():
        if key in call:
            got = int(store.db.execute(sql, params).fetchone()[0])
            assert got == call[key], f"{where}: {key} is {got}, not {call[key]}"
    for key, sql in CALL_STATE.items():
        if key in call:
            got = [row[0] for row in store.db.execute(sql, {"call_id": call_id}).fetchall()]
            want = call[key] if isinstance(call[key], list) else [call[key]]
            assert got == want, f"{where}: {key} is {got}, not {want}"


# What one call left in the store, by call id (`paid_cents = [5000]`, `disputed = ["Late fee"]`).
CALL_STATE = {
    "paid_cents": "SELECT amount_cents FROM payments WHERE call_id = :call_id ORDER BY id",
    "paid_methods": "SELECT method FROM payments WHERE call_id = :call_id ORDER BY id",
    "paid_last4": "SELECT last4 FROM payments WHERE call_id = :call_id ORDER BY id",
    "disputed": "SELECT c.description FROM disputes d JOIN charges c ON c.account_number ="
                " d.account_number AND c.charge_id = d.charge_id WHERE d.call_id = :call_id"
                " ORDER BY d.id",
    "callback_phone": "SELECT phone FROM callbacks WHERE call_id = :call_id ORDER BY id",
}


# -- no English in another language's call ----------------------------------------------------
@cache
def english_fragments() -> frozenset[str]:
    """The literal text of every English prompt, cut at its placeholders, in pieces long enough
    that finding one in another language's reply means an English prompt was said."""
    others = [" ".join(load_catalog(lang).values()) for lang in ("es", "ko")]
    pieces = set()
    for text in load_catalog("en").values():
        for piece in re.split(r"\{[^}]*\}", text):
            piece = " ".join(piece.split()).strip(" .,:;!?")
            if len(piece.split()) >= MIN_WORDS and not any(piece in other for other in others):
                pieces.add(piece)
    return frozenset(pieces)


def english_in(text: str) -> list[str]:
    """English prompt texts found in an agent's reply."""
    return sorted(piece for piece in english_fragments() if piece in text)


def check_not_english(turn, where: str) -> None:
    """A turn in another language than English holds no English prompt; the language menu
    (each option in its own language) is the one turn that may."""
    if turn.lang == "en" or turn.expecting == "language":
        return
    found = english_in(turn.say)
    assert not found, f"{where}: English in a {turn.lang} turn: {found}; agent said: {turn.say}"


# -- scripted calls in unit tests -------------------------------------------------------------
class Call:
    """Drives one call: `say(text)`, `say(dtmf=...)`, `keys(dtmf)`, `silence()`; keeps every
    turn (`turns`, the last as `turn`) and checks each names an expectation of the contract."""

    def __init__(self, agent: Agent, lang: str | None = "en", caller_id: str | None = None,
                 today: dt.date | None = None):
        self.agent = agent
        self.session, self.turn = agent.start(lang=lang, caller_id=caller_id, today=today)
        self.turns = [self.turn]

    def send(self, event: CallerEvent):
        self.turn = self.agent.step(self.session, event)
        assert self.turn.expecting in EXPECTING
        self.turns.append(self.turn)
        return self.turn

    def say(self, text: str | None = None, dtmf: str | None = None,
            confidence: float | None = None):
        return self.send(CallerEvent(text=text, dtmf=dtmf, confidence=confidence))

    def keys(self, dtmf: str):
        return self.send(CallerEvent(dtmf=dtmf))

    def silence(self):
        return self.send(CallerEvent())

    def verify(self, account: str = "100200300", pin: str = "4321"):
        self.keys(account + "#")
        return self.keys(pin + "#")

    def verified(self, request: str, number: str, pin: str):
        """Ask for ``request``, then key the account number and PIN."""
        self.say(request)
        self.say(dtmf=f"{number}#")
        return self.say(dtmf=f"{pin}#")
