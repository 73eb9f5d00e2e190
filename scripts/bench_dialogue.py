#!/usr/bin/env python3
"""Measure the dialogue's time per caller turn (NLU + engine + store writes), all languages loaded.

    python scripts/bench_dialogue.py                # 30 scripted card-payment calls
    python scripts/bench_dialogue.py --calls 100

Prints the figures; asserts nothing. The PIN turn is reported apart: it includes the store's
memory-hard hash check (scrypt), which is deliberately slow. Runs in a temporary directory.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from voice_agent.dialogue import Agent, CallerEvent
from voice_agent.nlu import Understander
from voice_agent.settings import load_settings
from voice_agent.store import Store

SCRIPT = ["i want to pay my bill", "one zero zero two zero zero three zero zero", "four three two one",
          "the full balance", "credit card",
          "four one one one one one one one one one one one one one one one", "twelve twenty nine",
          "no", "goodbye"]
PIN_TURN = 2


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env={}, cli={"database": str(Path(tmp) / "bench.db")})
        store = Store.open(settings)
        store.install_demo()
        started = time.perf_counter()
        nlu = Understander(languages=settings.languages)
        print(f"NLU load (en, es, ko): {time.perf_counter() - started:.2f} s")
        agent = Agent(settings, store, nlu)
        turns, pin_turns = [], []
        for _ in range(args.calls):
            session, _ = agent.start(lang="en")
            for index, text in enumerate(SCRIPT):
                started = time.perf_counter()
                agent.step(session, CallerEvent(text=text))
                (pin_turns if index == PIN_TURN else turns).append(time.perf_counter() - started)
        store.close()
    ms = 1000.0
    print(f"{len(turns)} turns: median {statistics.median(turns) * ms:.1f} ms, "
          f"p99 {percentile(turns, 0.99) * ms:.1f} ms, max {max(turns) * ms:.1f} ms")
    print(f"{len(pin_turns)} PIN turns (scrypt check): median "
          f"{statistics.median(pin_turns) * ms:.1f} ms, p99 {percentile(pin_turns, 0.99) * ms:.1f} ms")


if __name__ == "__main__":
    main()
