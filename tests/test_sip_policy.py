"""SIP admission policy and caller ID parsing: pure functions, no SIP stack needed."""
import threading

import pytest

from voice_agent.sip.policy import (
    BUSY_HERE,
    FORBIDDEN,
    CallSlots,
    PeerAllowList,
    SipSettingsError,
    admit,
    caller_id,
    parse_hostport,
)


def test_allow_list_addresses_and_networks():
    allow = PeerAllowList(["127.0.0.1", "10.1.0.0/16", "::1"])
    assert allow.allows("127.0.0.1:5060")
    assert allow.allows("10.1.200.3:5080")
    assert allow.allows("[::1]:5060")
    assert not allow.allows("127.0.0.2:5060")
    assert not allow.allows("10.2.0.1:5060")
    assert not allow.allows("garbage")


def test_allow_list_rejects_bad_entries():
    with pytest.raises(SipSettingsError, match="nonsense"):
        PeerAllowList(["nonsense"])


def test_slots_are_counted_across_threads():
    slots = CallSlots(3)
    results = []
    threads = [threading.Thread(target=lambda: results.append(slots.take())) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 3 and slots.active == 3
    slots.give_back()
    assert slots.take() and not slots.take()


def test_admit_order_forbidden_before_busy():
    allow, slots = PeerAllowList(["127.0.0.1"]), CallSlots(1)
    assert admit(allow, slots, "127.0.0.1:1").status == 0
    assert admit(allow, slots, "127.0.0.1:1").status == BUSY_HERE
    assert admit(allow, slots, "192.0.2.9:1").status == FORBIDDEN
    assert slots.active == 1


@pytest.mark.parametrize("header,number", [
    ('"Kim" <sip:+18035550123@pbx.example;user=phone>;tag=1', "+18035550123"),
    ("<sip:8035550123@10.0.0.1>", "8035550123"),
    ("sip:803-555-0123@pbx", "8035550123"),
    ('"Anonymous" <sip:anonymous@anonymous.invalid>', None),
    ("<sip:caller@127.0.0.1>", None),
    ("", None),
])
def test_caller_id(header, number):
    assert caller_id(header) == number


def test_parse_hostport():
    assert parse_hostport("127.0.0.1:5070") == ("127.0.0.1", 5070)
    assert parse_hostport("0.0.0.0") == ("0.0.0.0", 5060)
    assert parse_hostport("[::1]:5080") == ("::1", 5080)
    for bad in ("", "host:99999", "a b"):
        with pytest.raises(SipSettingsError):
            parse_hostport(bad)
