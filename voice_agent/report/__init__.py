"""The operations report for staff: one self-contained HTML file drawn from the store's figures.

voice_agent.store.report computes the figures (numbers only); this package only draws them:
charts.py turns each figure into an SVG chart (matplotlib), page.py lays the charts and the same
numbers as tables into one HTML file with everything inline (no scripts, no network, no CDN: it
opens on a back-office PC with no internet).
"""
from __future__ import annotations

from voice_agent.report.page import render_html

__all__ = ["render_html"]
