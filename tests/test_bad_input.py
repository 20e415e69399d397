"""A run over a folder of broken files: good rows load, bad rows are quarantined with their
reason, unusable files are refused with a message, blocking failures stop only what depends
on them, and rows read = rows loaded + rows quarantined for every load."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import zipfile

import dagster as dg
import pytest
import yaml

from pedw.settings import PROJECT_ROOT, resolve_settings
from pedw.store import Store
from pedw.warehouse import connect_read_only
from pipelines.run import run_catalog

pytestmark = pytest.mark.slow

HEADER = "ref_area,indicator,source,sex,classif1,time,obs_value,obs_status,note_classif,note_indicator,note_source\n"


def ilostat_rows(
    area: str, values: list[str], first_year: int = 2015, indicator: str = "SDG_0831_SEX_ECO_RT"
) -> str:
    return "".join(
        f"{area},{indicator},BA:1,SEX_T,ECO_AGNAG_TOTAL,{first_year + i},{v},,,,\n"
        for i, v in enumerate(values)
    )


def write(path, text: str, encoding: str = "utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="module")
def broken_run(demo_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("broken")
    files = folder / "ilostat"
    # Files that load, in awkward encodings, delimiters and packings.
    write(files / "good.csv", HEADER + ilostat_rows("KEN", ["80.1", "79.5", "79.0"]))
    write(files / "bom.csv", "\ufeff" + HEADER + ilostat_rows("GHA", ["70.2", "69.8"]))
    write(
        files / "latin1.csv",
        HEADER
        + ilostat_rows("CIV", ["88.1", "87.9"])
        + "CIV,SDG_0831_SEX_ECO_RT,BA:1,SEX_T,ECO_AGNAG_TOTAL,2017,87.5,,,,Côte\n",
        encoding="latin-1",
    )
    write(
        files / "semicolon.csv",
        (HEADER + ilostat_rows("UGA", ["91,5", "91,2"]))
        .replace(",", ";")
        .replace("91;5", "91,5")
        .replace("91;2", "91,2"),
    )
    (files / "packed.csv.gz").write_bytes(
        gzip.compress((HEADER + ilostat_rows("TZA", ["85.0", "84.1"])).encode())
    )
    with zipfile.ZipFile(files / "packed.zip", "w") as archive:
        archive.writestr("ETH.csv", HEADER + ilostat_rows("ETH", ["89.0", "88.0"]))
    write(
        files / "extra_column.csv",
        HEADER.replace("\n", ",comment\n")
        + "".join(
            line.rstrip("\n") + ",hello\n"
            for line in ilostat_rows("NPL", ["84.0", "83.0"]).splitlines(True)
        ),
    )
    # Rows that must be quarantined, each for a reason.
    write(
        files / "bad_rows.csv",
        HEADER
        + ilostat_rows("SEN", ["..", "-", "n/a", "x", ""])  # missing markers
        + ilostat_rows("ZZZ", ["10.0"])  # unknown country
        + ilostat_rows("MAR", ["10.0"], first_year=1850)  # year out of range
        + ilostat_rows(
            "BGD", ['"1,234"'], indicator="EMP_2EMP_SEX_AGE_NB"
        )  # thousands separator: loads
        + ilostat_rows("PAK", ["12.0", "12.0"], first_year=2019)[:0]  # (placeholder, none)
        + ilostat_rows("PAK", ["12.0"], first_year=2019) * 2  # identical duplicate
        + ilostat_rows("IND", ["12.0"], first_year=2019)
        + ilostat_rows("IND", ["13.0"], first_year=2019)  # conflict
        + ilostat_rows(
            "LKA", ["20.1", "20.4", "20900", "20.8", "21.0"], indicator="EMP_2EMP_SEX_AGE_NB"
        )  # units change
        + "NGA,SDG_0831_SEX_ECO_RT,BA:1,SEX_T,ECO_AGNAG_TOTAL,2016",
    )  # truncated last line
    # Files that must be refused.
    write(files / "empty.csv", "")
    write(files / "header_only.csv", HEADER)
    write(files / "no_value_column.csv", "ref_area,indicator,time\nKEN,X,2015\n")
    (files / "not_a_table.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    catalog = yaml.safe_load((demo_dir / "catalog.yml").read_text())
    for source in catalog["sources"]:
        source["path"] = str(demo_dir / source["path"])
    national = next(s for s in catalog["sources"] if s["name"] == "ilostat_national")
    catalog["sources"].append({**national, "name": "broken_files", "path": str(files / "*")})
    catalog["sources"].append(
        {**national, "name": "missing_file", "path": str(folder / "nowhere.csv")}
    )
    # The whole sector source is unusable: its blocking row-count check stops the sector
    # series and panels and everything built on them, but not the national ones.
    sector = next(s for s in catalog["sources"] if s["name"] == "ilostat_sector")
    sector["path"] = str(files / "empty.csv")
    shutil.copy(demo_dir / "truth.json", folder / "truth.json")
    (folder / "catalog.yml").write_text(yaml.safe_dump(catalog))
    settings = resolve_settings(folder / "catalog.yml", folder / "wh" / "pedw.duckdb")
    with dg.DagsterInstance.ephemeral() as instance:
        summary = run_catalog(settings, instance, progress=lambda _m: None)

    # A run publishes what it could build (the national level, the quality tables of this run)
    # and says, table by table, what is fresh and what is absent.
    assert summary.published
    con = Store(settings.store_dir).connect()
    yield summary, con, files, settings
    con.close()


def quarantined(con, files, name):
    return con.execute(
        "SELECT source_line, column_name, rule, value, message FROM quality.quarantine "
        "WHERE source_file = ? ORDER BY source_line, rule",
        [str(files / name)],
    ).fetchall()


def test_good_rows_from_awkward_files_are_loaded(broken_run):
    _, con, _, _ = broken_run
    loaded = dict(
        con.execute(
            "SELECT ref_area, count(*) FROM staging.national_observations WHERE source_name = 'broken_files' GROUP BY ALL"
        ).fetchall()
    )
    assert loaded == {
        "KEN": 3,
        "GHA": 2,
        "CIV": 3,
        "UGA": 2,
        "TZA": 2,
        "ETH": 2,
        "NPL": 2,
        "BGD": 1,
        "PAK": 1,
        "LKA": 4,
    }
    uga = con.execute(
        "SELECT list(obs_value ORDER BY time) FROM staging.national_observations "
        "WHERE ref_area = 'UGA' AND source_name = 'broken_files'"
    ).fetchone()[0]
    assert uga == [91.5, 91.2]  # decimal commas
    bgd = con.execute(
        "SELECT obs_value FROM staging.national_observations WHERE ref_area = 'BGD' "
        "AND source_name = 'broken_files'"
    ).fetchone()[0]
    assert bgd == 1234.0  # thousands separator


def test_every_bad_row_is_quarantined_with_line_column_rule_and_message(broken_run):
    _, con, files, _ = broken_run
    rows = quarantined(con, files, "bad_rows.csv")
    rules = [(line, rule) for line, _, rule, _, _ in rows]
    assert rules == [
        (2, "required"),
        (3, "required"),
        (4, "required"),
        (5, "required"),
        (6, "required"),
        (7, "code_list"),
        (8, "range"),
        (11, "duplicate_key_identical"),
        (12, "duplicate_key_conflict"),
        (13, "duplicate_key_conflict"),
        (16, "unit_jump"),
        (19, "malformed_row"),
    ]
    messages = {line: message for line, _, _, _, message in rows}
    assert 'missing marker ".."' in messages[2]
    assert "ZZZ" in messages[7] and "iso3_country" in messages[7]
    assert "below the minimum 1900" in messages[8]
    assert "units changed" in messages[16]


def test_unusable_files_are_refused_with_a_message_and_a_missing_file_is_named(broken_run):
    _, con, files, _ = broken_run
    issues = {
        row[0]: (row[1], row[2])
        for row in con.execute(
            "SELECT source_file, kind, message FROM quality.source_issues"
        ).fetchall()
    }
    assert issues[str(files / "empty.csv")][1].endswith("file is empty")
    assert "header but no data rows" in issues[str(files / "header_only.csv")][1]
    assert "obs_value" in issues[str(files / "no_value_column.csv")][1]
    assert "not a text table" in issues[str(files / "not_a_table.csv")][1]
    assert any("nowhere.csv" in f and kind == "refused" for f, (kind, _) in issues.items())
    assert issues[str(files / "extra_column.csv")] == (
        "warning",
        f"{files / 'extra_column.csv'}: unexpected column(s) comment ignored",
    )


def test_row_accounting_is_exact_for_every_load(broken_run):
    _, con, _, _ = broken_run
    assert (
        con.execute(
            "SELECT count(*) FROM quality.load_log WHERE rows_read <> rows_loaded + rows_quarantined"
        ).fetchone()[0]
        == 0
    )
    read, loaded, quarantined_rows = con.execute(
        "SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM quality.load_log "
        "WHERE source_name = 'broken_files'"
    ).fetchone()
    assert (read, loaded, quarantined_rows) == (34, 22, 12)
    distinct = con.execute(
        "SELECT count(DISTINCT (source_file, source_line)) FROM quality.quarantine "
        "WHERE source_name = 'broken_files'"
    ).fetchone()[0]
    assert distinct == quarantined_rows


def test_blocking_failure_stops_only_its_downstream(broken_run):
    summary, con, _, _ = broken_run
    assert not summary.success
    assert any("staging/sector_observations" in b and "row_count" in b for b in summary.blocked)
    assert "marts/sector_panel" in summary.not_materialized
    assert "marts/national_panel" not in summary.not_materialized
    assert con.execute("SELECT count(*) FROM marts.national_panel").fetchone()[0] == 40 * 24
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        ).fetchall()
    }
    assert "marts.sector_panel" not in tables
    assert "warehouse" not in summary.not_materialized

    failed = con.execute(
        "SELECT rule, severity FROM quality.validation_results WHERE NOT success"
    ).fetchall()
    assert ("row_count", "block") in failed


def test_what_could_be_built_is_published_and_each_table_says_if_it_is_fresh(broken_run):
    summary, _, _, settings = broken_run
    con = connect_read_only(settings.warehouse_path)
    try:
        status = {
            table: (state, reason)
            for table, state, reason in con.execute(
                "SELECT table_name, status, reason FROM meta.table_status"
            ).fetchall()
        }
        national_rows = con.execute("SELECT count(*) FROM marts.national_panel").fetchone()[0]
        refused = con.execute(
            "SELECT count(*) FROM quality.source_issues WHERE kind = 'refused'"
        ).fetchone()[0]
        publication = con.execute("SELECT publication_id FROM meta.publication").fetchone()[0]
    finally:
        con.close()
    assert publication == summary.publication_id
    # five broken files of the national source, and the empty file the sector source names
    assert national_rows == 40 * 24 and refused == len(summary.refused) == 6
    assert status["marts.national_panel"][0] == "fresh"
    state, reason = status["staging.sector_observations"]
    assert state == "fresh" and reason.startswith("built, but blocked (check row_count failed)")
    for table in ("marts.sector_panel", "staging.sector_series", "models.shift_share"):
        state, reason = status[table]
        assert state == "absent", table
        assert "an input failed or was blocked (staging/sector_observations)" in reason, table
    assert {s for s, _ in status.values()} <= {"fresh", "current", "stale", "absent"}


def test_refused_files_and_blocked_checks_are_one_line_each_and_the_exit_code_says_published_with_problems(
    broken_run,
):
    _summary, _, _, settings = broken_run
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--catalog", str(settings.catalog_path),
         "--warehouse", str(settings.warehouse_path)],
        env={**os.environ, "DAGSTER_HOME": str(PROJECT_ROOT)}, capture_output=True, text=True,
        cwd=PROJECT_ROOT, timeout=600,
    )  # fmt: skip
    assert run.returncode == 3, run.stderr[-2000:]
    lines = run.stderr.strip().splitlines()
    assert "Traceback" not in run.stderr and "dagster._core.errors" not in run.stderr
    refused = [line for line in lines if line.startswith("pedw: refused ")]
    assert len(refused) == 6
    assert any("empty.csv" in line and "file is empty" in line for line in refused)
    assert any("nowhere.csv" in line for line in refused)
    assert any(
        line.startswith("pedw: failed staging/sector_observations: check row_count failed")
        for line in lines
    )
    assert any("pedw: next: fix or remove the refused files" in line for line in lines)
    assert lines[-1].startswith("pedw: published with problems (publication ")
