"""The public tier holds no microdata: every file of it scanned, and a release that would
disclose a firm refused before it is made current."""

from __future__ import annotations

import re
import shutil
import subprocess

import duckdb
import pytest

from pedw.disclosure.rules import DisclosureRule
from pedw.public_release import PUBLIC_TABLES, PublicReleaseError, check_public_release
from pedw.warehouse import connect_read_only


@pytest.fixture(scope="module")
def public(pipeline):
    settings, _ = pipeline
    con = connect_read_only(settings.warehouse_path)
    firm_ids = {
        r[0] for r in con.execute("SELECT DISTINCT firm_id FROM marts.enterprise_panel").fetchall()
    }
    publication = con.execute("SELECT publication_id FROM meta.publication").fetchone()[0]
    con.close()
    return settings, firm_ids, publication


def test_the_public_release_is_apart_from_the_microdata(public):
    settings, _, publication = public
    root = settings.public_dir
    assert root.resolve().is_relative_to(settings.warehouse_path.parent.parent)
    assert not root.resolve().is_relative_to(settings.warehouse_path.parent)
    current = (root / "current").resolve()
    assert current.name == publication
    assert sorted(p.name for p in current.iterdir()) == [
        "brief_files.csv",  # which publication built each brief file (pedw.publication_log)
        "briefs",
        "briefs_withheld.csv",  # the economies with no brief, and why (pedw.briefs.eligibility)
        "parquet",
        "public.duckdb",
        "publications.csv",
    ]
    briefs = {path.stem for path in (root / "briefs").glob("*.html")}
    assert len(briefs - {"cross_country"}) == 40 and "cross_country" in briefs  # and the annex


def test_no_file_of_the_public_release_holds_a_firm(public, tmp_path):
    settings, firm_ids, _ = public
    current = (settings.public_dir / "current").resolve()
    scanned = 0
    for path in sorted(p for p in current.rglob("*") if p.is_file()):
        scanned += 1
        if path.suffix == ".duckdb":
            con = duckdb.connect(str(path), read_only=True)
            tables = con.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            ).fetchall()
            assert {t[0] for t in tables} <= set(PUBLIC_TABLES)
            assert "firms.sme_gap_cells" in {t[0] for t in tables}
            for (name,) in tables:
                columns = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
                assert "firm_id" not in columns, name
                for column in columns:
                    values = con.execute(
                        f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM {name}'
                    ).fetchall()
                    assert not firm_ids & {v[0] for v in values}, (name, column)
            hidden = con.execute(
                "SELECT count(*) FROM firms.sme_gap_cells WHERE productivity_status <> 'published' "
                "AND (productivity_gap IS NOT NULL OR productivity_contributors IS NOT NULL)"
            ).fetchone()[0]
            con.close()
            assert hidden == 0
            continue
        if path.suffix == ".parquet":
            text = duckdb.sql(f"SELECT * FROM read_parquet('{path}')").df().astype(str).to_csv()
        elif path.suffix == ".pdf":
            if shutil.which("pdftotext") is None:
                continue
            text = subprocess.run(
                ["pdftotext", path, "-"], capture_output=True, text=True, check=True
            ).stdout
        else:
            text = path.read_text(encoding="utf-8")
        assert not firm_ids & set(re.findall(r"[A-Za-z0-9_-]{3,}", text)), path
    assert scanned > 150


def test_a_release_that_would_disclose_a_firm_is_refused(public, tmp_path):
    settings, firm_ids, _ = public
    rule = DisclosureRule()
    release = tmp_path / "release"
    shutil.copytree((settings.public_dir / "current").resolve(), release)
    assert check_public_release(release, firm_ids, rule) > 150
    # Every leak below is planted in a table or beside Kenya's brief: the other economies'
    # briefs go (reading a PDF's text takes about 0.4 s; the whole release passed above).
    for path in (release / "briefs").iterdir():
        if not path.name.startswith(("KEN.", "KEN_", "cross_country")):
            path.unlink()

    leaked = release / "briefs" / "KEN_firms.csv"
    leaked.write_text(f"firm,value\n{sorted(firm_ids)[0]},1.0\n")
    with pytest.raises(
        PublicReleaseError, match=r"briefs/KEN_firms\.csv line 2: holds firm identifier"
    ):
        check_public_release(release, firm_ids, rule)
    leaked.unlink()

    cells = release / "parquet" / "firms.sme_gap_cells.parquet"
    duckdb.sql(
        f"COPY (SELECT * REPLACE (CASE WHEN productivity_status = 'primary' THEN -0.5 "
        f"ELSE productivity_gap END AS productivity_gap) FROM read_parquet('{cells}')) "
        f"TO '{tmp_path / 'cells.parquet'}' (FORMAT parquet)"
    )
    shutil.copy(tmp_path / "cells.parquet", cells)
    with pytest.raises(
        PublicReleaseError,
        match=r"firms\.sme_gap_cells row \(country = \w+, year = \d+, size_class = \w+\) is "
        r"suppressed \(productivity_status = primary\) but shows productivity_gap;",
    ):
        check_public_release(release, firm_ids, rule)
    cells.unlink()

    # Any column of a suppressed figure's row, not only its value: a trend's interval, a
    # term's count.
    for table, planted in [
        ("firms.sme_gap_trend", "'primary' AS status, NULL AS gap_first_year, NULL AS "
         "trend_per_year, NULL AS trend_se, NULL AS contributors"),  # interval and flags left
        ("firms.effect_terms", "'primary' AS status"),
    ]:  # fmt: skip
        path = release / "parquet" / f"{table}.parquet"
        original = path.read_bytes()
        duckdb.sql(f"COPY (SELECT * REPLACE ({planted}) FROM read_parquet('{path}')) "
                   f"TO '{tmp_path / 'planted.parquet'}' (FORMAT parquet)")  # fmt: skip
        shutil.copy(tmp_path / "planted.parquet", path)
        with pytest.raises(
            PublicReleaseError,
            match=rf"{table} row \(.*\) is suppressed \(status = primary\) but shows",
        ):
            check_public_release(release, firm_ids, rule)
        path.write_bytes(original)

    terms = release / "parquet" / "firms.effect_terms.parquet"
    original = terms.read_bytes()
    duckdb.sql(f"COPY (SELECT * REPLACE (3 AS treated_firms, 'published' AS status) FROM "
               f"read_parquet('{terms}')) TO '{tmp_path / 'thin.parquet'}' (FORMAT parquet)")  # fmt: skip
    shutil.copy(tmp_path / "thin.parquet", terms)
    with pytest.raises(
        PublicReleaseError,
        match=r"effect_terms\.treated_firms publishes \d+ figure\(s\) below min_treated = 10",
    ):
        check_public_release(release, firm_ids, rule)
    terms.write_bytes(original)

    con = duckdb.connect(str(release / "public.duckdb"))
    con.execute("CREATE TABLE firms.panel AS SELECT 'x' AS firm_id")
    con.close()
    with pytest.raises(PublicReleaseError, match=r"table firms\.panel is not on the public list"):
        check_public_release(release, firm_ids, rule)


def test_the_cell_key_secret_stays_in_the_store_and_the_released_cells_carry_its_noise(public):
    """The pipeline's disclosure step drew the store's secret once (owner-readable, outside
    every table); no published file, internal or public, holds it; the released gaps are the
    model's gaps plus bounded noise of zero mean (docs/disclosure.md, cell-key method)."""
    from pedw.disclosure.cellkey import SALT_FILE, cell_key_salt

    settings, _, _ = public
    secret_file = settings.store_dir / SALT_FILE
    secret = secret_file.read_text().strip()
    assert len(secret) == 64 and secret_file.stat().st_mode & 0o077 == 0
    assert cell_key_salt(settings.store_dir) == secret  # drawn once, then kept
    published = [settings.warehouse_path.resolve(), *(
        p for p in (settings.public_dir / "current").resolve().rglob("*") if p.is_file())]  # fmt: skip
    for path in published:
        assert secret.encode() not in path.read_bytes(), path
    con = connect_read_only(settings.warehouse_path)
    try:
        moved = con.execute(
            "SELECT country, year, d.productivity_gap - m.productivity_gap AS noise, "
            "m.lp_contributors AS n, "
            "m.large_lp_contributors AS n_large FROM disclosure.sme_gap_cells d "
            "JOIN models.sme_gap_cells m USING (country, year, size_class) "
            "WHERE d.productivity_status = 'published'"
        ).df()
    finally:
        con.close()
    rule = DisclosureRule()
    bound = rule.noise_bound * (1 / moved["n"] + 1 / moved["n_large"]) + 0.0005
    assert len(moved) > 50 and (moved["noise"].abs() <= bound).all()
    assert (moved["noise"].abs() > 0.0005).mean() > 0.5  # noise, not rounding alone
    # Zero mean: the gaps of a country-year share their large firms' noise, so the mean is
    # judged over country-years (the secret is drawn at random: 3.5 SE, a false alarm in 2,000).
    per_year = moved.groupby(["country", "year"])["noise"].mean()
    assert abs(per_year.mean()) < 3.5 * per_year.std() / len(per_year) ** 0.5
