"""The report page: the charts (charts.py) and the same numbers as tables, in one HTML file.

Everything is inline: each chart is an ``<img>`` whose ``src`` is a ``data:image/svg+xml`` URI,
the style sheet is in ``<style>``, and there is no script at all. Every value is escaped.
"""
from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape

from voice_agent.report import charts

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
img.chart { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: .85em; }
th, td { border: 1px solid #ccc; padding: .2em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
p.note { color: #555; font-size: .85em; }
"""


# The page may load nothing from anywhere: images are data URIs, the style is inline.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) / 100:,.2f}"


def _img(svg: str, name: str, alt: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<img class="chart" data-chart="{escape(name)}" alt="{escape(alt)}"'
            f' src="data:image/svg+xml;base64,{data}">')


def _table(name: str, head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in rows)
    return (f'<table data-table="{escape(name)}"><thead><tr>{cells}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _section(title: str, *parts: str, note: str = "") -> str:
    text = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{text}{''.join(parts)}</section>"


def render_html(figures: dict, title: str = "Voice line operations report") -> str:
    """The whole report for ``figures`` (voice_agent.store.report.figures)."""
    period = figures["period"]
    span = f"{period['from'] or 'first call'} to {period['to'] or 'today'}"
    c = figures["containment"]
    sections = [
        _section("Calls per day",
                 _img(charts.calls_by(figures, "channel"), "calls_by_channel",
                      "Calls per day by channel"),
                 _img(charts.calls_by(figures, "lang"), "calls_by_language",
                      "Calls per day by language"),
                 _table("calls", ("day", "channel", "language", "calls"),
                        [(r["day"], r["channel"], r["lang"], r["calls"])
                         for r in figures["calls"]["per_day"]]),
                 note=f"{figures['calls']['total']} calls; the language is the one each call was"
                      " held in (after a choice at the menu)."),
        _section("Outcomes",
                 _img(charts.outcomes(figures), "outcomes", "Call outcomes"),
                 _table("outcomes", ("outcome", "calls"), figures["outcomes"].items())),
        _section("Containment",
                 _img(charts.containment(figures), "containment", "Containment"),
                 _table("containment", ("ended", "contained", "handed off", "abandoned",
                                        "failed", "rate"),
                        [(c["ended"], c["contained"], c["handed_off"], c["abandoned"], c["failed"],
                          "-" if c["rate"] is None else f"{c['rate']:.1%}")]),
                 note="Contained: ended paid or completed with no person. Handed off: transferred."
                      " Abandoned: hung up with nothing done. Failed: no input, no match, locked"
                      " out, error or interrupted."),
        _section("Payment-call funnel",
                 _img(charts.funnel(figures), "funnel", "Payment-call funnel"),
                 _table("funnel", ("stage", "calls", "lost before the next stage"),
                        [(s["stage"], s["calls"], s["dropped"]) for s in figures["funnel"]]),
                 note="Calls that asked to pay; verified: reached the payment questions."),
        _section("No-input and no-match hot spots",
                 _img(charts.misses(figures), "misses", "No-input and no-match hot spots"),
                 _table("misses", ("step", "language", "no input", "no match"),
                        [(s["step"], s["lang"], s["no_input"], s["no_match"])
                         for s in figures["misses"]])),
        _section("Recognition confidence per step",
                 _img(charts.confidence(figures), "confidence", "Confidence bands per step"),
                 _table("confidence", ("step", "low", "confirm", "accepted", "turns", "mean"),
                        [(r["step"], r["low"], r["confirm"], r["accepted"], r["turns"], r["mean"])
                         for r in figures["confidence"]]),
                 note="Low: below the confirm threshold (asked again); confirm: read back;"
                      " accepted: taken as heard."),
        _section("Payments and fees",
                 _img(charts.payments(figures, "amount_cents"), "payments", "Payments per day"),
                 _img(charts.payments(figures, "fee_cents"), "fees", "Fees per day"),
                 _table("payments", ("day", "method", "payments", "amount", "fees"),
                        [(r["day"], r["method"], r["payments"], _dollars(r["amount_cents"]),
                          _dollars(r["fee_cents"])) for r in figures["payments"]]),
                 note="Payments taken (approved or scheduled), by the day they were taken."),
        _section("Open cases by age",
                 _img(charts.open_cases(figures), "open_cases", "Open cases by age"),
                 _table("open_cases", ("kind", "age", "cases"),
                        [(r["kind"], r["age"], r["cases"]) for r in figures["open_cases"]]),
                 note="As they stand when the report was made."),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1><p>{escape(span)}; made {escape(period['generated_at'])}"
            f" (UTC)</p>{''.join(sections)}</body></html>\n")
