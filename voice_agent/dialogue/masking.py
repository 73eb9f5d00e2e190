"""Long digit runs in what a caller said are masked before the turn is stored.

Steps that collect a secret store "[redacted]" (Step.redact), but a caller may blurt a card or
account number anywhere ("my card is 4111 1111 1111 1111" at the main menu, in a dispute reason).
So every caller turn stored in the call record goes through `mask_digit_runs`: a run of four or
more digits (spaces, dashes and dots between them count as one run, as people group digits)
keeps at most its last four; a run of exactly four (a PIN, SSN digits) is masked whole.
"""
from __future__ import annotations

import re

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
