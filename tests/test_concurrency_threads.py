"""One process serving several calls at once (the phone line's pattern): threads share one Store
and one Agent; every payment each thread was told about is stored once and the ledger adds up."""
from __future__ import annotations

import threading

from voice_agent.dialogue import Agent, CallerEvent

from fault_helpers import load_script, scaled

soak = load_script("soak")

PAY = ["pay my bill", "dtmf:900100200#", "dtmf:2580#", "dtmf:3", "dtmf:1500#", "dtmf:1",
       "dtmf:4111111111111111#", "dtmf:1230#", "dtmf:1", "dtmf:2", "goodbye"]


def event(spec: str) -> CallerEvent:
    return CallerEvent(dtmf=spec[5:]) if spec.startswith("dtmf:") else CallerEvent(text=spec)


def test_threads_sharing_one_store_and_agent(tmp_path, nlu):
    config = soak.prepare(tmp_path)
    store = soak.open_store(config)
    agent = Agent(store.settings, store, nlu)
    calls, threads = scaled(3, 10), 4
    told: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def caller(i: int) -> None:
        try:
            for c in range(calls):
                key_amount = None
                if c % 2:                                   # half the calls: the store directly
                    key = f"t{i}-{c}"
                    r = store.post_payment(soak.ACCOUNT, soak.amount_for(key), 0,
                                           soak.method_for(c), key)
                    key_amount = (r.payment.confirmation, r.payment.amount_cents)
                else:                                       # half: a whole dialogue
                    session, turn = agent.start(lang="en", channel="voice")
                    for spec in PAY:
                        if turn.ended:
                            break
                        turn = agent.step(session, event(spec))
                    assert turn.outcome == "paid", turn
                    key_amount = (session.payments[0], 1500)
                with lock:
                    told.append(key_amount)
        except BaseException as exc:        # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=caller, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    store.close()
    assert not errors, errors[0]
    found = soak.check_database(config)
    stored = {conf: amount for conf, amount, _ in found["rows"].values()}
    assert len(told) == calls * threads == len(stored)
    for conf, amount in told:
        assert stored[conf] == amount, conf
