"""Payments: posting, idempotency (also across processes), scheduling, restoration, listing."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from voice_agent.cli import main
from voice_agent.store import PaymentMethod, Store, StoreError
from voice_agent.store.db import READABLE_ALPHABET

from store_helpers import CARD, CARD2, FAST_HASH, FAST_HASH_ARGS, run_together

NOW = datetime.now(UTC)
TODAY = NOW.date()
VISA = PaymentMethod(kind="card", number=CARD, expiry=(12, TODAY.year + 2))
BANK = PaymentMethod(kind="bank", number="000123456789", routing="011000015", bank="First Bank")


def test_post_lowers_balance_and_past_due(store):
    before = store.account("200300400")
    result = store.post_payment("200300400", 5000, 250, VISA, "k-1", call_id=None)
    p = result.payment
    assert not result.duplicate and not result.restored and result.ticket is None
    assert (p.status, p.method, p.brand, p.last4, p.amount_cents, p.fee_cents) == (
        "approved", "card", "visa", "1111", 5000, 250)
    assert len(p.confirmation) == 8 and set(p.confirmation) <= set(READABLE_ALPHABET)
    assert not set("01OI") & set(p.confirmation)
    after = store.account("200300400")
    assert after.balance_cents == before.balance_cents - 5000
    assert after.past_due_cents == before.past_due_cents - 5000


def test_payment_row_keeps_token_not_number(store):
    store.post_payment("200300400", 5000, 250, VISA, "k-1")
    row = store.db.execute("SELECT * FROM payments").fetchone()
    assert CARD not in json.dumps(row)
    assert "cvv" not in " ".join(store.db["payments"].columns_dict).lower()


def test_same_key_same_amount_is_a_duplicate(store):
    first = store.post_payment("200300400", 5000, 250, VISA, "k-1")
    again = store.post_payment("200300400", 5000, 250, VISA, "k-1")
    assert again.duplicate and again.payment.confirmation == first.payment.confirmation
    assert store.account("200300400").balance_cents == 15675 - 5000
    with pytest.raises(StoreError, match="different payment"):
        store.post_payment("200300400", 6000, 250, VISA, "k-1")
    assert store.db.execute("SELECT COUNT(*) FROM payments").fetchone()[0] == 1


def test_same_key_from_two_processes_posts_once(tmp_path, settings):
    seed = Store.open(settings)
    seed.install_demo()
    seed.close()
    script = (
        "from voice_agent.settings import load_settings\n"
        "from voice_agent.store import Store, PaymentMethod\n"
        f"s = load_settings(env={{}}).with_overrides(database={str(settings.database)!r},"
        f" password_hash={FAST_HASH!r})\n"
        "st = Store.open(s)\n"
        f"m = PaymentMethod(kind='card', number={CARD!r}, expiry=(12, {TODAY.year + 2}))\n"
        "wait_go()\n"
        "r = st.post_payment('200300400', 4000, 250, m, 'same-key')\n"
        "print(r.payment.confirmation, r.duplicate)\n"
    )
    outs = run_together(tmp_path, script, n=3)
    results = [o.split()[-2:] for o in outs]
    assert len({conf for conf, _ in results}) == 1
    assert sorted(dup for _, dup in results) == ["False", "True", "True"]
    store = Store.open(settings)
    assert store.db.execute("SELECT COUNT(*) FROM payments").fetchone()[0] == 1
    assert store.account("200300400").balance_cents == 15675 - 4000
    assert store.audit_verify().ok


def test_restoration_when_past_due_is_paid(store):
    acc = store.account("300400500")
    assert acc.status == "suspended"
    partial = store.post_payment("300400500", 5000, 0, BANK, "r-1")
    assert not partial.restored and store.account("300400500").status == "suspended"
    result = store.post_payment("300400500", acc.past_due_cents - 5000, 0, BANK, "r-2")
    assert result.restored and result.ticket.startswith("T-")
    assert store.account("300400500").status == "active"
    assert store.tickets("300400500")[0]["kind"] == "restoration"


def test_dispute_is_held_out_of_past_due(store):
    acc = store.account("300400500")             # past due 9800, charge c3 is 800
    d = store.open_dispute("300400500", "c3", "never made these calls")
    assert not d.already_open
    assert store.open_dispute("300400500", "c3", "again") == type(d)(d.ticket, True)
    held = store.account("300400500")
    assert held.past_due_cents == acc.past_due_cents - 800 and held.disputed_cents == 800
    assert [c.disputed for c in store.charges("300400500")] == [False, False, True, False]
    # Paying what is past due apart from the disputed charge restores service.
    result = store.post_payment("300400500", held.past_due_cents, 0, BANK, "d-1")
    assert result.restored
    with pytest.raises(StoreError):
        store.open_dispute("300400500", "nope", "x")


def test_scheduled_payment_posts_once(store):
    when = TODAY + timedelta(days=3)
    r = store.post_payment("100200300", 3000, 250, VISA, "s-1", scheduled_for=when)
    assert r.payment.status == "scheduled" and r.payment.scheduled_for == when
    assert store.account("100200300").balance_cents == 8420
    assert [p.confirmation for p in store.scheduled_payments("100200300")] == [
        r.payment.confirmation]
    assert store.run_scheduled(when - timedelta(days=1)) == []
    posted = store.run_scheduled(when)
    assert [p.confirmation for p in posted] == [r.payment.confirmation]
    assert store.run_scheduled(when) == []
    assert store.account("100200300").balance_cents == 8420 - 3000


def test_run_scheduled_from_two_processes(tmp_path, settings):
    seed = Store.open(settings)
    seed.install_demo()
    when = TODAY + timedelta(days=2)
    for i, acc in enumerate(("100200300", "200300400", "400500600")):
        seed.post_payment(acc, 1000 + i, 0, BANK, f"sched-{i}", scheduled_for=when)
    seed.close()
    outs = run_together(tmp_path, (
        "import subprocess\n"
        "wait_go()\n"
        f"out = subprocess.run([sys.executable, '-m', 'voice_agent', 'payments', 'run-scheduled',"
        f" '--db', {str(settings.database)!r}, '--today', {when.isoformat()!r},"
        f" *{FAST_HASH_ARGS!r}], capture_output=True, text=True, check=True).stdout\n"
        "print(out.strip().splitlines()[-1].split()[0])\n"), n=2)
    assert sum(int(o.split()[-1]) for o in outs) == 3
    store = Store.open(settings)
    assert store.account("200300400").balance_cents == 15675 - 1001
    assert store.db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'payment_posted'"
                            ).fetchone()[0] == 3


def test_run_scheduled_killed_half_way_then_rerun(store, monkeypatch):
    when = TODAY + timedelta(days=2)
    for i, acc in enumerate(("100200300", "200300400", "400500600")):
        store.post_payment(acc, 1000, 0, BANK, f"half-{i}", scheduled_for=when)
    real, calls = store._apply_payment, []

    def dies_on_second(*args):
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real(*args)
    monkeypatch.setattr(store, "_apply_payment", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        store.run_scheduled(when)
    monkeypatch.undo()
    assert [p.status for p in store.scheduled_payments("200300400")] == ["scheduled"]
    assert len(store.run_scheduled(when)) == 2
    assert store.run_scheduled(when) == []
    for acc, before in (("100200300", 8420), ("200300400", 15675), ("400500600", 5600)):
        assert store.account(acc).balance_cents == before - 1000


def test_cancel_scheduled(store):
    r = store.post_payment("100200300", 3000, 250, VISA, "c-1",
                           scheduled_for=TODAY + timedelta(days=2))
    assert store.cancel_payment("100200300", r.payment.confirmation)
    assert not store.cancel_payment("100200300", r.payment.confirmation)
    assert store.run_scheduled(TODAY + timedelta(days=5)) == []
    assert store.db.execute("SELECT COUNT(*) FROM vault WHERE saved = 0").fetchone()[0] == 0


def test_saved_card_and_checks(store):
    saved = store.account("100200300").saved_methods[0]
    assert saved.number is None and saved.token
    r = store.post_payment("100200300", 2000, 250, saved, "sv-1")
    assert r.payment.last4 == "1111" and r.payment.brand == "visa"
    with pytest.raises(StoreError, match="not on this account"):
        store.post_payment("200300400", 2000, 250, saved, "sv-2")
    with pytest.raises(StoreError, match="not valid"):
        store.post_payment("100200300", 2000, 250, PaymentMethod(kind="card",
                                                                 number="4111111111111112"), "b")
    with pytest.raises(StoreError, match="expired"):
        store.post_payment("100200300", 2000, 250, PaymentMethod(
            kind="card", number=CARD2, expiry=(1, 20)), "e")
    with pytest.raises(StoreError, match="routing"):
        store.post_payment("100200300", 2000, 0, PaymentMethod(
            kind="bank", number="123456", routing="123456789"), "rt")


def test_limits(store):
    with pytest.raises(StoreError, match="smallest"):
        store.post_payment("100200300", 50, 0, BANK, "l-1")
    with pytest.raises(StoreError, match="largest"):
        store.post_payment("100200300", 100001, 0, BANK, "l-2")
    store.post_payment("100200300", 100000, 0, BANK, "l-3")
    store.post_payment("100200300", 100000, 0, BANK, "l-4")
    with pytest.raises(StoreError, match="daily limit"):
        store.post_payment("100200300", 100, 0, BANK, "l-5")
    with pytest.raises(StoreError, match="scheduled up to"):
        store.post_payment("200300400", 1000, 0, BANK, "l-6",
                           scheduled_for=store.account("200300400").due_date + timedelta(days=1))


def test_locked_account_cannot_pay(store):
    for _ in range(5):
        store.verify("100200300", pin="0000")
    with pytest.raises(StoreError, match="locked"):
        store.post_payment("100200300", 1000, 0, BANK, "lk")


def test_arrangement(store):
    plan = [(TODAY, 3000), (TODAY + timedelta(days=14), 2500), (TODAY + timedelta(days=28), 2250)]
    arr = store.create_arrangement("200300400", plan, VISA)
    assert arr.status == "active" and arr.reference.startswith("A-")
    assert [p.status for p in arr.installments] == ["approved", "scheduled", "scheduled"]
    assert all(p.arrangement_id == arr.id for p in arr.installments)
    assert store.active_arrangement("200300400").reference == arr.reference
    with pytest.raises(StoreError, match="already has"):
        store.create_arrangement("200300400", plan, VISA)
    assert store.account("200300400").saved_methods == []
    store.settlement_export(store.settings.database.parent / "b1.bin")
    store.run_scheduled(TODAY + timedelta(days=30))
    assert store.active_arrangement("200300400") is None
    assert store.settlement_export(store.settings.database.parent / "b2.bin") == 2
    with pytest.raises(StoreError, match="installments"):
        store.create_arrangement("100200300", [(TODAY, 1000)], VISA)


def test_callback(store):
    ref = store.request_callback("+18035550100", "morning", account_number="100200300")
    assert ref.startswith("CB-")
    assert store.db.execute("SELECT window FROM callbacks").fetchone()[0] == "morning"


def test_payments_list_cli_json_and_audited(tmp_path, settings, capsys):
    store = Store.open(settings)
    store.install_demo()
    store.post_payment("200300400", 5000, 250, VISA, "j-1")
    store.post_payment("100200300", 3000, 0, BANK, "j-2", scheduled_for=TODAY + timedelta(days=1))
    store.close()
    db = str(settings.database)
    assert main(["payments", "list", "--db", db, "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2
    for key in ("confirmation", "account_number", "amount_cents", "fee_cents", "method", "last4",
                "status", "created_at", "scheduled_for"):
        assert all(key in x for x in lines)
    assert {x["status"] for x in lines} == {"approved", "scheduled"}
    assert main(["payments", "list", "--db", db, "--status", "scheduled", "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert main(["payments", "list", "--db", db, "--account", "200300400"]) == 0
    assert "****1111" in capsys.readouterr().out
    store = Store.open(settings)
    reads = store.db.execute("SELECT details FROM audit_log WHERE event = 'payments_read'"
                             ).fetchall()
    assert len(reads) == 3 and '"reader":"staff-cli"' in reads[0][0]


def test_payments_table_shows_all_four_last_digits_of_a_long_brand(settings, capsys):
    """"mastercard ****4444" is 19 characters: the table once cut it to "****444"."""
    with Store.open(settings) as store:
        store.install_demo()
        store.post_payment("200300400", 5000, 250,
                           PaymentMethod(kind="card", number=CARD2, expiry=(12, TODAY.year + 2)), "mc")
    assert main(["payments", "list", "--db", str(settings.database)]) == 0
    assert "mastercard ****4444 " in capsys.readouterr().out
