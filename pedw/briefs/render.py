"""Render a brief to a self-contained HTML page (charts embedded) and to a PDF (matplotlib)."""

from __future__ import annotations

import base64
import datetime as dt
import math
import textwrap
from pathlib import Path

import jinja2
import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages

from pedw.briefs.charts import png, productivity_chart, shift_share_chart, sme_gap_chart
from pedw.briefs.content import BriefContent

TEMPLATE = Path(__file__).with_name("template.html")


def chart_plan(content: BriefContent) -> dict[str, tuple]:
    """Which charts this brief has: name -> (draw function, its data)."""
    plan = {}
    if len(content.productivity):
        plan["productivity"] = (productivity_chart, content.productivity, content.country_name)
    if len(content.sme_gap_cells) and (~content.sme_gap_cells["suppressed"]).any():
        plan["sme_gap"] = (sme_gap_chart, content.sme_gap_cells)
    if len(content.shift_share):
        plan["shift_share"] = (shift_share_chart, content.shift_share)
    return plan


def charts_for(content: BriefContent) -> dict[str, bytes]:
    """PNG bytes of every chart, for the HTML page."""
    return {name: png(*spec) for name, spec in chart_plan(content).items()}


def render_html(
    content: BriefContent, charts: dict[str, bytes], catalog_sources: list[dict]
) -> str:
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string(TEMPLATE.read_text(encoding="utf-8"))
    suppressed = int(content.sme_gap_cells["suppressed"].sum()) if len(content.sme_gap_cells) else 0
    return template.render(
        c=content,
        charts={k: base64.b64encode(v).decode() for k, v in charts.items()},
        suppressed_cells=suppressed,
        catalog_sources=catalog_sources,
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _text_page(pdf: PdfPages, title: str, lines: list[str]) -> None:
    figure = plt.figure(figsize=(8.27, 11.69))
    figure.text(0.08, 0.95, title, fontsize=15, weight="bold", color="#1f4e79", va="top")
    y, written = 0.91, 0
    for line in lines:
        for wrapped in textwrap.wrap(line, 100) or [""]:
            if y < 0.05:  # page full: start the next one only when there is more to write
                pdf.savefig(figure)
                plt.close(figure)
                figure, y, written = plt.figure(figsize=(8.27, 11.69)), 0.95, 0
            figure.text(0.08, y, wrapped, fontsize=8.2, va="top", family="DejaVu Sans")
            y -= 0.016
            written += 1
    if written:
        pdf.savefig(figure)
    plt.close(figure)


def _number(value: float, pattern: str) -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else pattern.format(value)
    )


def render_pdf(content: BriefContent, charts: dict[str, bytes], path: Path) -> None:
    """A4 PDF: the brief's figures as text, then one page per chart."""
    lines = [f"{content.region or ''} | {content.income_group or ''} | run {content.run_id}", ""]
    if content.headline:
        h = content.headline
        lines += [
            f"Output per worker {h['year']}: {h['output_per_worker']:,.0f} "
            f"({h['growth_per_year']:+.1f}% a year since {h['growth_from']}); regional median "
            f"{_number(h.get('region_median'), '{:,.0f}')}, income-group median "
            f"{_number(h.get('income_group_median'), '{:,.0f}')}.",
            "",
        ]
    lines.append("Decent-work scorecard:")
    for row in content.scorecard:
        lines.append(
            f"  {row['label']}: {row['value']:,.2f} ({row['year']}); change "
            f"{_number(row['change'], '{:+,.2f}')}; regional median {_number(row['peer_median'], '{:,.2f}')}"
        )
    if len(content.sme_gap_trend):
        lines += ["", "SME productivity gap against large firms (trend per year, 95% interval):"]
        for row in content.sme_gap_trend.itertuples():
            lines.append(
                f"  {row.size_class}: suppressed ({row.reason})"
                if row.suppressed
                else f"  {row.size_class}: gap {row.gap_first_year:+.3f}, trend {row.trend_per_year:+.4f} "
                f"[{row.trend_ci_low:+.4f}, {row.trend_ci_high:+.4f}]"
            )
        lines.append(f"  Disclosure control: {content.disclosure}.")
    lines += ["", "What the models find:"]
    lines += [f"  - {f['text']} ({f['interval']}; n = {f['n_obs']:,})." for f in content.findings]
    quality = content.quality
    lines += [
        "",
        f"Data quality: {quality.get('rules_checked', 0)} contract rules checked, "
        f"{len(quality['failed_rules'])} failed.",
    ]
    lines += [
        f"  {r['dataset']}: {int(r['rows_read']):,} rows read, {int(r['rows_quarantined']):,} quarantined"
        for r in quality["quarantined"]
    ]
    lines += [
        "",
        "Input fingerprints: " + ", ".join(f"{k}={v}" for k, v in content.fingerprints.items()),
    ]
    with PdfPages(path) as pdf:
        _text_page(pdf, content.country_name, lines)
        for draw, *data in chart_plan(content).values():  # vector charts, drawn again for print
            figure, axis = plt.subplots(figsize=(8.27, 4.2))
            draw(axis, *data)
            pdf.savefig(figure, bbox_inches="tight")
            plt.close(figure)
        info = pdf.infodict()
        info["Title"] = f"{content.country_name}: productivity and decent work"
        info["Subject"] = f"pedw brief, run {content.run_id}"
