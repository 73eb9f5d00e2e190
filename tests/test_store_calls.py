"""Call records and transcripts: redaction, and the `calls list` / `calls show` commands."""
from __future__ import annotations

import json

from voice_agent.cli import main
from voice_agent.redact import mask_caller_turn, mask_card_numbers
from voice_agent.store import Store

from store_helpers import CARD


def test_turns_in_order_with_redaction(store):
    call = store.start_call("phone", "es", caller_id="+18035550142")
    store.add_turn(call, "agent", "¿Cuál es su PIN?", expecting="pin")
    store.add_turn(call, "caller", "2468", expecting="pin", confidence=0.92, redact=True)
    # What the dialogue gives the store: the caller's turn masked (voice_agent.redact).
    store.add_turn(call, "caller", mask_caller_turn("mi cuenta es 200300400", "es"))
    store.end_call(call, "verified", account_number="200300400", summary="verified")
    record = store.call(call)
    assert [t["text"] for t in record["turns"]] == [     # 4+ digits in a caller turn: masked
        "¿Cuál es su PIN?", "[redacted]", "mi cuenta es *********"]
    assert record["turns"][1]["redacted"] == 1 and record["turns"][1]["confidence"] == 0.92
    assert record["outcome"] == "verified" and record["account_number"] == "200300400"
    assert store.db.execute("SELECT COUNT(*) FROM turns WHERE text LIKE '%2468%'"
                            ).fetchone()[0] == 0
    assert store.call(9999) is None
    assert [t["text"] for t in store.calls()[0]["turns"]] == [t["text"] for t in record["turns"]]


def test_card_numbers_masked_even_unflagged():
    assert mask_card_numbers(f"card {CARD} thanks") == "card [card ending 1111] thanks"
    assert mask_card_numbers("4111-1111-1111-1111") == "[card ending 1111]"
    # Not a card (fails Luhn) and short numbers stay: account numbers are not secrets.
    assert mask_card_numbers("4111111111111112") == "4111111111111112"
    assert mask_card_numbers("100200300") == "100200300"


def test_calls_cli(settings, capsys):
    store = Store.open(settings)
    call = store.start_call("text", "en")
    store.add_turn(call, "agent", "Welcome", expecting="menu")
    store.add_turn(call, "caller", "4321", redact=True)
    store.end_call(call, "hangup")
    store.close()
    db = str(settings.database)
    assert main(["calls", "list", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "hangup" in out and "text" in out
    assert main(["calls", "show", str(call), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "agent: Welcome" in out and "caller: [redacted]" in out and "4321" not in out
    assert main(["calls", "show", str(call), "--db", db, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["turns"]) == 2
    assert main(["calls", "show", "77", "--db", db]) == 1
    assert "no call 77" in capsys.readouterr().err
