#!/usr/bin/env python3
"""Speed of language understanding, with every language loaded at once.

Prints the load time, then per language the matching time per utterance (understand() on the
labelled intent sets in tests/nlu/<lang>/) as median and 99th percentile, and the parse time per
value kind (parse_value() on tests/nlu/<lang>/values.toml). Usage: python scripts/bench_nlu.py
[--repeat N]
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import tomllib
from pathlib import Path

from voice_agent.nlu import Understander

SETS = Path(__file__).resolve().parents[1] / "tests" / "nlu"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000.0)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per utterance")
    args = parser.parse_args()
    languages = tuple(sorted(p.name for p in SETS.iterdir() if p.is_dir()))
    start = time.perf_counter()
    nlu = Understander(languages=languages)
    print(f"loaded {', '.join(languages)} in {(time.perf_counter() - start) * 1000:.0f} ms")
    print(f"{'lang':<5}{'what':<22}{'n':>6}{'median ms':>12}{'p99 ms':>10}")
    for lang in languages:
        with (SETS / lang / "intents.toml").open("rb") as fh:
            utterances = [t for ts in tomllib.load(fh).values() for t in ts]
        for name in ("holdout.toml",):
            if (SETS / lang / name).exists():
                with (SETS / lang / name).open("rb") as fh:
                    utterances += [t for ts in tomllib.load(fh).values() for t in ts]
        times = [t for text in utterances
                 for t in timed(lambda: nlu.understand(text, lang), args.repeat)]
        print(f"{lang:<5}{'understand (intent)':<22}{len(utterances):>6}"
              f"{statistics.median(times):>12.3f}{percentile(times, 0.99):>10.3f}")
        with (SETS / lang / "values.toml").open("rb") as fh:
            values = tomllib.load(fh)
        today = dt.date.fromisoformat(values.pop("today"))
        for kind, cases in values.items():
            times = [t for text in cases for t in timed(
                lambda: nlu.parse_value(kind, text, lang, today=today), args.repeat)]
            print(f"{lang:<5}{'parse ' + kind:<22}{len(cases):>6}"
                  f"{statistics.median(times):>12.3f}{percentile(times, 0.99):>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
