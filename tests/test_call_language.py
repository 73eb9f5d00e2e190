"""The language a call was held in is recorded (issue 15): a caller who picks Spanish at the
menu shows `es` in `calls list`, and every change is kept in order."""
import json

from voice_agent.cli import main

from conversation import Call
from store_helpers import FAST_HASH_ARGS


def test_a_language_picked_at_the_menu_is_the_calls_language(demo_agent, capsys):
    agent, store = demo_agent()
    call = Call(agent, lang=None)
    assert call.turn.expecting == "language"
    assert call.say("español").lang == "es"
    call.say("quiero pagar mi factura")
    agent.hangup(call.session)
    record = store.call(call.session.call_id)
    assert (record["lang"], record["languages"]) == ("es", "en,es")
    assert [t["lang"] for t in record["turns"]][:3] == ["en", "en", "es"]
    assert main(["calls", "list", "--db", str(store.settings.database), *FAST_HASH_ARGS]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert line.split()[3] == "es"
    assert main(["calls", "list", "--json", "--db", str(store.settings.database),
                 *FAST_HASH_ARGS]) == 0
    listed = json.loads(capsys.readouterr().out.splitlines()[0])
    assert (listed["lang"], listed["languages"]) == ("es", "en,es")
    assert main(["calls", "show", str(call.session.call_id), "--db", str(store.settings.database),
                 *FAST_HASH_ARGS]) == 0
    assert "  es (languages en,es)  started" in capsys.readouterr().out.splitlines()[0]


def test_a_call_in_one_language_and_changes_back_and_forth(demo_agent):
    agent, store = demo_agent()
    call = Call(agent, lang="ko")
    agent.hangup(call.session)
    record = store.call(call.session.call_id)
    assert (record["lang"], record["languages"]) == ("ko", "ko")
    call_id = store.start_call("text", "en")
    for lang in ("en", "es", "es", "en"):
        store.add_turn(call_id, "agent", "...", lang=lang)
    store.add_turn(call_id, "agent", "...")                 # no language given: no change
    record = store.call(call_id)
    assert (record["lang"], record["languages"]) == ("en", "en,es,en")
