"""The Korean speech set of scripts/bench_accuracy.py is scored by meaning: each case must mean
something at its step, and different answers must not score as the same (or the figure could
not fall when recognition gets worse)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import bench_accuracy  # noqa: E402


def test_every_case_means_something_at_its_step(nlu):
    for text, expect in bench_accuracy.CASES:
        assert bench_accuracy.meaning(nlu, text, expect) != (None, None, None), text


def test_different_answers_do_not_score_alike(nlu):
    m = bench_accuracy.meaning
    assert m(nlu, "네", "confirm") != m(nlu, "아니요", "confirm")
    assert m(nlu, "카드", "payment_method") != m(nlu, "계좌", "payment_method")
    assert m(nlu, "영어", "language") != m(nlu, "스페인어", "language")
    assert m(nlu, "상담원", "confirm") != m(nlu, "네", "confirm")
    assert m(nlu, "계좌 로", "payment_method") != m(nlu, "카드", "payment_method")
    assert m(nlu, "어", "language") != m(nlu, "한국어", "language")
