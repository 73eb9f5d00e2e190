"""Staff work queues (issue 15): cases made in typed calls are listed with their references and
worked with `voice-agent cases ...`; each action is audited with who took it and the chain
holds."""
import json
import tomllib

import pytest

from voice_agent.cli import main
from voice_agent.dialogue import Agent
from voice_agent.store import Store, StoreError

from conversation import CONVERSATIONS, Call, event_of
from store_helpers import FAST_HASH_ARGS, make_settings


def typed_call(agent: Agent, name: str) -> int:
    """Say the first call of a conversation file (tests/conversations/cases/en/<name>.toml)."""
    spec = tomllib.loads((CONVERSATIONS / "cases" / "en" / f"{name}.toml").read_text("utf-8"))
    call = spec["call"][0]
    session, reply = agent.start(lang=call.get("lang"), caller_id=call.get("caller_id"))
    for turn in call["turn"]:
        assert not reply.ended, f"{name}: the call ended early"
        reply = agent.step(session, event_of(turn))
    if not reply.ended:
        agent.hangup(session)
    return session.call_id


def balance_heard(agent: Agent, number: str, pin: str) -> str:
    call = Call(agent)
    turn = call.verified("how much do i owe", number, pin)
    if turn.state == "verify.language_offer":          # Carlos is offered Spanish: stay in English
        turn = call.say("no")
    return turn.say


def cli(capsys, db, *args) -> tuple[int, str, str]:
    status = main([*args, "--db", str(db), *FAST_HASH_ARGS])
    out, err = capsys.readouterr()
    return status, out, err


def dollars(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


@pytest.fixture
def worked(tmp_path, nlu):
    """A demo store where typed calls made an arrangement, a dispute and a callback request."""
    settings = make_settings(tmp_path)
    store = Store.open(settings)
    store.install_demo()
    agent = Agent(settings, store, nlu)
    calls = {name: typed_call(agent, name) for name in ("arrangement", "dispute", "callback")}
    yield agent, store, calls, tmp_path / "store.db"
    store.close()


def refs(store: Store, table: str, column: str, call_id: int) -> list[str]:
    return [r[0] for r in store.db.execute(f"SELECT {column} FROM {table} WHERE call_id = ?",
                                           [call_id])]


def test_cases_from_typed_calls_are_listed_with_their_references(worked, capsys):
    agent, store, calls, db = worked
    dispute = refs(store, "disputes", "ticket", calls["dispute"])
    callback = refs(store, "callbacks", "reference", calls["callback"])
    arrangement = refs(store, "arrangements", "reference", calls["arrangement"])
    assert len(dispute) == len(callback) == len(arrangement) == 1
    status, out, _ = cli(capsys, db, "cases", "list", "--json")
    assert status == 0
    listed = [json.loads(line) for line in out.splitlines()]
    by_ref = {c["reference"]: c for c in listed}
    assert by_ref[dispute[0]]["kind"] == "dispute" and by_ref[dispute[0]]["open"]
    assert by_ref[dispute[0]]["call_id"] == calls["dispute"]
    assert by_ref[dispute[0]]["amount_cents"] == 1500
    assert by_ref[callback[0]]["kind"] == "callback"
    assert by_ref[callback[0]]["phone"] == "18035550100"
    assert by_ref[arrangement[0]]["kind"] == "arrangement"
    assert [p["status"] for p in by_ref[arrangement[0]]["installments"]] == ["approved", "scheduled"]
    # Filters: kind, status, account.
    status, out, _ = cli(capsys, db, "cases", "list", "--json", "--kind", "callback")
    assert [json.loads(line)["reference"] for line in out.splitlines()] == callback
    status, out, _ = cli(capsys, db, "cases", "list", "--json", "--account", "200300400",
                         "--status", "open")
    assert sorted(json.loads(line)["reference"] for line in out.splitlines()) == \
        sorted(dispute + arrangement)
    status, out, _ = cli(capsys, db, "cases", "list")
    assert status == 0 and dispute[0] in out and "callback" in out
    status, out, _ = cli(capsys, db, "cases", "show", dispute[0].lower())
    assert status == 0 and dispute[0] in out and "charge c3 $15.00" in out


def test_a_credit_changes_the_balance_the_next_caller_hears(worked, capsys):
    agent, store, calls, db = worked
    [ticket] = refs(store, "disputes", "ticket", calls["dispute"])
    before = store.account("200300400")
    assert dollars(before.balance_cents) in balance_heard(agent, "200300400", "2468")
    status, out, err = cli(capsys, db, "cases", "resolve", ticket, "--outcome", "credited",
                           "--by", "alice")
    assert status == 0, err
    assert "$15.00 credited" in out and "alice" in out
    after = store.account("200300400")
    assert after.balance_cents == before.balance_cents - 1500
    # The disputed amount no longer held out, the credit taken off: the past due is unchanged.
    assert after.past_due_cents == before.past_due_cents and after.disputed_cents == 0
    heard = balance_heard(agent, "200300400", "2468")
    assert dollars(after.balance_cents) in heard and dollars(before.balance_cents) not in heard
    # A dispute is resolved once; other kinds are not resolved.
    status, _, err = cli(capsys, db, "cases", "resolve", ticket, "--outcome", "upheld")
    assert status == 1 and "already resolved" in err and "alice" in err
    [cb] = refs(store, "callbacks", "reference", calls["callback"])
    status, _, err = cli(capsys, db, "cases", "resolve", cb, "--outcome", "upheld")
    assert status == 1 and "is a callback" in err
    entry = audit_entries(store, "dispute_resolved")
    assert entry == [("200300400", {"ticket": ticket, "outcome": "credited", "credit_cents": 1500,
                                    "by": "alice"})]


def test_cancelling_an_arrangement_cancels_its_scheduled_payments(worked, capsys):
    agent, store, calls, db = worked
    [reference] = refs(store, "arrangements", "reference", calls["arrangement"])
    scheduled = store.scheduled_payments("200300400")
    assert len(scheduled) == 1
    tokens = [r[0] for r in store.db.execute("SELECT token FROM payments WHERE status ="
                                             " 'scheduled'")]
    status, out, err = cli(capsys, db, "cases", "cancel", reference, "--by", "bob")
    assert status == 0, err
    assert "1 scheduled installment" in out
    assert store.scheduled_payments("200300400") == []
    status, out, _ = cli(capsys, db, "payments", "list", "--json", "--account", "200300400")
    states = {json.loads(line)["confirmation"]: json.loads(line)["status"]
              for line in out.splitlines()}
    assert states[scheduled[0].confirmation] == "cancelled"
    assert list(states.values()).count("approved") == 1      # the installment already paid
    assert store.case(reference)["status"] == "cancelled"
    assert store.case(reference)["closed_by"] == "bob"
    # The bank details stay in the vault only for the paid installment's settlement.
    assert store.db.execute("SELECT COUNT(*) FROM vault WHERE token IN (?)",
                            tokens).fetchone()[0] == 1
    store.settlement_export(db.parent / "batch.bin")
    assert store.db.execute("SELECT COUNT(*) FROM vault WHERE token IN (?)",
                            tokens).fetchone()[0] == 0
    # Nothing is posted later by the scheduler.
    assert store.run_scheduled(scheduled[0].scheduled_for) == []
    [(account, details)] = audit_entries(store, "arrangement_cancelled")
    assert account == "200300400" and details["by"] == "bob"
    assert details["installments_cancelled"] == [scheduled[0].confirmation]


def test_done_closes_callbacks_and_every_action_is_audited(worked, capsys, monkeypatch):
    agent, store, calls, db = worked
    [cb] = refs(store, "callbacks", "reference", calls["callback"])
    monkeypatch.setenv("LOGNAME", "carol")
    monkeypatch.setenv("USER", "carol")
    status, out, err = cli(capsys, db, "cases", "done", cb)
    assert status == 0, err
    assert "(by carol)" in out
    status, out, _ = cli(capsys, db, "cases", "list", "--json", "--status", "open",
                         "--kind", "callback")
    assert out == ""
    status, out, _ = cli(capsys, db, "cases", "list", "--json", "--status", "done")
    assert [json.loads(line)["closed_by"] for line in out.splitlines()] == ["carol"]
    assert audit_entries(store, "callback_done") == [(None, {"reference": cb, "by": "carol"})]
    assert audit_entries(store, "cases_read")          # reading the queues is audited too
    status, out, err = cli(capsys, db, "audit", "verify")
    assert status == 0, err
    assert "audit log intact" in out
    status, _, err = cli(capsys, db, "cases", "done", "CB-NOSUCH")
    assert status == 1 and "no case CB-NOSUCH" in err


def test_upheld_puts_the_amount_back_in_the_past_due(store):
    before = store.account("200300400")
    ticket = store.open_dispute("200300400", "c3", "").ticket
    assert store.account("200300400").past_due_cents == before.past_due_cents - 1500
    with pytest.raises(StoreError, match="at most the disputed amount"):
        store.resolve_dispute(ticket, "credited", by="x", credit_cents=1501)
    with pytest.raises(StoreError, match="goes with the outcome credited"):
        store.resolve_dispute(ticket, "upheld", by="x", credit_cents=100)
    case = store.resolve_dispute(ticket, "upheld", by="dana")
    assert (case["status"], case["outcome"], case["credit_cents"]) == ("resolved", "upheld", 0)
    assert store.account("200300400") == before          # nothing credited, nothing held out


def test_a_part_credit(store):
    ticket = store.open_dispute("200300400", "c3", "").ticket
    before = store.account("200300400").balance_cents
    store.resolve_dispute(ticket, "credited", by="x", credit_cents=700)
    assert store.account("200300400").balance_cents == before - 700


def audit_entries(store: Store, event: str) -> list[tuple]:
    return [(a, json.loads(d)) for a, d in store.db.execute(
        "SELECT account_number, details FROM audit_log WHERE event = ? ORDER BY seq", [event])]
