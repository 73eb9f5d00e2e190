"""Several processes paying, scheduling, cancelling, disputing and running schedules on one
account at the same moment: every reported result is stored, balances add up, nothing doubles.

The harness is scripts/soak.py (``concurrency``); the soak repeats it many rounds.
"""
from __future__ import annotations

import pytest

from fault_helpers import load_script, scaled

soak = load_script("soak")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(scaled(1, 4)))
def test_processes_on_one_account_add_up(tmp_path, seed):
    report = soak.concurrency_test(tmp_path, workers=4, ops=scaled(30, 80), seed=seed)
    assert report["operations"] == 4 * scaled(30, 80)
    assert report["approved"] > 0 and report["disputed_charges"] >= 1
