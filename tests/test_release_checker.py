"""The public release checker reads what a reader reads (issue #31, item 5): the text of every
PDF page and HTML page, and every column of a suppressed figure's row. The release of the
session's demo run (built and accepted by the pipeline's own publication step) is copied and
a leak planted in each copy; the checker must refuse it, naming the file and where in it."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import duckdb
import pypdf
import pytest

from pedw.disclosure.rules import DisclosureRule
from pedw.public_release import PublicReleaseError, _guarded, check_public_release
from pedw.warehouse import connect_read_only

RULE = DisclosureRule()


@pytest.fixture(scope="module")
def release(pipeline):
    """(the current public release of the session's demo run, its firm ids, the internal
    warehouse): read only; each test plants its leak in a copy."""
    settings, summary = pipeline
    assert summary.success, summary.failures
    con = connect_read_only(settings.warehouse_path)
    try:
        firm_ids = {r[0] for r in con.execute("SELECT firm_id FROM staging.enterprise_firms").fetchall()}  # fmt: skip
    finally:
        con.close()
    return (settings.public_dir / "current").resolve(), firm_ids, settings.warehouse_path


@pytest.fixture
def copy(release, tmp_path) -> Path:
    """A copy of the release to plant a leak in, with the briefs of its first two economies
    and the annex only (reading a PDF's text takes about 0.4 s: the full release is checked
    once, above)."""
    shutil.copytree(release[0], tmp_path / "release", symlinks=False)
    briefs = tmp_path / "release" / "briefs"
    kept = sorted({p.name.split("_")[0].split(".")[0] for p in briefs.iterdir()} - {"cross"})[:2]
    for path in briefs.iterdir():
        if not path.name.startswith((*kept, "cross_country")):
            path.unlink()
    return tmp_path / "release"


def one_page_pdf(text: str) -> bytes:
    """A one-page A4 PDF whose text is `text` (Helvetica), written byte by byte."""
    stream = f"BT /F1 11 Tf 72 760 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)  # fmt: skip
    return bytes(out)


def pdf_with_page(source: Path, text: str) -> None:
    """`source` (a brief's PDF, whatever printed it) with one more page saying `text`."""
    writer = pypdf.PdfWriter(clone_from=source)
    writer.append(pypdf.PdfReader(io.BytesIO(one_page_pdf(text))))
    with source.open("wb") as handle:
        writer.write(handle)


def rewrite(path: Path, select: str) -> None:
    """Replace a Parquet table of the release by `select` over it (`t`)."""
    query = select.replace(" FROM t", f" FROM read_parquet('{path}')")
    duckdb.sql(f"COPY ({query}) TO '{path.with_suffix('.new')}' (FORMAT parquet)")
    path.with_suffix(".new").replace(path)


def test_the_pipeline_s_own_release_passes_and_its_pdfs_are_read(release):
    folder, firm_ids, _ = release
    pdfs = sorted(folder.glob("briefs/*.pdf"))
    assert len(pdfs) > 5 and len(firm_ids) > 500
    pages = sum(len(pypdf.PdfReader(p).pages) for p in pdfs)
    assert pages > 2 * len(pdfs)
    assert check_public_release(folder, firm_ids, RULE) > 50


def test_a_firm_id_printed_in_a_brief_pdf_is_refused_with_its_page(release, copy):
    _, firm_ids, _ = release
    firm = sorted(firm_ids)[7]
    brief = next(p for p in sorted(copy.glob("briefs/*.pdf")) if p.stem != "cross_country")
    pages = len(pypdf.PdfReader(brief).pages)
    pdf_with_page(brief, f"Largest exporter: {firm}")
    assert firm in pypdf.PdfReader(brief).pages[-1].extract_text()
    with pytest.raises(PublicReleaseError) as refused:
        check_public_release(copy, firm_ids, RULE)
    assert str(refused.value) == (
        f"briefs/{brief.name} page {pages + 1}: holds firm identifier(s) ['{firm}']"
    )


def test_a_firm_id_in_an_html_page_is_refused_with_its_line(release, copy):
    """Also where no reader sees it: in an attribute."""
    _, firm_ids, _ = release
    firm = sorted(firm_ids)[3]
    page = copy / "briefs" / "cross_country.html"
    text = page.read_text().replace(
        "</body>", f'<p class="note">\n<span title="{firm}">one exporter</span></p>\n</body>'
    )
    page.write_text(text)
    line = text[: text.index(firm)].count("\n") + 1
    with pytest.raises(PublicReleaseError) as refused:
        check_public_release(copy, firm_ids, RULE)
    assert str(refused.value) == (
        f"briefs/cross_country.html line {line}: holds firm identifier(s) ['{firm}']"
    )


@pytest.mark.parametrize("hidden", ["\u200b", "\u00ad", "\u2060", "\ufeff"])
def test_a_firm_id_split_by_an_invisible_character_is_still_read(release, copy, hidden):
    """A zero-width space, soft hyphen, word joiner or byte-order mark inside an identifier
    shows the reader the identifier whole: in an HTML page's text, in a CSV and in a PDF page
    (typeset by Typst, as the briefs are)."""
    _, firm_ids, _ = release
    firm = sorted(firm_ids)[11]
    split = firm[:3] + hidden + firm[3:]
    html = copy / "briefs" / "cross_country.html"
    html.write_text(html.read_text().replace("</body>", f"<p>Exporter {split}</p></body>"))
    with pytest.raises(PublicReleaseError, match=rf"^briefs/cross_country.html line \d+: holds "
                       rf"firm identifier\(s\) \['{firm}'\]$"):  # fmt: skip
        check_public_release(copy, firm_ids, RULE)
    html.unlink()
    csv = next(copy.glob("briefs/*_scorecard.csv"))
    csv.write_text(csv.read_text() + f"{split}\n")
    with pytest.raises(PublicReleaseError, match=rf"^briefs/{csv.name} line \d+: holds firm"):
        check_public_release(copy, firm_ids, RULE)
    csv.unlink()
    brief = next(p for p in sorted(copy.glob("briefs/*.pdf")) if p.stem != "cross_country")
    pages = len(pypdf.PdfReader(brief).pages)
    writer = pypdf.PdfWriter(clone_from=brief)
    writer.append(pypdf.PdfReader(io.BytesIO(typst_pdf(f"Exporter {split}"))))
    with brief.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(PublicReleaseError) as refused:
        check_public_release(copy, firm_ids, RULE)
    assert str(refused.value) == (
        f"briefs/{brief.name} page {pages + 1}: holds firm identifier(s) ['{firm}']"
    )


def typst_pdf(text: str) -> bytes:
    """A one-page PDF saying `text`, typeset by Typst in the briefs' fonts."""
    import typst

    from pedw.briefs.typeset import font_dir

    escaped = "".join(f"\\u{{{ord(c):x}}}" for c in text)
    source = f'#set page(paper: "a4")\n#set text(font: "DejaVu Sans")\n#"{escaped}"\n'
    compiler = typst.Compiler(font_paths=[str(font_dir())], ignore_system_fonts=True)
    return compiler.compile(source.encode())


@pytest.mark.parametrize("statement", ["rests on 3 firms", "4 treated firms in 2 economies"])
def test_a_text_stating_a_count_below_the_threshold_is_refused(release, copy, statement):
    _, firm_ids, _ = release
    html = next(p for p in sorted(copy.glob("briefs/*.html")) if p.stem != "cross_country")
    html.write_text(html.read_text().replace("</body>", f"<p>This gap {statement}.</p></body>"))
    count = statement.split(" on ")[-1].split(" in ")[0]
    with pytest.raises(PublicReleaseError, match=rf"^briefs/{html.name} \(visible text\): states a count "
                       rf"of firms below the threshold of 10 \('{count}'\)$"):  # fmt: skip
        check_public_release(copy, firm_ids, RULE)
    html.unlink()
    pdf = html.with_suffix(".pdf")
    pdf_with_page(pdf, f"The gap {statement}.")
    with pytest.raises(PublicReleaseError, match=rf"^briefs/{pdf.name} page \d+: states a count"):
        check_public_release(copy, firm_ids, RULE)


def test_no_released_reason_or_brief_text_states_a_count_below_the_threshold(release):
    """Every reason of the internal audit (the indicators' included), recounted: the public
    reasons are the same words, and the release's texts passed the checker above."""
    from pedw.release_text import small_counts_in

    _, _, warehouse = release
    con = connect_read_only(warehouse)
    try:
        reasons = [r[0] for r in con.execute(
            "SELECT DISTINCT reason FROM disclosure.audit WHERE reason <> '' UNION "
            "SELECT DISTINCT reason FROM disclosure.firm_indicators WHERE reason <> ''").fetchall()]  # fmt: skip
    finally:
        con.close()
    assert any("firms contribute" in r for r in reasons)
    assert [r for r in reasons if small_counts_in(r, RULE.min_contributors)] == []


@pytest.mark.parametrize(
    ("table", "filled"),
    [
        ("firms.indicators", {"std_error": "0.05", "ci_low": "0.2", "ci_high": "0.4"}),
        ("firms.sme_gap_cells", {"productivity_gap_se": "0.21"}),
        # A column the checker has never heard of is guarded too: derived from the columns.
        ("firms.indicators", {"p_value": "0.04"}),
        # A withheld term that kept its counts (the demo may withhold none: one is made so).
        ("firms.effect_terms", {"treated_firms": "4", "treated_countries": "2"}),
    ],
)  # fmt: skip
def test_any_value_on_a_suppressed_row_is_refused_naming_table_row_and_column(
    release, copy, table, filled
):
    _, firm_ids, _ = release
    shutil.rmtree(copy / "briefs")  # the tables only
    path = copy / "parquet" / f"{table}.parquet"
    columns = [
        r[0] for r in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    ]
    status = "productivity_status" if table == "firms.sme_gap_cells" else "status"
    keys = {"firms.sme_gap_cells": ["country", "year", "size_class"],
            "firms.indicators": ["country", "year", "indicator", "statistic"],
            "firms.effect_terms": ["model_id", "term"]}[table]  # fmt: skip
    row = duckdb.execute(f"SELECT {', '.join(keys)}, {status} FROM read_parquet('{path}') "
                     f"ORDER BY {status} = 'published', {', '.join(keys)} LIMIT 1").fetchall()[0]  # fmt: skip
    hidden, was = row[:-1], row[-1]
    first = " AND ".join(f"CAST({k} AS VARCHAR) = '{v}'" for k, v in zip(keys, hidden, strict=True))
    planted = {c: f"CASE WHEN {first} THEN {v} END" for c, v in filled.items()}
    if was == "published":
        planted[status] = f"CASE WHEN {first} THEN 'primary' ELSE {status} END"
    replaced = ", ".join(f"{e} AS {c}" for c, e in planted.items() if c in columns)
    added = ", ".join(f"{e} AS {c}" for c, e in planted.items() if c not in columns)
    rewrite(path, f"SELECT * {f'REPLACE ({replaced})' if replaced else ''}"
                  f"{', ' + added if added else ''} FROM t")  # fmt: skip
    named = ", ".join(f"{k} = {v}" for k, v in zip(keys, hidden, strict=True))
    with pytest.raises(PublicReleaseError) as refused:
        check_public_release(copy, firm_ids, RULE)
    message = str(refused.value)
    assert message.startswith(f"parquet/{table}.parquet: {table} row ({named}) is suppressed "
                              f"({status} = ")  # fmt: skip
    assert f"but shows {', '.join(filled)};" in message


def test_the_guarded_columns_are_every_column_but_keys_status_reason_and_the_flag():
    cells = ["country", "year", "size_class", "productivity_gap", "productivity_gap_se",
             "productivity_contributors", "productivity_status", "productivity_reason",
             "wage_gap", "wage_status", "wage_reason", "firms"]  # fmt: skip
    assert _guarded(cells) == {
        "productivity_status": ["productivity_gap", "productivity_gap_se",
                                "productivity_contributors", "firms"],
        "wage_status": ["wage_gap", "firms"],
    }  # fmt: skip
    trend = ["country", "outcome", "size_class", "gap_first_year", "trend_ci_low", "widening",
             "contributors", "status", "reason"]  # fmt: skip
    assert _guarded(trend) == {
        "status": ["gap_first_year", "trend_ci_low", "widening", "contributors"]
    }
    chart = ["year", "size_class", "gap", "suppressed", "reason"]
    assert _guarded(chart) == {"suppressed": ["gap"]}
    assert _guarded(["ref_area", "year", "value"]) == {}  # no status: not a suppressible table


def test_the_audit_lists_every_firm_indicator_cell_with_its_outcome(release):
    """disclosure.audit holds every firm-derived released cell: each indicator cell with the
    status and reason it was released with, its contributors as the mart counted them, and
    the public firms.disclosure_outcomes shows the same decisions."""
    folder, _, warehouse = release
    con = connect_read_only(warehouse)
    try:
        released = con.execute("SELECT country, year, indicator, status, reason "
                               "FROM disclosure.firm_indicators ORDER BY ALL").fetchall()  # fmt: skip
        audited = con.execute(
            "SELECT country, year, measure, status, reason FROM disclosure.audit "
            "WHERE figure = 'firm_indicator' ORDER BY ALL"
        ).fetchall()
        mismatched = con.execute(
            "SELECT count(*) FROM disclosure.audit a JOIN marts.firm_indicators m "
            "ON a.country = m.country AND a.year = m.year AND a.measure = m.indicator "
            "WHERE a.figure = 'firm_indicator' AND a.contributors IS DISTINCT FROM m.contributors"
        ).fetchone()[0]
    finally:
        con.close()
    assert len(released) > 100 and audited == released
    assert {"published", "primary"} <= {r[3] for r in released}
    assert mismatched == 0
    public = duckdb.connect(str(folder / "public.duckdb"), read_only=True)
    try:
        shown = public.execute("SELECT country, year, measure, status, reason FROM "
                               "firms.disclosure_outcomes WHERE figure = 'firm_indicator' "
                               "ORDER BY ALL").fetchall()  # fmt: skip
    finally:
        public.close()
    assert shown == released
