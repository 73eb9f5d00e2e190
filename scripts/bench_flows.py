#!/usr/bin/env python3
"""Measure the time per caller turn in the issue-5 flows (disputes, arrangements, scheduled
payments, restoration, callbacks, options, security), per language, all languages loaded.

    python scripts/bench_flows.py              # every scenario in tests/conversations/cases, 5 rounds
    python scripts/bench_flows.py --rounds 20

Replays the caller turns of the conversation data files on a fresh demo database per file and
round (cheap hashing, so the PIN turn measures the dialogue, not scrypt). Prints median, p95 and
max per language and the slowest states; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tomllib
from collections import defaultdict
from pathlib import Path

from voice_agent.dialogue import Agent, CallerEvent
from voice_agent.nlu import Understander
from voice_agent.settings import load_settings
from voice_agent.store import Store

CASES = Path(__file__).resolve().parents[1] / "tests" / "conversations" / "cases"
FAST_HASH = {"password_hash": {"n": 16, "r": 1, "p": 1}}


def event_of(turn: dict) -> CallerEvent:
    if turn.get("silence"):
        return CallerEvent()
    if "dtmf" in turn:
        return CallerEvent(dtmf=turn["dtmf"])
    return CallerEvent(text=turn["caller"])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    nlu = Understander(languages=("en", "es", "ko"))
    print(f"NLU load (en, es, ko): {time.perf_counter() - started:.2f} s")
    by_lang: dict[str, list[float]] = defaultdict(list)
    by_state: dict[str, list[float]] = defaultdict(list)
    files = sorted(CASES.glob("*/*.toml"))
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for path in files:
                spec = tomllib.loads(path.read_text(encoding="utf-8"))
                db = Path(tmp) / f"{round_}-{path.parent.name}-{path.stem}.db"
                settings = load_settings(env={}, cli={"database": str(db), **FAST_HASH,
                                                      **spec.get("settings", {})})
                store = Store.open(settings)
                store.install_demo()
                agent = Agent(settings, store, nlu)
                for call in spec["call"]:
                    session, _ = agent.start(lang=call.get("lang"),
                                             caller_id=call.get("caller_id"))
                    for turn in call["turn"]:
                        state = session.state
                        began = time.perf_counter()
                        agent.step(session, event_of(turn))
                        spent = time.perf_counter() - began
                        by_lang[path.parent.name].append(spent)
                        by_state[state].append(spent)
                    if not session.ended:
                        agent.hangup(session)
                store.close()
    ms = 1000.0
    for lang, times in sorted(by_lang.items()):
        print(f"{lang}: {len(times)} turns, median {statistics.median(times) * ms:.1f} ms, "
              f"p95 {percentile(times, 0.95) * ms:.1f} ms, max {max(times) * ms:.1f} ms")
    slowest = sorted(by_state.items(), key=lambda kv: statistics.median(kv[1]), reverse=True)[:5]
    print("slowest states (median): " + ", ".join(
        f"{state} {statistics.median(times) * ms:.1f} ms" for state, times in slowest))


if __name__ == "__main__":
    main()
