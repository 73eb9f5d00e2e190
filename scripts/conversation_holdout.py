#!/usr/bin/env python3
"""Pass rate of the held-out natural-caller conversations, per set and language: the first set
(tests/conversations/holdout/<lang>/) and the second, written later before any further change
(tests/conversations/holdout2/<lang>/). They are never tuned on, so they are measured, not
asserted: a failing call is listed with the first thing that went wrong.

    .venv/bin/python scripts/conversation_holdout.py [--set holdout2] [--lang en] [--verbose]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from voice_agent.nlu import Understander  # noqa: E402
from voice_agent.settings import load_settings  # noqa: E402

from conversation import CONVERSATIONS, conversation_files, run_file  # noqa: E402

SETS = ("holdout", "holdout2")


def measure(name: str, nlu: Understander, lang: str | None, verbose: bool) -> None:
    """Run every call of one held-out set and print its pass rate per language."""
    results: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for path in conversation_files(CONVERSATIONS / name):
        if lang and path.parent.name != lang:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            try:
                run_file(path, Path(tmp), nlu)
                results[path.parent.name].append((path.stem, None))
            except AssertionError as exc:
                results[path.parent.name].append((path.stem, str(exc).splitlines()[0]))
    for code, rows in sorted(results.items()):
        passed = sum(1 for _, why in rows if why is None)
        print(f"{name} {code}: {passed}/{len(rows)} held-out calls pass"
              f" ({100 * passed / len(rows):.0f}%)")
        for stem, why in rows:
            if why is not None and verbose:
                print(f"  {stem}: {why}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=SETS, help="only this set (default: every set)")
    parser.add_argument("--lang", help="only this language")
    parser.add_argument("--verbose", action="store_true", help="print why each failing call failed")
    args = parser.parse_args()
    nlu = Understander(languages=tuple(load_settings(env={}).languages))
    for name in (args.set,) if args.set else SETS:
        measure(name, nlu, args.lang, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
