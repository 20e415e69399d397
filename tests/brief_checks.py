"""What a reader needs from a published brief, checked the same way for demo and real briefs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
POPPLER = all(shutil.which(tool) for tool in ("pdfinfo", "pdffonts", "pdftotext", "pdftoppm"))


def key_messages(html: str) -> list[str]:
    block = re.search(r'<section id="key-messages">.*?<ol>(.*?)</ol>', html, re.S).group(1)
    return re.findall(r"<li>(.*?)</li>", block, re.S)


def check_brief_page(
    folder: Path, country: str, *, synthetic: bool, publication_id: str, units: set[str]
) -> str:
    """The HTML brief of `country`: banner on demo briefs only, 3-5 key messages, a unit on
    every headline figure, a source line and a CSV under every chart, alt text that states
    values, and the publication it was built from. Returns the page."""
    html = (folder / f"{country}.html").read_text(encoding="utf-8")
    assert ('id="demo-banner"' in html) == synthetic, country
    assert 3 <= len(key_messages(html)) <= 5, key_messages(html)
    cards = re.findall(
        r'<div class="card" id="headline-[a-z]+"><b>.*?</b>.*?<small>(.*?)</small>', html
    )
    assert cards, f"{country}: no headline figure"
    for unit_text in cards:
        assert any(unit in unit_text for unit in units), (country, unit_text)
    figures = re.findall(r'<figure id="figure-[a-z-]+">(.*?)</figure>', html, re.S)
    assert figures, f"{country}: no chart"
    for body in figures:
        assert 'class="source">Source: ' in body and "release" in body, body[-400:]
        alt = re.search(r'alt="([^"]+)"', body).group(1)
        assert (
            re.search(r"\b(19|20)\d\d\b", alt) and len(re.findall(r"\d+(?:[.,]\d+)*", alt)) >= 3
        ), alt
        data = re.search(r'Data: <a href="([^"]+\.csv)">', body).group(1)
        assert len(pd.read_csv(folder / data)) > 0
    tables = html.count('<p class="source">Source: ')
    assert tables >= 1, f"{country}: the scorecard has no source line"
    assert f'<code id="publication-id">{publication_id}</code>' in html
    return html


def check_pdf(pdf: Path, must_contain: list[str]) -> str:
    """An A4, tagged PDF with embedded TrueType fonts (no Type 3) whose text extracts and
    holds `must_contain`, with page numbers. Returns its text."""
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    assert re.search(r"Tagged:\s+yes", info), info
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, text=True, check=True).stdout
    listed = fonts.splitlines()[2:]
    assert listed and not any("Type 3" in line for line in listed), fonts
    assert all(" yes " in line for line in listed), fonts  # embedded
    text = subprocess.run(
        ["pdftotext", pdf, "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for wanted in [*must_contain, "Page 1 of"]:
        assert " ".join(wanted.split()) in flat, wanted
    return text


def pdf_pages_render(pdf: Path, out: Path) -> list[int]:
    """Sizes of the PNG pages pdftoppm draws of `pdf`."""
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(out / "page")], check=True,
                   timeout=120)  # fmt: skip
    return [p.stat().st_size for p in sorted(out.glob("page*.png"))]


def chromium_images(page: Path, tmp: Path) -> str:
    """Load `page` in headless Chromium: 'images=N broken=B errors=E' once it has loaded."""
    probe = """<script>
      window.__errors = 0; window.addEventListener('error', () => window.__errors++, true);
      window.addEventListener('load', () => {
        const images = Array.from(document.images);
        const broken = images.filter(i => !i.complete || i.naturalWidth === 0).length;
        document.title = `images=${images.length} broken=${broken} errors=${window.__errors}`;
      });
    </script>"""
    checked = tmp / page.name
    checked.write_text(page.read_text(encoding="utf-8").replace("</head>", probe + "</head>"))
    result = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}",
         "--virtual-time-budget=5000", "--dump-dom", checked.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return re.search(r"<title>(.*?)</title>", result.stdout).group(1)
