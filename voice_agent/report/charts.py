"""Each figure of the report as an SVG chart, drawn with matplotlib.

``matplotlib.figure.Figure`` is used directly (no pyplot): no global figure state and no GUI
backend, so it draws the same in a server process, a thread or a test. Text is drawn as paths
(``svg.fonttype = "path"``), so a chart needs no font on the PC that opens it. Each chart is
returned as SVG text; page.py embeds it as an ``<img>`` data URI (one document per chart: the
ids matplotlib gives its glyphs and clip paths cannot clash between charts).
"""
from __future__ import annotations

import io
from collections import defaultdict

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from voice_agent.store.report import AGE_BUCKETS, BANDS

matplotlib.rcParams.update({"svg.fonttype": "path", "svg.hashsalt": "voice_agent report",
                            "font.size": 9, "axes.spines.top": False,
                            "axes.spines.right": False})
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")
WIDTH = 7.5


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    return out.getvalue()


def _empty(title: str) -> str:
    fig = Figure(figsize=(WIDTH, 1.2))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, loc="left")
    ax.text(0.5, 0.4, "no data in this period", ha="center", va="center", color="#666")
    return _svg(fig)


def stacked_bars(title: str, categories: list[str], series: dict[str, list[float]],
                 ylabel: str = "", horizontal: bool = False) -> str:
    """Bars per category, one stacked segment per series (in the given order)."""
    if not categories:
        return _empty(title)
    height = max(2.2, 0.28 * len(categories) + 1.0) if horizontal else 3.0
    fig = Figure(figsize=(WIDTH, height))
    ax = fig.add_subplot()
    base = [0.0] * len(categories)
    positions = range(len(categories))
    for i, (name, values) in enumerate(series.items()):
        draw = ax.barh if horizontal else ax.bar
        kw = {"left": base} if horizontal else {"bottom": base}
        draw(positions, values, label=name, color=COLORS[i % len(COLORS)], **kw)
        base = [b + v for b, v in zip(base, values)]
    if ylabel != "dollars":                                 # counts: whole numbers only
        (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
    if horizontal:
        ax.set_yticks(list(positions), categories)
        ax.invert_yaxis()
        ax.set_xlabel(ylabel)
    else:
        ax.set_xticks(list(positions), categories, rotation=45 if len(categories) > 6 else 0,
                      ha="right" if len(categories) > 6 else "center")
        ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title, loc="left")
    return _svg(fig)


def calls_by(figures: dict, key: str) -> str:
    rows = figures["calls"]["per_day"]
    days = sorted({r["day"] for r in rows})
    names = sorted({r[key] for r in rows})
    series = {n: [0] * len(days) for n in names}
    for r in rows:
        series[r[key]][days.index(r["day"])] += r["calls"]
    label = "channel" if key == "channel" else "language"
    return stacked_bars(f"Calls per day by {label}", days, series, "calls")


def outcomes(figures: dict) -> str:
    items = list(figures["outcomes"].items())
    return stacked_bars("Call outcomes", [k for k, _ in items], {"calls": [v for _, v in items]},
                        "calls", horizontal=True)


def containment(figures: dict) -> str:
    c = figures["containment"]
    if not c["ended"]:
        return _empty("Containment")
    parts = ("contained", "handed_off", "abandoned", "failed")
    rate = f"{c['rate']:.0%}" if c["rate"] is not None else "-"
    return stacked_bars(f"Containment: {rate} of {c['ended']} ended calls", ["ended calls"],
                        {p.replace("_", " "): [c[p]] for p in parts}, "calls", horizontal=True)


def funnel(figures: dict) -> str:
    stages = figures["funnel"]
    if not stages or not stages[0]["calls"]:
        return _empty("Payment-call funnel")
    fig = Figure(figsize=(WIDTH, 3.0))
    ax = fig.add_subplot()
    names = [s["stage"] for s in stages]
    counts = [s["calls"] for s in stages]
    bars = ax.bar(range(len(names)), counts, color=COLORS[0])
    labels = [f"{s['calls']}" + (f"\n-{s['dropped']}" if s["dropped"] else "") for s in stages]
    ax.bar_label(bars, labels, fontsize=8)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("calls")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(counts) * 1.3)
    ax.set_title("Payment-call funnel (under each count: callers lost before the next stage)",
                 loc="left")
    return _svg(fig)


def misses(figures: dict, top: int = 15) -> str:
    spots = figures["misses"][:top]
    cats = [f"{s['step']} ({s['lang']})" for s in spots]
    return stacked_bars("No-input and no-match hot spots (step, language)", cats,
                        {"no input": [s["no_input"] for s in spots],
                         "no match": [s["no_match"] for s in spots]}, "turns", horizontal=True)


def confidence(figures: dict) -> str:
    rows = figures["confidence"]
    return stacked_bars("Recognition confidence per step", [r["step"] for r in rows],
                        {band: [r[band] for r in rows] for band in BANDS}, "caller turns",
                        horizontal=True)


def payments(figures: dict, field: str) -> str:
    rows = figures["payments"]
    days = sorted({r["day"] for r in rows})
    series: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(days))
    for r in rows:
        series[r["method"]][days.index(r["day"])] += r[field] / 100
    what = "Payments" if field == "amount_cents" else "Convenience fees"
    return stacked_bars(f"{what} per day by method", days, dict(sorted(series.items())),
                        "dollars")


def open_cases(figures: dict) -> str:
    rows = figures["open_cases"]
    ages = [label for _, label in AGE_BUCKETS if any(r["age"] == label for r in rows)]
    kinds = sorted({r["kind"] for r in rows})
    series = {k: [0] * len(ages) for k in kinds}
    for r in rows:
        series[r["kind"]][ages.index(r["age"])] += r["cases"]
    return stacked_bars("Open cases by age", ages, series, "cases")
