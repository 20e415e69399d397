"""Render a brief: one HTML document (charts embedded), printed to an A4, tagged PDF with
embedded fonts by WeasyPrint, so the two formats carry the same content."""

from __future__ import annotations

import base64
import functools
import math
from pathlib import Path

import jinja2
import pandas as pd

from pedw.briefs.charts import Chart, productivity_chart, shift_share_chart, sme_gap_chart
from pedw.briefs.content import FIGURE_TABLES
from pedw.briefs.document import BriefContent

TEMPLATE = Path(__file__).with_name("template.html")


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
        card[["value", "change", "peer_median"]] = card[["value", "change", "peer_median"]].round(2)
        files[f"{content.country}_scorecard.csv"] = card
    return files


def _number(value, pattern: str) -> str:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return "–" if missing else pattern.format(value)


@functools.cache
def _template() -> jinja2.Template:
    """Loaded and compiled once per process, shared by every brief it builds."""
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters["num"] = _number
    return environment.from_string(TEMPLATE.read_text(encoding="utf-8"))


def render_html(
    content: BriefContent, charts: dict[str, Chart], files: dict[str, pd.DataFrame]
) -> str:
    return _template().render(
        c=content,
        charts={
            name: {"src": base64.b64encode(chart.png).decode(), "alt": chart.alt}
            for name, chart in charts.items()
        },
        csv={name.removeprefix(f"{content.country}_").removesuffix(".csv"): name for name in files},
        tables=FIGURE_TABLES,
    )


def render_pdf(html: str, path: Path, base_url: Path) -> None:
    """Print the brief's HTML to an A4, tagged PDF (its @page rules: size, page numbers).

    Only data: URLs are fetched (the embedded charts): printing never touches the network."""
    import weasyprint  # a heavy import, needed only by the step that prints

    offline = weasyprint.urls.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    weasyprint.HTML(string=html, base_url=str(base_url), url_fetcher=offline).write_pdf(
        path, pdf_tags=True
    )
