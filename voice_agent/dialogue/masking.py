"""Long digit runs in what a caller said are masked before the turn is stored.

Steps that collect a secret store "[redacted]" (Step.redact), but a caller may blurt a card or
account number anywhere ("my card is 4111 1111 1111 1111" at the main menu, in a dispute reason).
So every caller turn stored in the call record goes through `mask_digit_runs`: a run of four or
more digits (spaces, dashes and dots between them count as one run, as people group digits)
keeps at most its last four; a run of exactly four (a PIN, SSN digits) is masked whole.
A recogniser writes digits as words ("four one one one ...", "사 일 일 일 ..."): `mask_digit_words`
does the same to runs of single-digit number words, taken from locales/<lang>/numbers.toml.
"""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Iterable

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"

KEEP = 4
# A digit, then digits with at most one separator between each two.
_RUN = re.compile(r"\d(?:[ \-.]?\d)+")


def mask_digit_runs(text: str) -> str:
    """`text` with every run of 4+ digits masked ("*") except, for longer runs, its last four."""
    def mask(match: re.Match) -> str:
        run = match.group(0)
        count = sum(ch.isdigit() for ch in run)
        if count < KEEP:
            return run
        keep = KEEP if count > KEEP else 0
        out, seen = [], 0
        for ch in run:
            if ch.isdigit():
                seen += 1
                out.append(ch if seen > count - keep else "*")
            else:
                out.append(ch)
        return "".join(out)
    return _RUN.sub(mask, text)


@lru_cache(maxsize=None)
def digit_words(langs: tuple[str, ...], locales_dir: Path = LOCALES_DIR) -> frozenset[str]:
    """The words for single digits (0-9) in these languages' numbers.toml (zeros, cardinals)."""
    words: set[str] = set()
    for lang in langs:
        path = locales_dir / lang / "numbers.toml"
        if not path.exists():
            continue
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for table in ("zeros", "cardinals"):
            words |= {str(w).lower() for w, v in data.get(table, {}).items()
                      if isinstance(v, int) and 0 <= v <= 9}
    return frozenset(words)


def mask_digit_words(text: str, words: Iterable[str]) -> str:
    """`text` with every run of 4+ single-digit words (or lone digits) masked like digits:
    each word becomes "*", except the last four of a longer run."""
    words = set(words)
    parts = re.split(r"(\s+)", text)
    tokens = list(range(0, len(parts), 2))          # indexes of the words (odd ones are spaces)

    def is_digit(i: int) -> bool:
        word = parts[i].strip(",.;:!?").lower()
        return bool(word) and (word in words or (len(word) == 1 and word.isdigit()))

    run: list[int] = []
    for i in tokens + [None]:
        if i is not None and is_digit(i):
            run.append(i)
            continue
        if len(run) >= KEEP:
            hidden = run if len(run) == KEEP else run[:-KEEP]
            for j in hidden:
                parts[j] = "*"
        run = []
    return "".join(parts)
