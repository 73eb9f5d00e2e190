"""Importing the billing export: upsert, charges replaced, secrets hashed, bad files refused whole."""
from __future__ import annotations

import json

import pytest

from voice_agent.cli import main
from voice_agent.store import ImportError_, Store

from store_helpers import FAST_HASH_ARGS, account_record, make_settings


def _counts(store: Store) -> dict:
    return {t: store.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("accounts", "charges", "audit_log")}


def test_import_upserts_and_replaces_charges(settings):
    store = Store.open(settings)
    report = store.import_accounts({"accounts": [account_record("111222333"),
                                                 account_record("444555666", pin=None)]})
    assert (report.accounts, report.created, report.updated, report.charges) == (2, 2, 0, 2)
    second = account_record("111222333", name="Renamed", balance_cents=500, charges=[
        {"id": "x1", "date": "2026-11-02", "description": "New", "amount_cents": 250},
        {"id": "x2", "date": "2026-11-03", "description": "Newer", "amount_cents": 250}])
    report = store.import_accounts({"accounts": [second]})
    assert (report.created, report.updated) == (0, 1)
    acc = store.account("111222333")
    assert acc.name == "Renamed" and acc.balance_cents == 500
    assert [c.id for c in store.charges("111222333")] == ["x1", "x2"]
    assert store.account("444555666").has_pin is False
    assert store.account("444555666").has_ssn is True


def test_secrets_are_hashed_with_pepper(settings):
    store = Store.open(settings)
    store.import_accounts({"accounts": [account_record("111222333", pin="9081",
                                                       ssn_last4="7364")]})
    pin_hash, ssn_hash = store.db.execute(
        "SELECT pin_hash, ssn_hash FROM accounts").fetchone()
    assert pin_hash.startswith("scrypt$256$8$1$") and ssn_hash.startswith("scrypt$")
    assert "9081" not in pin_hash + ssn_hash and "7364" not in pin_hash + ssn_hash
    assert store.verify("111222333", pin="9081").ok
    # Without the pepper file the same hash does not verify: the secret is not just salted.
    from voice_agent.store.crypto import check_secret
    assert check_secret("9081", pin_hash, store.hasher.pepper)
    assert not check_secret("9081", pin_hash, b"\0" * 32)


def test_default_cost_is_memory_hard():
    from voice_agent.settings import DEFAULTS
    cost = DEFAULTS["password_hash"]
    # At least 1 MiB per hash (it was 16 MiB until issue 15: 10,000 new accounts must import in
    # a minute; README "Import speed and the hashing parameters" says why the pepper, not this
    # cost, is what protects a stolen database).
    assert cost["n"] * cost["r"] * 128 >= 2**20


@pytest.mark.parametrize("bad, field", [
    ({"pin": "12"}, "pin"),
    ({"status": "closed"}, "status"),
    ({"balance_cents": 12.5}, "balance_cents"),
    ({"due_date": "12/03/2026"}, "due_date"),
    ({"zip": "2973"}, "zip"),
    ({"pin": None, "ssn_last4": None}, "pin"),
    ({"charges": [{"id": "c1", "date": "2026-11-01", "description": "x"}]},
     "charges[0].amount_cents"),
    ({"nickname": "JD"}, "nickname"),
])
def test_one_bad_record_writes_nothing(settings, bad, field):
    store = Store.open(settings)
    before = _counts(store)
    record = account_record("999888777", **bad)
    record = {k: v for k, v in record.items() if v is not None}
    data = {"accounts": [account_record("111222333"), record, account_record("444555666")]}
    with pytest.raises(ImportError_) as err:
        store.import_accounts(data)
    message = str(err.value)
    assert "record 2" in message and "999888777" in message and repr(field) in message
    assert _counts(store) == before


def test_bad_value_is_not_echoed(settings):
    store = Store.open(settings)
    with pytest.raises(ImportError_) as err:
        store.import_accounts({"accounts": [account_record("111222333", pin="98x7")]})
    assert "98x7" not in str(err.value)


def test_duplicate_account_in_file_refused(settings):
    store = Store.open(settings)
    with pytest.raises(ImportError_, match="appears twice"):
        store.import_accounts({"accounts": [account_record("111222333"),
                                            account_record("111222333")]})


def test_parallel_hashing_pool(tmp_path):
    settings = make_settings(tmp_path, import_workers=2)
    store = Store.open(settings)
    records = [account_record(f"5000000{i:02d}", pin=f"{1000 + i}", ssn_last4=f"{2000 + i}")
               for i in range(40)]
    assert store.import_accounts({"accounts": records}).accounts == 40
    assert store.verify("500000007", pin="1007").ok
    assert store.verify("500000031", zip="29730", ssn_last4="2031").ok
    assert not store.verify("500000031", pin="1007").ok


def test_cli_import(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"accounts": [account_record("111222333")]}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"accounts": [account_record("222333444"),
                                            account_record("333444555", status="gone")]}))
    db = str(tmp_path / "cli.db")
    sets = FAST_HASH_ARGS
    assert main(["db", "init", "--db", db, *sets]) == 0
    assert main(["db", "import", str(good), "--db", db, *sets]) == 0
    assert "imported 1 accounts" in capsys.readouterr().out
    assert main(["db", "import", str(bad), "--db", db, *sets]) == 2
    err = capsys.readouterr().err
    assert "record 2 (account 333444555): field 'status'" in err and "nothing was imported" in err
    (tmp_path / "notjson.json").write_text("{oops")
    assert main(["db", "import", str(tmp_path / "notjson.json"), "--db", db, *sets]) == 2
    store = Store.open(make_settings(tmp_path, database=db))
    assert [r[0] for r in store.db.execute("SELECT number FROM accounts")] == ["111222333"]


def test_db_init_demo(tmp_path, capsys):
    db = str(tmp_path / "demo.db")
    assert main(["db", "init", "--demo", "--db", db, *FAST_HASH_ARGS]) == 0
    store = Store.open(make_settings(tmp_path, database=db))
    accounts = {n: store.account(n) for n in ("100200300", "200300400", "300400500", "400500600")}
    assert accounts["100200300"].saved_methods[0].last4 == "1111"
    assert accounts["200300400"].past_due_cents > 0
    assert accounts["300400500"].status == "suspended" and accounts["300400500"].past_due_cents
    assert not accounts["400500600"].has_pin and accounts["400500600"].has_ssn
    assert store.verify("100200300", pin="4321").ok
    assert store.verify("400500600", zip="29715", ssn_last4="3690").ok


@pytest.mark.parametrize("bad, field", [
    ({"pin": "４３２１"}, "pin"),                       # full-width: could never be keyed
    ({"ssn_last4": "٦٧٨٩"}, "ssn_last4"),              # Arabic-Indic digits
    ({"zip": "２９７３０"}, "zip"),
])
def test_non_ascii_digits_are_refused_naming_record_and_field(settings, bad, field):
    store = Store.open(settings)
    before = _counts(store)
    with pytest.raises(ImportError_) as err:
        store.import_accounts({"accounts": [account_record("111222333"),
                                            account_record("999888777", **bad)]})
    message = str(err.value)
    assert message.startswith(f"record 2 (account 999888777): field {field!r}") and "0-9" in message
    assert bad[field] not in message
    assert _counts(store) == before
    with pytest.raises(ImportError_, match=r"record 1 \(account .*\): field 'account_number'.*0-9"):
        store.import_accounts({"accounts": [account_record("１１１２２２３３３")]})


def test_a_key_given_twice_is_refused_naming_record_and_field(tmp_path, capsys):
    db = str(tmp_path / "cli.db")
    assert main(["db", "init", "--db", db, *FAST_HASH_ARGS]) == 0
    first = json.dumps(account_record("111222333"))
    twice = json.dumps(account_record("444555666", pin="1111"))[:-1] + ', "pin": "2222"}'
    charge = account_record("777888999")
    charge["charges"] = [{"id": "c1", "date": "2026-11-01", "description": "x", "amount_cents": 1}]
    in_charge = json.dumps(charge).replace('"amount_cents": 1}', '"amount_cents": 1, "amount_cents": 9}')
    cases = {
        f'{{"accounts": [{first}, {twice}]}}': "record 2 (account 444555666): field 'pin': given twice",
        f'{{"accounts": [{in_charge}]}}': "record 1 (account 777888999): field 'charges[0].amount_cents':"
                                          " given twice",
        f'{{"accounts": [{first}], "accounts": []}}': "top-level field 'accounts' appears twice",
    }
    for i, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"dup{i}.json"
        path.write_text(text, encoding="utf-8")
        assert main(["db", "import", str(path), "--db", db, *FAST_HASH_ARGS]) == 2
        err = capsys.readouterr().err
        assert message in err and "nothing was imported" in err, err
        assert "2222" not in err and "1111" not in err
    store = Store.open(make_settings(tmp_path, database=db))
    assert store.db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 0
