"""A dialogue fault ends the call politely even when the store cannot record the goodbye (a full
disk fails the step's own write and then the turn's record): the caller hears it, the fault is
logged. Without a fault, a store that cannot record a turn is still an error."""
import sqlite3

import pytest

from conversation import Call


def full_disk_for_agent_turns(store, monkeypatch):
    recorded = store.add_turn

    def add_turn(call_id, speaker, *args, **kw):
        if speaker == "agent":
            raise sqlite3.OperationalError("database or disk is full")
        return recorded(call_id, speaker, *args, **kw)
    monkeypatch.setattr(store, "add_turn", add_turn)


def test_the_goodbye_is_said_when_it_cannot_be_recorded(demo_agent, monkeypatch, caplog):
    agent, store = demo_agent()
    call = Call(agent)
    call.say("pay my bill")
    call.keys("100200300#")

    def verify(*args, **kw):
        raise sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(store, "verify", verify)
    full_disk_for_agent_turns(store, monkeypatch)
    turn = call.keys("4321#")
    assert turn.ended and turn.outcome == "error" and "something went wrong" in turn.say
    assert "the end of the call could not be recorded" in caplog.text
    assert store.call(call.session.call_id)["ended_at"] is None   # closed later as interrupted


def test_without_a_fault_a_failed_record_is_an_error(demo_agent, monkeypatch):
    agent, store = demo_agent()
    call = Call(agent)
    full_disk_for_agent_turns(store, monkeypatch)
    with pytest.raises(sqlite3.OperationalError):
        call.say("pay my bill")
