"""Issue 5 conversations as data: tests/conversations/cases/<lang>/*.toml, through the real NLU and
store, with the runner (and the file format) of test_dialogue_conversations.

On top of that format, a call may state what the store must hold afterwards for its `account`:
`disputes` (open disputes), `arrangement` (installments of the active arrangement),
`arrangement_paid` (of them, already posted), `scheduled` (scheduled payments, arrangement
installments included), `callbacks` (callback requests of this call), `tickets` (restoration
tickets of the account). Every scenario exists in every language.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from test_dialogue_conversations import run_call

from voice_agent.dialogue import Agent
from voice_agent.settings import load_settings
from voice_agent.store import Store

HERE = Path(__file__).parent / "conversations" / "cases"
FILES = sorted(HERE.glob("*/*.toml"))
LANGS = ("en", "es", "ko")
# Cheap hashing for tests: the demo accounts' PINs are hashed on every fresh database.
FAST_HASH = {"password_hash": {"n": 16, "r": 1, "p": 1}}


@pytest.fixture(scope="module")
def nlu():
    from voice_agent.nlu import Understander
    return Understander(languages=LANGS)


def count(store: Store, sql: str, *params) -> int:
    return int(store.db.execute(sql, list(params)).fetchone()[0])


def check_store(store: Store, call: dict, where: str, call_id: int) -> None:
    number = call.get("account")
    checks = {
        "disputes": ("SELECT COUNT(*) FROM disputes WHERE account_number = ? AND status = 'open'",
                     number),
        "arrangement": ("SELECT COUNT(*) FROM payments p JOIN arrangements a ON"
                        " p.arrangement_id = a.id WHERE a.account_number = ? AND a.status ="
                        " 'active'", number),
        "arrangement_paid": ("SELECT COUNT(*) FROM payments p JOIN arrangements a ON"
                             " p.arrangement_id = a.id WHERE a.account_number = ? AND"
                             " p.status = 'approved'", number),
        "scheduled": ("SELECT COUNT(*) FROM payments WHERE account_number = ?"
                      " AND status = 'scheduled'", number),
        "callbacks": ("SELECT COUNT(*) FROM callbacks WHERE call_id = ?", call_id),
        "tickets": ("SELECT COUNT(*) FROM tickets WHERE account_number = ?"
                    " AND kind = 'restoration'", number),
    }
    for key, (sql, param) in checks.items():
        if key in call:
            got = count(store, sql, param)
            assert got == call[key], f"{where}: {key} is {got}, not {call[key]}"


def last_call_id(store: Store) -> int:
    return count(store, "SELECT MAX(id) FROM calls")


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_case_conversation(path: Path, tmp_path, nlu):
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    overrides = {**FAST_HASH, **spec.get("settings", {})}
    settings = load_settings(env={}, cli={"database": str(tmp_path / "conv.db"), **overrides})
    store = Store.open(settings)
    try:
        store.install_demo()
        agent = Agent(settings, store, nlu)
        for index, call in enumerate(spec["call"], start=1):
            where = f"cases/{path.parent.name}/{path.stem} call {index}"
            run_call(agent, store, call, where)
            check_store(store, call, where, last_call_id(store))
    finally:
        store.close()


def test_every_language_has_every_case():
    names = {lang: {p.stem for p in (HERE / lang).glob("*.toml")} for lang in LANGS}
    required = {"dispute", "dispute_again", "arrangement", "arrangement_refused",
                "schedule_and_cancel", "restore", "callback", "transfer", "options_fees",
                "security"}
    for lang in LANGS:
        assert required <= names[lang], f"{lang}: missing {sorted(required - names[lang])}"
