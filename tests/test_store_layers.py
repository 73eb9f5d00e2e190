"""The store stores: it masks nothing itself and pulls in nothing of the NLU or the dialogue,
not at import and not later (a lazy import inside a method would show up after using it)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from voice_agent.redact import REDACTED

from store_helpers import CARD2, FAST_HASH

UPPER = ("voice_agent.nlu", "voice_agent.dialogue", "voice_agent.voice", "voice_agent.sip",
         "voice_agent.cli")

USE_THE_STORE = textwrap.dedent("""
    import json, sys
    from datetime import date, timedelta
    from pathlib import Path
    import voice_agent.store
    imported = sorted(sys.modules)
    from voice_agent.settings import load_settings
    from voice_agent.store import PaymentMethod, Store
    root = Path(sys.argv[1])
    settings = load_settings(env={}, cwd=root).with_overrides(
        database=str(root / "store.db"), password_hash=json.loads(sys.argv[2]))
    with Store.open(settings) as store:
        store.install_demo()
        assert store.verify("100200300", pin="4321").ok
        call = store.start_call("text", "es")
        store.add_turn(call, "caller", "mi pin es siete tres nueve cinco")
        store.add_turn(call, "caller", "4321", expecting="pin", redact=True)
        store.add_turn(call, "agent", "Gracias", expecting="menu")
        card = PaymentMethod(kind="card", number=sys.argv[3], expiry=(11, date.today().year + 3))
        assert store.post_payment("200300400", 5000, 250, card, "layers-1", call_id=call).payment
        bank = PaymentMethod(kind="bank", number="000123456789", routing="011000015")
        store.post_payment("100200300", 1000, 0, bank, "layers-2",
                           scheduled_for=date.today() + timedelta(days=1))
        store.run_scheduled(date.today() + timedelta(days=1))
        store.end_call(call, "paid", account_number="200300400", summary="payment X")
        store.calls()
        store.payments()
        store.settlement_export(root / "batch.bin")
        assert store.audit_verify().ok
    print(json.dumps({"at_import": imported, "after_use": sorted(sys.modules)}))
""")


def test_store_pulls_in_no_upper_layer_even_after_use(tmp_path):
    proc = subprocess.run([sys.executable, "-c", USE_THE_STORE, str(tmp_path),
                           json.dumps(FAST_HASH), CARD2],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    modules = json.loads(proc.stdout.splitlines()[-1])
    for when in ("at_import", "after_use"):
        assert [m for m in modules[when] if m.startswith(UPPER)] == [], when
    # (So the check above looked at a process that really used the store.)
    assert "voice_agent.store.settlement" in modules["after_use"]


def test_the_issue_acceptance_one_liner():
    code = ("import voice_agent.store, sys; assert not any(m.startswith(('voice_agent.nlu', "
            "'voice_agent.dialogue')) for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_turns_and_summary_are_stored_as_given(store):
    """Masking is the caller's job (the dialogue's, with voice_agent.redact): what the store is
    given is what it keeps, except that a turn flagged ``redact`` keeps no text at all."""
    call = store.start_call("text", "en")
    store.add_turn(call, "caller", "option 2, ref 1234 **** 1111", expecting="menu")
    store.add_turn(call, "caller", "7395", expecting="pin", redact=True)
    store.add_turn(call, "agent", "Your Visa ending 1111.")
    store.end_call(call, "completed", summary="balance; payment P-1")
    record = store.call(call)
    assert [(t["text"], t["redacted"]) for t in record["turns"]] == [
        ("option 2, ref 1234 **** 1111", 0), (REDACTED, 1), ("Your Visa ending 1111.", 0)]
    assert record["summary"] == "balance; payment P-1"
    assert store.db.execute("SELECT COUNT(*) FROM turns WHERE text LIKE '%7395%'"
                            ).fetchone()[0] == 0


def test_store_brands_cards_by_the_shared_rules(store):
    """A Luhn-valid number of a network the dialogue would not accept is still stored by the
    store (it checks validity, the dialogue decides what is accepted), labelled "card"."""
    from datetime import date

    from voice_agent.store import PaymentMethod
    expiry = (11, date.today().year + 3)
    for number, brand in ((CARD2, "mastercard"), ("378282246310005", "amex"),
                          ("3530111333300000", "card")):
        result = store.post_payment("200300400", 1000, 0,
                                    PaymentMethod(kind="card", number=number, expiry=expiry),
                                    f"brand-{brand}")
        assert result.payment.brand == brand, (number, result)
