"""Country briefs: one HTML page and one PDF per country, rendered in a real browser, with
enterprise cells under disclosure control."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from pedw.briefs.disclosure import DisclosureRule, suppress
from pedw.models.enterprise import sme_gap_cells
from pedw.warehouse import connect_read_only

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def firm_panel(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    """(country, size_class, firms, value added of each) -> a one-year firm panel."""
    records = []
    for country, size, firms, value in rows:
        for i in range(firms):
            va = value * (100 if (size == "small" and country == "DOM" and i == 0) else 1)
            records.append(
                {
                    "country": country,
                    "year": 2020,
                    "size_class": size,
                    "firm_id": f"{country}{size}{i}",
                    "value_added": va,
                    "log_labour_productivity": np.log(va / 10) + 0.01 * i,
                    "log_mean_wage": np.log(va / 30) + 0.01 * i,
                }
            )
    return pd.DataFrame(records)


def test_small_and_dominated_cells_cannot_be_extracted():
    panel = firm_panel(
        [
            ("AAA", "large", 30, 5e6),
            ("AAA", "micro", 3, 1e5),
            ("AAA", "small", 40, 1e6),
            ("DOM", "large", 30, 5e6),
            ("DOM", "small", 12, 1e6),
        ]
    )
    cells = sme_gap_cells(panel)
    published = suppress(
        cells,
        DisclosureRule(),
        ["firms", "large_firms"],
        ["top2_share", "large_top2_share"],
        ["productivity_gap", "productivity_gap_se", "wage_gap", "wage_gap_se"],
    )
    by_cell = published.set_index(["country", "size_class"])
    assert (
        by_cell.loc[("AAA", "micro"), "suppressed"]
        and by_cell.loc[("AAA", "micro"), "reason"] == "fewer than 10 firms"
    )
    assert np.isnan(by_cell.loc[("AAA", "micro"), "productivity_gap"]) and np.isnan(
        by_cell.loc[("AAA", "micro"), "firms"]
    )
    assert by_cell.loc[("DOM", "small"), "reason"] == "dominated by its two largest firms"
    assert np.isnan(by_cell.loc[("DOM", "small"), "wage_gap"])
    assert not by_cell.loc[("AAA", "small"), "suppressed"]
    assert by_cell.loc[("AAA", "small"), "productivity_gap"] == pytest.approx(
        cells.set_index(["country", "size_class"]).loc[("AAA", "small"), "productivity_gap"]
    )


@pytest.fixture(scope="module")
def briefs(pipeline):
    settings, summary = pipeline
    return settings, summary


def test_every_country_has_an_html_page_and_a_pdf(briefs):
    settings, summary = briefs
    assert len(summary.brief_countries) == 40
    for country in summary.brief_countries:
        html = settings.briefs_dir / f"{country}.html"
        pdf = settings.briefs_dir / f"{country}.pdf"
        assert html.stat().st_size > 20_000 and pdf.read_bytes()[:5] == b"%PDF-"
    page = (settings.briefs_dir / "KEN.html").read_text()
    assert "Kenya" in page and summary.run_ids[-2] in page and "marts.national_panel=" in page
    con = connect_read_only(settings.warehouse_path)
    index = con.execute("SELECT count(*), count(DISTINCT country) FROM briefs.index").fetchone()
    con.close()
    assert index == (40, 40)


def test_brief_figures_come_from_the_warehouse(briefs):
    settings, _ = briefs
    con = connect_read_only(settings.warehouse_path)
    year, value = con.execute(
        "SELECT year, output_per_worker FROM marts.national_panel WHERE ref_area = 'PER' "
        "AND output_per_worker IS NOT NULL ORDER BY year DESC LIMIT 1"
    ).fetchone()
    con.close()
    page = (settings.briefs_dir / "PER.html").read_text()
    assert f"{value:,.0f}</b>output per worker, {year}" in page


def test_suppressed_cells_do_not_reach_the_brief(briefs):
    settings, _ = briefs
    con = connect_read_only(settings.warehouse_path)
    small = con.execute(
        "SELECT country, year, size_class, productivity_gap FROM models.sme_gap_cells "
        "WHERE firms < 10 OR large_firms < 10 ORDER BY large_firms, firms LIMIT 5"
    ).fetchall()
    con.close()
    assert small, "the test demo should have some cells below the disclosure threshold"
    for country, _year, _size, gap in small:
        page = (settings.briefs_dir / f"{country}.html").read_text()
        assert "suppressed under disclosure control" in page
        for shown in (f"{gap:+.3f}", f"{100 * gap:.1f}", f"{gap:.4f}"):
            assert shown not in page


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's package)"
)
def test_brief_renders_in_headless_chromium_with_every_chart(briefs, tmp_path):
    settings, _ = briefs
    page = (settings.briefs_dir / "KEN.html").read_text()
    probe = """<script>
      window.__errors = 0; window.addEventListener('error', () => window.__errors++, true);
      window.addEventListener('load', () => {
        const images = Array.from(document.images);
        const broken = images.filter(i => !i.complete || i.naturalWidth === 0).length;
        document.title = `images=${images.length} broken=${broken} errors=${window.__errors}`;
      });
    </script>"""
    checked = tmp_path / "KEN.html"
    checked.write_text(page.replace("</head>", probe + "</head>"))
    result = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            checked.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    title = re.search(r"<title>(.*?)</title>", result.stdout).group(1)
    assert title == "images=3 broken=0 errors=0", title
    screenshot = tmp_path / "KEN.png"
    subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--window-size=1100,2400",
            f"--screenshot={screenshot}",
            checked.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert screenshot.stat().st_size > 50_000


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed"
)
def test_pdf_pages_render_to_non_empty_images(briefs, tmp_path):
    settings, _ = briefs
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "40",
            str(settings.briefs_dir / "KEN.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
        timeout=120,
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 3
    assert all(p.stat().st_size > 3_000 for p in pages), [p.stat().st_size for p in pages]
