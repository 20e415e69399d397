"""The cross-country annex: one document per publication (HTML and PDF), linked from every
country brief and checked at publication like a brief; and the country brief's own sections
about the economy: whether it is in each model's sample, its own data quality, and no word on
firms where it has none."""

from __future__ import annotations

import html as html_text
import re
import shutil
from html.parser import HTMLParser

import pypdf
import pytest

from pedw.briefs.build import build_brief
from pedw.briefs.findings import NATIONAL_FINDINGS, TRANSFORMS
from pedw.briefs.inputs import load_inputs
from pedw.briefs.published import (
    ANNEX,
    BriefMismatchError,
    brief_problems,
    brief_run_dir,
    unpack,
    verified_brief_files,
)
from pedw.digest import file_sha256
from pedw.settings import resolve_settings
from pedw.store import Store
from pedw.warehouse import connect_read_only


def _query(settings, sql: str, params=()) -> list[tuple]:
    con = connect_read_only(settings.warehouse_path)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


BLOCKS = {"p", "li", "ul", "ol", "h1", "h2", "div", "section", "header", "footer", "table",
          "tr", "td", "th", "br"}  # fmt: skip


class _Text(HTMLParser):
    """The text a reader sees in a page's body (no style, title or attribute values)."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "title", "head")
        self.text.append(" " if tag in BLOCKS else "")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "title", "head")
        self.text.append(" " if tag in BLOCKS else "")

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _visible_words(page: str) -> list[str]:
    parser = _Text()
    parser.feed(page)
    return "".join(parser.text).split()


def _reader_text(page: str) -> str:
    """A page's HTML without its embedded pictures (base64 can spell any word)."""
    return re.sub(r'src="data:[^"]+"', 'src=""', page)


def test_one_annex_per_publication_linked_from_every_brief(pipeline):
    settings, summary = pipeline
    folder = settings.briefs_dir
    publication = _query(settings, "SELECT publication_id FROM meta.publication")[0][0]
    pages = sorted(p.name for p in folder.glob("*.html"))
    assert pages == sorted([f"{c}.html" for c in summary.brief_countries] + [f"{ANNEX}.html"])
    rows = _query(
        settings,
        "SELECT html, pdf, files_sha256, publication_id, run_id FROM briefs.index "
        "WHERE country = ?",
        [ANNEX],
    )
    assert len(rows) == 1
    html, pdf, files, stamped, run_id = rows[0]
    assert (html, pdf, stamped) == (f"briefs/{ANNEX}.html", f"briefs/{ANNEX}.pdf", publication)
    # Published byte for byte as its run wrote it, in that run's own brief folder.
    assert unpack(files) == {name: file_sha256(folder / name) for name in unpack(files)}
    assert set(unpack(files)) == {f"{ANNEX}.html", f"{ANNEX}.pdf"}
    built = brief_run_dir(settings, run_id)
    assert all(file_sha256(built / n) == sha for n, sha in unpack(files).items())
    annex = (folder / f"{ANNEX}.html").read_text(encoding="utf-8")
    assert f'<code id="publication-id">{publication}</code>' in annex

    for country in summary.brief_countries:
        page = (folder / f"{country}.html").read_text(encoding="utf-8")
        assert f'<a href="{ANNEX}.html">cross-country annex</a>' in page, country
        assert "Finding:" not in page and "No clear association" not in page, country
    # The PDF links the annex beside it as the HTML does: relative, never the build folder.
    links = {
        annotation.get_object()["/A"]["/URI"]
        for page in pypdf.PdfReader(folder / "KEN.pdf").pages
        for annotation in page.get("/Annots") or []
        if "/A" in annotation.get_object()
    }
    assert f"{ANNEX}.html" in links and f"{ANNEX}.pdf" in links
    assert not any(link.startswith("file:") for link in links), links


def test_the_annex_calls_a_result_a_finding_only_when_its_interval_excludes_zero(pipeline):
    settings, _ = pipeline
    annex = html_text.unescape((settings.briefs_dir / f"{ANNEX}.html").read_text())
    items = re.findall(r"<li><span class=\"label\">Cross-country</span> (.*?)</li>", annex)
    checked = 0
    for finding in NATIONAL_FINDINGS:
        rows = _query(
            settings,
            "SELECT estimate, ci_low, ci_high, n_obs, n_groups FROM models.estimates "
            "WHERE model_id = ? AND term = ?",
            [finding.model_id, finding.term],
        )
        if not rows:
            continue
        estimate, low, high, n_obs, n_groups = rows[0]
        scale = TRANSFORMS[finding.transform]
        sentence = finding.sentence.format(x=finding.number.format(scale(estimate)))
        (item,) = [i for i in items if sentence in i]
        label = "Finding: " if low > 0 or high < 0 else "No clear association: "
        assert item.startswith(label), item
        lo, hi = sorted([scale(low), scale(high)])
        assert f"95% interval {finding.number.format(lo)} to {finding.number.format(hi)}" in item
        assert f"{n_obs:,} observations, {n_groups} economies" in item
        checked += 1
    assert checked == 5
    # Firm-level results only as disclosure control released them.
    released = _query(settings, "SELECT model_id, status FROM disclosure.effects")
    for model_id, status in released:
        if status != "published":
            assert model_id not in annex.split("Technical note")[0]


def test_a_brief_says_whether_its_economy_is_in_each_models_sample(pipeline):
    settings, _ = pipeline
    estimated = {r[0] for r in _query(
        settings, "SELECT model_id FROM models.status WHERE status = 'estimated'")}  # fmt: skip
    usable = {}
    for finding in NATIONAL_FINDINGS:
        if finding.model_id not in estimated:
            continue
        outcome = finding.model_id.removeprefix("national_pass_through_")
        usable[finding.topic] = dict(_query(
            settings,
            f"SELECT ref_area, count(*) FILTER (WHERE {outcome} IS NOT NULL AND "
            "log_output_per_worker IS NOT NULL AND human_capital IS NOT NULL) "
            "FROM marts.national_panel GROUP BY ref_area",
        ))  # fmt: skip
    assert len(usable) == 5
    for country in ("KEN", "PER", "BRA"):
        page = (settings.briefs_dir / f"{country}.html").read_text(encoding="utf-8")
        inside = [topic for topic, rows in usable.items() if rows.get(country, 0) >= 2]
        name = re.search(r"<h1>(.*?)</h1>", page).group(1)
        assert f"{name} is in the estimation sample of {len(inside)} of the annex's 5" in page


def test_the_annex_pdf_says_what_its_html_says(pipeline):
    settings, _ = pipeline
    folder = settings.briefs_dir
    html = (folder / f"{ANNEX}.html").read_text(encoding="utf-8")
    publication = _query(settings, "SELECT publication_id FROM meta.publication")[0][0]
    reader = pypdf.PdfReader(folder / f"{ANNEX}.pdf")
    assert reader.pages[0].mediabox.width == pytest.approx(595, abs=1)  # A4
    assert reader.pages[0].mediabox.height == pytest.approx(842, abs=1)

    def flat(text: str) -> str:
        """Text without whitespace (the PDF breaks long ids mid-word), list bullets, or case
        (labels are upper-cased by the page styles)."""
        return "".join(text.replace("\u2022", " ").split()).lower()

    pdf = flat(" ".join(page.extract_text() for page in reader.pages))
    # The page margins repeat on every page: the demo banner, the title and publication, the
    # page number. The rest is the document's text, word for word, in the HTML's order.
    for margin in ["DEMO DATA: synthetic figures, not official statistics",
                   f"Cross-country findings \u00b7 publication {publication}"]:  # fmt: skip
        assert pdf.count(flat(margin)) == len(reader.pages), margin
        pdf = pdf.replace(flat(margin), "")
    pdf = re.sub(r"page\d+of\d+", "", pdf)
    assert pdf == flat(" ".join(_visible_words(html)))
    assert "finding:acrosstheeconomies" in pdf


def _copy_store(settings, tmp_path):
    """The session's published store in a folder of its own: Parquet files linked, brief
    folders copied (they are edited here)."""
    copy = resolve_settings(settings.catalog_path, tmp_path / "pedw.duckdb")
    shutil.copytree(settings.store_dir, copy.store_dir, copy_function=_link,
                    ignore=shutil.ignore_patterns("_briefs", "_spill"))  # fmt: skip
    shutil.copytree(settings.briefs_build_dir, copy.briefs_build_dir)
    return copy


def _link(source, target):
    import os

    os.link(source, target)


def test_a_tampered_annex_is_refused_like_a_tampered_brief(pipeline, tmp_path):
    settings, _ = pipeline
    copy = _copy_store(settings, tmp_path)
    store = Store(copy.store_dir)
    files = {p.name: p for p in verified_brief_files(store, copy)}
    assert {f"{ANNEX}.html", f"{ANNEX}.pdf", "KEN.html"} <= set(files)
    assert brief_problems(store, copy) == {}

    kenya = files["KEN.html"]
    original = kenya.read_bytes()
    kenya.write_bytes(original.replace(b"Kenya", b"Kenia", 1))
    with pytest.raises(BriefMismatchError, match=r"KEN: KEN\.html in .* SHA-256 differs"):
        verified_brief_files(store, copy)
    kenya.write_bytes(original)

    annex = files[f"{ANNEX}.pdf"]
    annex.write_bytes(annex.read_bytes() + b"\n% edited\n")
    assert "SHA-256 differs" in brief_problems(store, copy)[ANNEX]
    with pytest.raises(BriefMismatchError, match=rf"{ANNEX}: {ANNEX}\.pdf in .* SHA-256"):
        verified_brief_files(store, copy)
    # Its index row is gone: the annex asset's output is missing, so the next run builds it.
    assert not (store.table_dir("briefs", "index") / f"{ANNEX}.parquet").exists()
    # Country briefs are never published without the annex they link to.
    with pytest.raises(BriefMismatchError, match=f"{ANNEX}: no cross-country annex built"):
        verified_brief_files(store, copy)


def test_a_brief_of_an_economy_without_firm_data_never_mentions_firms(pipeline, tmp_path):
    """Kenya's brief as it reads when the warehouse has no firm data for Kenya (every
    enterprise row of Kenya left out of the inputs), beside the brief of Kenya with them."""
    settings, _ = pipeline
    from pedw.briefs.build import BriefJob
    from pedw.briefs.sources import source_releases
    from pedw.catalog import load_catalog
    from pedw.disclosure.rules import DisclosureRule

    con = Store(settings.store_dir).connect()
    try:
        inputs = load_inputs(con)
    finally:
        con.close()
    catalog = load_catalog(settings.catalog_path)
    cited = source_releases(catalog, inputs.release_issues)

    def page(out) -> str:
        job = BriefJob(inputs, cited, True, out, DisclosureRule(), "pub")
        out.mkdir()
        built = build_brief(job, "KEN")
        return _reader_text(built.html.read_text(encoding="utf-8")).lower()

    with_firms = page(tmp_path / "with")
    assert "firm" in with_firms and "enterprise survey layout (enterprise data)" in with_firms
    sources = inputs.economy_sources
    inputs.sme_gap_cells = inputs.sme_gap_cells[inputs.sme_gap_cells["country"] != "KEN"]
    inputs.sme_gap_trend = inputs.sme_gap_trend[inputs.sme_gap_trend["country"] != "KEN"]
    inputs.economy_sources = sources[~((sources["ref_area"] == "KEN")
                                       & (sources["level"] == "enterprise"))]  # fmt: skip
    without = page(tmp_path / "without")
    assert "firm" not in without
    assert "no enterprise survey for this economy" in without
    assert 'id="smes"' not in without and "kenya is in the estimation sample" in without
    text = " ".join(
        p.extract_text() for p in pypdf.PdfReader(tmp_path / "without" / "KEN.pdf").pages
    )
    assert "firm" not in text.lower()


def test_the_data_quality_section_is_the_economys_own(pipeline):
    settings, summary = pipeline
    rejected = dict(_query(
        settings,
        "SELECT ref_area, count(*) FROM (SELECT r.ref_area FROM quality.quarantine q "
        "JOIN raw.national_observations r USING (source_name, source_file, source_line) "
        "UNION ALL SELECT r.country FROM quality.quarantine q JOIN raw.enterprise_firms r "
        "USING (source_name, source_file, source_line)) GROUP BY ALL",
    ))  # fmt: skip
    assert rejected, "the demo quarantines a few out-of-bounds values"
    sections = {}
    for country in summary.brief_countries:
        page = (settings.briefs_dir / f"{country}.html").read_text(encoding="utf-8")
        section = page[page.index('<section id="quality">') : page.index('<section id="sources">')]
        sections[country] = section
        sources = section[: section.index("</table>")]  # rows read and rejected per source
        shown = sum(
            int(n.replace(",", ""))
            for n in re.findall(r'<td class="num">[\d,]+</td><td class="num">([\d,]+)</td>',
                                sources)
        )  # fmt: skip
        assert shown == rejected.get(country, 0), country
        if country in ("UKR", "HND"):  # the demo's out-of-bounds working poverty rates
            assert "outside the bounds its unit allows (" in section, country
    # Each economy's own: rows read differ, so no two sections are the same.
    assert len(set(sections.values())) == len(sections)
    read = _query(
        settings,
        "SELECT count(*) FROM raw.pwt WHERE countrycode = 'KEN'",
    )[0][0]
    assert (
        f'Penn World Table layout (national data)</td><td class="num">{read:,}<' in sections["KEN"]
    )


@pytest.mark.parametrize(
    ("specification", "firms", "reads"),
    [
        ("labour_income_share ~ log_output_per_worker + human_capital | ref_area + year, "
         "cluster(ref_area)", False, "within economies over time (each economy compared with "
         "itself in other years, net of what all shared in a year)"),
        ("informality_rate ~ log_output_per_worker | end_year, cluster(ref_area)", False,
         "across the economies in the warehouse"),
        ("log_labour_productivity ~ treated_post | firm_id + year", True,
         "within firms over time (each firm compared with itself in other years, net of what "
         "all shared in a year)"),
        ("y ~ x", True, "across the economies and firms in the warehouse"),
    ],
)  # fmt: skip
def test_a_result_reads_as_the_comparison_its_model_makes(specification, firms, reads):
    from pedw.briefs.findings import design

    assert design(specification, firms) == reads


def test_every_estimated_model_the_annex_does_not_read_is_listed_with_its_reason():
    import pandas as pd

    from pedw.briefs.findings import unreported_models

    estimates = pd.DataFrame(
        {
            "model_id": ["national_production_twfe", "national_production_twfe",
                         "national_pass_through_labour_income_share",
                         "national_long_difference_informality_rate", "enterprise_x_y"],
            "outcome": ["log_output_per_worker"] * 2 + ["labour_income_share",
                        "informality_rate", "y"],
        }
    )  # fmt: skip
    listed = unreported_models(estimates, {"national_pass_through_labour_income_share"})
    assert [m["model_id"] for m in listed] == [
        "enterprise_x_y",
        "national_long_difference_informality_rate",
        "national_production_twfe",
    ]
    reasons = {m["model_id"]: (m["name"], m["reason"]) for m in listed}
    assert reasons["national_long_difference_informality_rate"][0] == (
        "The long-difference check on informality rate"
    )
    assert "production function" in reasons["national_production_twfe"][0].lower()
    assert all(name and reason for name, reason in reasons.values())


def test_a_rejection_reads_as_what_its_rule_detects():
    from pedw.briefs.content import rejection_reason

    assert rejection_reason("unit_jump", "ilostat_observations") == (
        "100 times above or below the median of its series (a units change; current-price "
        "series are not checked)"
    )
    assert rejection_reason("required", "ilostat_observations") == "no value"
    assert rejection_reason("some_new_rule", "ilostat_observations") == "some new rule"
