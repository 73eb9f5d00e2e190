"""Hypothesis feeds `voice-agent chat` arbitrary input lines - including bytes that are not
UTF-8, as a terminal or a pipe may deliver them - and the call always ends cleanly on record."""
from __future__ import annotations

import argparse
import io
import json
import shutil
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import voice_agent.nlu
from voice_agent.cli.chat_cmds import run_chat

from fault_helpers import scaled
from store_helpers import make_settings

line_bytes = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"pay my bill", b"dtmf:100200300#", b"dtmf:4321#", b"dtmf:12ab", b"",
                     b"yes", b"\xff\xfe pay", b"\xed\xa0\x80", b"dtmf:*", "네".encode()]),
).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))


@pytest.fixture(scope="module")
def shared_nlu(nlu):
    """chat loads the locales per call (~1 s); the examples share the run's Understander."""
    real = voice_agent.nlu.Understander
    voice_agent.nlu.Understander = lambda languages=None, **kw: nlu
    yield nlu
    voice_agent.nlu.Understander = real


@settings(max_examples=scaled(30, 300), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(line_bytes, min_size=1, max_size=12))
def test_any_input_bytes_end_the_call_cleanly(demo_template, shared_nlu, tmp_path_factory,
                                              lines):
    folder = tmp_path_factory.mktemp("chat")
    for f in demo_template.iterdir():
        shutil.copy(f, folder / f.name)
    s = make_settings(folder)
    # What sys.stdin hands over for undecodable bytes (surrogateescape), line by line.
    text = b"\n".join(lines + [b""]).decode("utf-8", "surrogateescape")
    args = argparse.Namespace(lang="en", caller_id=None, today=None, json=True)
    out = io.StringIO()
    assert run_chat(args, s, stdin=io.StringIO(text), stdout=out) == 0
    turns = [json.loads(line) for line in out.getvalue().splitlines()]
    assert turns[-1]["ended"] and turns[-1]["outcome"] != "system_error", turns[-1]
    conn = sqlite3.connect(str(s.database))
    assert conn.execute("SELECT COUNT(*) FROM calls WHERE ended_at IS NULL").fetchone()[0] == 0
    conn.close()
