"""Render a brief: one HTML document (charts embedded), printed to an A4, tagged PDF with
embedded fonts by Typst (typeset.py), so the two formats carry the same content."""

from __future__ import annotations

import base64

import pandas as pd

from pedw.briefs.charts import Chart, productivity_chart, shift_share_chart, sme_gap_chart
from pedw.briefs.content import FIGURE_TABLES
from pedw.briefs.document import BriefContent
from pedw.briefs.printing import template
from pedw.briefs.published import ANNEX
from pedw.briefs.typeset import render_pdf

__all__ = ["charts_for", "data_files", "render_html", "render_pdf"]


def charts_for(content: BriefContent) -> dict[str, Chart]:
    """Every chart this brief has, by name."""
    charts = {}
    if len(content.productivity) and content.headline:
        charts["productivity"] = productivity_chart(
            content.productivity, content.country_name, content.headline["unit"]
        )
    if len(content.sme_gap_cells) and (~content.sme_gap_cells["suppressed"]).any():
        charts["sme_gap"] = sme_gap_chart(content.sme_gap_cells)
    if len(content.shift_share):
        charts["shift_share"] = shift_share_chart(content.shift_share)
    return charts


def data_files(content: BriefContent, charts: dict[str, Chart]) -> dict[str, pd.DataFrame]:
    """The data behind each chart and the scorecard, as printed: file name -> frame."""
    files = {f"{content.country}_{name}.csv": chart.data for name, chart in charts.items()}
    if content.scorecard:
        columns = ["variable", "label", "unit", "year", "value", "since", "change", "peer_median",
                   "peer_n"]  # fmt: skip
        card = pd.DataFrame(content.scorecard)[columns]
        for column in ("value", "change", "peer_median"):  # as the page prints them: {:.1f}
            card[column] = [float(f"{v:.1f}") for v in card[column].astype(float)]
        card[["since", "peer_n"]] = card[["since", "peer_n"]].astype("Int64")  # years, counts
        files[f"{content.country}_scorecard.csv"] = card
    return files


def render_html(
    content: BriefContent, charts: dict[str, Chart], files: dict[str, pd.DataFrame]
) -> str:
    return template("template.html").render(
        c=content,
        charts={
            name: {"src": base64.b64encode(chart.png).decode(), "alt": chart.alt}
            for name, chart in charts.items()
        },
        csv={name.removeprefix(f"{content.country}_").removesuffix(".csv"): name for name in files},
        tables=content.figure_tables or FIGURE_TABLES,
        annex=ANNEX,
    )
