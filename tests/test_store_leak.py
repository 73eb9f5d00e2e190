"""No file the product writes holds a card number in clear; settlement round-trips and destroys."""
from __future__ import annotations

import stat
from datetime import date, timedelta

from voice_agent.cli import main
from voice_agent.redact import mask_caller_turn, mask_card_numbers
from voice_agent.store import PaymentMethod, Store
from voice_agent.store.settlement import MAGIC, read_settlement

from store_helpers import CARD2, FAST_HASH_ARGS, make_settings

SPACED = " ".join(CARD2[i:i + 4] for i in range(0, 16, 4))


def _files_holding(root, needles: list[bytes]) -> list[str]:
    hits = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.name}: {n!r}" for n in needles if n in data]
    return hits


def test_no_card_number_in_any_written_file(tmp_path):
    settings = make_settings(tmp_path, log_path=str(tmp_path / "agent.log"))
    store = Store.open(settings)
    store.install_demo()
    card = PaymentMethod(kind="card", number=CARD2, expiry=(11, date.today().year + 3))
    call = store.start_call("text", "en")
    # A card number said where the step does not redact, masked as the dialogue masks it.
    store.add_turn(call, "caller", mask_caller_turn(SPACED, "en"))
    store.add_turn(call, "caller", CARD2, redact=True)
    store.post_payment("200300400", 5000, 250, card, "leak-1", call_id=call)
    store.post_payment("100200300", 2000, 250, card, "leak-2",
                       scheduled_for=date.today() + timedelta(days=2))
    store.end_call(call, "paid", account_number="200300400",
                   summary=mask_card_numbers(f"paid with {CARD2}"))
    store.payments()
    # While the store is open the WAL holds the recent pages: check it too.
    assert (tmp_path / "store.db-wal").exists()
    needles = [CARD2.encode(), SPACED.encode(), CARD2.encode("utf-16-le")]
    assert _files_holding(tmp_path, needles) == []
    out = tmp_path / "exports" / "batch-1.bin"
    assert main(["settlement", "export", "--db", str(settings.database), "--out", str(out),
                 *FAST_HASH_ARGS, "--set", f"log_path={tmp_path / 'agent.log'}"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes().startswith(MAGIC)
    assert _files_holding(tmp_path, needles) == []
    store.run_scheduled(date.today() + timedelta(days=2))
    store.close()
    assert _files_holding(tmp_path, needles) == []

    # The batch decrypts to the full number (so the checks above were looking for real data).
    batch = read_settlement(out, settings.vault_key_path)
    assert batch["count"] == 1 and batch["payments"][0]["number"] == CARD2
    assert batch["payments"][0]["confirmation"] and "cvv" not in str(batch).lower()


def test_export_destroys_exported_vault_entries(tmp_path):
    settings = make_settings(tmp_path)
    store = Store.open(settings)
    store.install_demo()
    card = PaymentMethod(kind="card", number=CARD2, expiry=(11, date.today().year + 3))
    saved = store.account("100200300").saved_methods[0]
    store.post_payment("200300400", 5000, 250, card, "e-1")
    store.post_payment("100200300", 1000, 250, saved, "e-2")
    later = store.post_payment("100200300", 2000, 250, card, "e-3",
                               scheduled_for=date.today() + timedelta(days=1))
    vault_before = store.db.execute("SELECT COUNT(*) FROM vault").fetchone()[0]
    assert vault_before == 3                                 # saved card + two new cards
    assert store.settlement_export(tmp_path / "b1.bin") == 2
    tokens = store.db.execute("SELECT token, saved FROM vault").fetchall()
    # Left: the saved card (kept on file) and the scheduled payment's card (not exported yet).
    assert sorted(s for _, s in tokens) == [0, 1]
    assert store.settlement_export(tmp_path / "b2.bin") == 0
    store.run_scheduled(date.today() + timedelta(days=1))
    assert store.settlement_export(tmp_path / "b3.bin") == 1
    assert store.db.execute("SELECT COUNT(*) FROM vault WHERE saved = 0").fetchone()[0] == 0
    b3 = read_settlement(tmp_path / "b3.bin", settings.vault_key_path)
    assert b3["payments"][0]["confirmation"] == later.payment.confirmation
    assert b3["total_cents"] == 2000
    rows = store.db.execute("SELECT exported_at IS NOT NULL, settlement_batch FROM payments"
                            ).fetchall()
    assert all(r[0] and r[1] for r in rows)
    assert store.audit_verify().ok


def test_key_files_are_private(tmp_path):
    settings = make_settings(tmp_path)
    Store.open(settings).close()
    for path in (settings.vault_key_path, settings.pepper_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_export_refuses_existing_file(tmp_path, capsys):
    settings = make_settings(tmp_path)
    Store.open(settings).close()
    out = tmp_path / "exists.bin"
    out.write_bytes(b"keep me")
    assert main(["settlement", "export", "--db", str(settings.database), "--out", str(out)]) == 2
    assert out.read_bytes() == b"keep me"


def test_missing_key_files_are_refused_not_replaced(tmp_path):
    import pytest

    from voice_agent.store import StoreError
    settings = make_settings(tmp_path)
    store = Store.open(settings)
    store.install_demo()                          # hashes, audit entries, a saved card
    store.close()
    key = settings.vault_key_path.read_bytes()
    settings.vault_key_path.unlink()
    with pytest.raises(StoreError, match="vault key"):
        Store.open(settings)
    assert not settings.vault_key_path.exists()
    settings.vault_key_path.write_bytes(key)
    settings.pepper_path.rename(tmp_path / "pepper.bak")
    with pytest.raises(StoreError, match="pepper"):
        Store.open(settings)
    assert not settings.pepper_path.exists()
    (tmp_path / "pepper.bak").rename(settings.pepper_path)
    assert Store.open(settings).verify("100200300", pin="4321").ok
