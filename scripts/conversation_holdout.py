#!/usr/bin/env python3
"""Pass rate of the held-out natural-caller conversations (tests/conversations/holdout/<lang>/),
per language. They are never tuned on, so they are measured, not asserted: a failing call is
listed with the first thing that went wrong.

    .venv/bin/python scripts/conversation_holdout.py [--lang en] [--verbose]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", help="only this language")
    parser.add_argument("--verbose", action="store_true", help="print why each failing call failed")
    args = parser.parse_args()
    nlu = Understander(languages=tuple(load_settings(env={}).languages))
    results: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for path in conversation_files(CONVERSATIONS / "holdout"):
        lang = path.parent.name
        if args.lang and lang != args.lang:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            try:
                run_file(path, Path(tmp), nlu)
                results[lang].append((path.stem, None))
            except AssertionError as exc:
                results[lang].append((path.stem, str(exc).splitlines()[0]))
    for lang, rows in sorted(results.items()):
        passed = sum(1 for _, why in rows if why is None)
        print(f"{lang}: {passed}/{len(rows)} held-out calls pass ({100 * passed / len(rows):.0f}%)")
        for name, why in rows:
            if why is not None and args.verbose:
                print(f"  {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
