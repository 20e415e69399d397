"""Country briefs: one HTML page and one PDF per country, rendered in a real browser, with
enterprise cells under disclosure control."""

from __future__ import annotations

import html as html_text
import re
import subprocess

import pandas as pd
import pytest
from brief_checks import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    POPPLER,
    check_brief_page,
    check_pdf,
    chromium_images,
    key_messages,
    pdf_pages_render,
)

from pedw.warehouse import connect_read_only


@pytest.fixture(scope="module")
def briefs(pipeline):
    settings, summary = pipeline
    return settings, summary


def _publication(settings) -> str:
    con = connect_read_only(settings.warehouse_path)
    try:
        return con.execute("SELECT publication_id FROM meta.publication").fetchone()[0]
    finally:
        con.close()


def test_every_country_has_an_html_page_a_pdf_and_its_chart_data(briefs):
    settings, summary = briefs
    assert len(summary.brief_countries) == 40
    publication = _publication(settings)
    for country in summary.brief_countries:
        check_brief_page(settings.briefs_dir, country, synthetic=True, publication_id=publication,
                         units={"2017 PPP $ per worker"})  # fmt: skip
        assert (settings.briefs_dir / f"{country}.pdf").read_bytes()[:5] == b"%PDF-"
    page = (settings.briefs_dir / "KEN.html").read_text()
    assert "Kenya" in page and "marts.national_panel=" in page
    # Three sections from three levels, each with its chart: national, sector, enterprise.
    for section in ("figure-productivity", "figure-shift-share", "figure-sme-gap"):
        assert f'<figure id="{section}">' in page
    # Cross-country results are not in the country brief: it links the annex.
    cross = page[page.index('<section id="cross-country">') :]
    assert '<a href="cross_country.html">' in cross and "Cross-country</span>" not in page
    assert key_messages(page)[0].startswith("Output per worker in Kenya was ")
    con = connect_read_only(settings.warehouse_path)
    index = con.execute(
        "SELECT count(*), count(DISTINCT country), count(*) FILTER (WHERE publication_id = ?), "
        "count(*) FILTER (WHERE html LIKE 'briefs/%' AND data_files LIKE 'briefs/%') "
        "FROM briefs.index WHERE country <> 'cross_country'",
        [publication],
    ).fetchone()
    con.close()
    assert index == (40, 40, 40, 40)


def test_brief_figures_come_from_the_warehouse(briefs):
    settings, _ = briefs
    con = connect_read_only(settings.warehouse_path)
    # The ILO modelled series: every value but the projected ones (marts.series_choice).
    rows = con.execute(
        "SELECT p.year, p.output_per_worker FROM marts.national_panel p "
        "JOIN marts.series_choice c ON c.ref_area = p.ref_area AND c.year = p.year "
        "AND c.variable = 'output_per_worker' AND c.chosen "
        "WHERE p.ref_area = 'PER' AND c.status <> 'projected' ORDER BY p.year"
    ).fetchall()
    projected = con.execute(
        "SELECT count(*) FROM marts.series_choice WHERE ref_area = 'PER' AND chosen "
        "AND variable = 'output_per_worker' AND status = 'projected'"
    ).fetchone()[0]
    con.close()
    year, value = rows[-1]
    page = (settings.briefs_dir / "PER.html").read_text()
    assert f"{value:,.0f}</b>output per worker, {year}" in page
    assert (
        f"Output per worker in Peru was {value:,.0f} (2017 PPP $ per worker, ILO modelled "
        f"estimate) in {year}" in page
    )
    data = pd.read_csv(settings.briefs_dir / "PER_productivity.csv")
    assert data["year"].tolist() == [y for y, _ in rows]
    assert data["country"].tolist() == [round(v) for _, v in rows]
    assert projected > 0  # the demo's last years are ILO projections: never the latest value


def test_suppressed_cells_do_not_reach_the_brief(briefs):
    settings, _ = briefs
    con = connect_read_only(settings.warehouse_path)
    small = con.execute(
        "SELECT country, year, size_class, productivity_gap FROM models.sme_gap_cells "
        "WHERE firms < 10 OR large_firms < 10 ORDER BY large_firms, firms LIMIT 5"
    ).fetchall()
    con.close()
    assert small, "the test demo should have some cells below the disclosure threshold"
    for country, year, size, gap in small:
        page = (settings.briefs_dir / f"{country}.html").read_text()
        assert "suppressed under disclosure control" in page
        for shown in (f"{gap:+.3f}", f"{100 * gap:+.1f}", f"{100 * gap:.1f}", f"{gap:.4f}"):
            assert shown not in page
        chart_data = settings.briefs_dir / f"{country}_sme_gap.csv"  # absent: nothing published
        if chart_data.exists():
            data = pd.read_csv(chart_data)
            assert data[(data["year"] == year) & (data["size_class"] == size)].empty


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's package)"
)
def test_brief_renders_in_headless_chromium_with_every_chart(briefs, tmp_path):
    settings, _ = briefs
    title = chromium_images(settings.briefs_dir / "KEN.html", tmp_path)
    assert title == "images=3 broken=0 errors=0", title
    screenshot = tmp_path / "KEN.png"
    subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--window-size=1100,2400",
            f"--screenshot={screenshot}",
            (tmp_path / "KEN.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert screenshot.stat().st_size > 50_000


@pytest.mark.skipif(
    not POPPLER, reason="poppler-utils (pdfinfo, pdffonts, pdftotext) is not installed"
)
def test_pdf_is_the_same_document_printed_to_a4(briefs, tmp_path):
    settings, _ = briefs
    html = (settings.briefs_dir / "KEN.html").read_text()
    messages = [re.sub(r"<[^>]+>", "", m) for m in key_messages(html)]
    text = check_pdf(
        settings.briefs_dir / "KEN.pdf",
        [
            "DEMO DATA: synthetic figures",
            "Key messages",
            *[html_text.unescape(m) for m in messages],
            "Cross-country findings",
            "Kenya is in the estimation sample of",
            "Source: ",
            _publication(settings),
        ],
    )
    assert text.count("Source: ") >= 3
    pages = pdf_pages_render(settings.briefs_dir / "KEN.pdf", tmp_path)
    assert len(pages) >= 3 and all(size > 3_000 for size in pages), pages
