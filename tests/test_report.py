"""The operations report (issue 15): its figures match the store for a seeded set of calls, the
HTML file is self-contained and holds numbers only."""
import base64
import json
import re

import pytest

from voice_agent.cli import main
from voice_agent.store import Store
from voice_agent.store.db import utcnow
from voice_agent.store.report import age_bucket, figures

from report_helpers import CALLER_WORDS, DAY2, EXPECTED, seed
from store_helpers import FAST_HASH_ARGS, make_settings


@pytest.fixture
def seeded(tmp_path):
    settings = make_settings(tmp_path)
    with Store.open(settings) as store:
        store.install_demo()
        seed(store, utcnow())
    return tmp_path / "store.db"


def report(capsys, db, *args) -> dict:
    status = main(["report", "--db", str(db), *FAST_HASH_ARGS, "--json", *args])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


def test_the_figures_match_the_store(seeded, capsys):
    got = report(capsys, seeded)
    for key, want in EXPECTED.items():
        assert got[key] == want, key
    assert got["period"]["from"] is None and got["period"]["to"] is None


def test_a_period_selects_calls_and_payments_by_day(seeded, capsys):
    got = report(capsys, seeded, "--from", DAY2.isoformat(), "--to", DAY2.isoformat())
    assert got["calls"]["total"] == 3
    assert got["outcomes"] == {"abandoned": 1, "completed": 1, "transferred": 1}
    assert [s["calls"] for s in got["funnel"]] == [1, 1, 1, 0, 0, 0]
    assert got["payments"] == EXPECTED["payments"][1:]
    assert got["open_cases"] == EXPECTED["open_cases"]       # open cases stand as they are now
    empty = report(capsys, seeded, "--to", "2026-01-01")
    assert empty["calls"] == {"total": 0, "per_day": []}
    assert empty["containment"]["rate"] is None


def test_the_html_is_self_contained_and_holds_numbers_only(seeded, capsys, tmp_path):
    out = tmp_path / "report.html"
    got = report(capsys, seeded, "--out", str(out))
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    # Every resource is inline: the only src/href values are data URIs.
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert len(sources) == 10 and all(s.startswith("data:image/svg+xml;base64,") for s in sources)
    assert "http:" not in html and "https:" not in html
    text = re.sub(r'data:[^"]*', "", html)
    charts = [base64.b64decode(s.split(",", 1)[1]).decode("utf-8") for s in sources]
    for secret in (CALLER_WORDS, "100200300", "200300400", "300400500", "400500600",
                   "agent text"):
        assert secret not in text and secret not in json.dumps(got)
        assert not any(secret in chart for chart in charts)     # text is drawn as paths anyway
    assert "1111" not in text and "1111" not in json.dumps(got)   # no card's last four either
    assert all("<svg" in chart for chart in charts)
    # The tables carry the same numbers as the figures.
    assert "<td>payment.method</td><td>en</td><td>0</td><td>1</td>" in html
    assert "<td>read-back</td><td>1</td><td>0</td>" in html
    assert "<td>40.0%</td>" in html


def test_without_out_or_json_it_says_what_to_give(seeded, capsys):
    assert main(["report", "--db", str(seeded), *FAST_HASH_ARGS]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["report", "--db", str(seeded), *FAST_HASH_ARGS, "--json", "--from",
                 "2026-11-05", "--to", "2026-11-01"]) == 2
    assert "after" in capsys.readouterr().err


def test_figures_of_an_empty_store(settings):
    with Store.open(settings) as store, store.tx.read() as db:
        got = figures(db)
    assert got["calls"]["total"] == 0 and got["funnel"][0] == {"stage": "started", "calls": 0,
                                                                 "dropped": 0}
    assert got["misses"] == got["confidence"] == got["payments"] == got["open_cases"] == []


@pytest.mark.parametrize(("days", "bucket"), [(0, "under 1 day"), (0.99, "under 1 day"),
                                              (1, "1-2 days"), (6.5, "3-6 days"),
                                              (13.9, "7-13 days"), (29, "14-29 days"),
                                              (30, "30 days or more")])
def test_age_buckets(days, bucket):
    assert age_bucket(days) == bucket
