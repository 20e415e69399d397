"""Operator slips get one line each, and queries are bounded: the real `pedw` command on a small
real DuckDB warehouse (one statement, DuckDB's hints kept, nearest names, a time limit, a row
cap, Ctrl-C that stops a runaway query, strict options and environment)."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

PEDW = shutil.which("pedw", path=str(Path(sys.executable).parent))
RUNAWAY = "SELECT sum(hash(range)) FROM range(10000000000000)"  # hours of work


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("guards") / "pedw.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA models")
    con.execute(
        "CREATE TABLE marts.national_panel AS SELECT 'KEN' AS ref_area, 1990 + range::INT AS "
        "year, range * 1.5 AS output_per_worker FROM range(30)"
    )
    con.execute("CREATE TABLE marts.sector_panel AS SELECT 'KEN' AS ref_area, 'C' AS sector")
    con.execute("CREATE TABLE models.estimates AS SELECT 'm' AS model_id, 0.5 AS estimate")
    con.close()
    return path


def pedw(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    if PEDW is None:
        pytest.skip("the pedw command is not installed in this environment")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PEDW_")}
    return subprocess.run(
        [PEDW, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean, **(env or {})},
    )


def test_more_than_one_statement_is_refused_in_one_line(warehouse):
    done = pedw("query", "select 1; select 2", "--warehouse", str(warehouse))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "pedw: query refused: one SQL statement at a time, got 2; run each with its own "
        "pedw query\n"
    )


def test_duckdb_hints_are_kept(warehouse):
    done = pedw("query", "select * from national_panl", "--warehouse", str(warehouse))
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert 'does not exist! Did you mean "marts.national_panel"?' in done.stderr


def test_an_unknown_table_or_schema_names_the_nearest_and_the_known(warehouse):
    done = pedw("describe", "marts.national_panl", "--warehouse", str(warehouse))
    assert done.returncode == 2
    assert done.stderr.startswith(
        "pedw: no table 'marts.national_panl' in the warehouse; nearest: marts.national_panel, "
    )
    assert done.stderr.count("\n") == 1
    done = pedw("tables", "--schema", "mart", "--warehouse", str(warehouse))
    assert (done.returncode, done.stderr) == (
        2,
        "pedw: no schema 'mart' in the warehouse; schemas: marts, models\n",
    )


def test_csv_stops_at_the_row_cap_and_says_so(warehouse):
    query = "select * from marts.national_panel order by year"
    done = pedw("query", query, "--csv", "--row-cap", "25", "--warehouse", str(warehouse))
    rows = list(csv.reader(done.stdout.splitlines()))
    assert done.returncode == 1 and len(rows) == 1 + 25 and rows[25][1] == "2014"
    assert "stopped at the row cap: the first 25 rows were written" in done.stderr
    done = pedw("query", query, "--csv", "--row-cap", "30", "--warehouse", str(warehouse))
    rows = list(csv.reader(done.stdout.splitlines()))
    assert done.returncode == 0 and rows[0] == ["ref_area", "year", "output_per_worker"]
    assert len(rows) == 31 and rows[30] == ["KEN", "2019", "43.5"]


def test_a_runaway_query_stops_at_its_time_limit(warehouse):
    started = time.monotonic()
    done = pedw("query", RUNAWAY, "--timeout", "2", "--warehouse", str(warehouse))
    assert done.returncode == 1
    assert (
        done.stderr
        == "pedw: query refused or failed: query stopped after its time limit of 2 s (--timeout)\n"
    )
    assert time.monotonic() - started < 30  # start-up included


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ctrl_c_stops_a_runaway_query_within_a_second(warehouse):
    if PEDW is None:
        pytest.skip("the pedw command is not installed in this environment")
    process = subprocess.Popen(
        [PEDW, "query", RUNAWAY, "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Start-up costs about a second of CPU; past 3 s the query itself is running.
        deadline = time.monotonic() + 60
        while _cpu_seconds(process.pid) < 3 and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        err = process.stderr.readline()  # pedw's line once DuckDB has stopped the query
        stopped_after = time.monotonic() - sent
        rest = process.communicate(timeout=30)[1]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, err + rest
    assert err + rest == "pedw: query refused or failed: query interrupted (Ctrl-C)\n"
    assert stopped_after < 1.0


def test_options_are_not_guessed_from_prefixes(warehouse):
    done = pedw("query", "select 1", "--ware", str(warehouse))
    assert done.returncode == 2 and "unrecognized arguments: --ware" in done.stderr


def test_environment_slips_are_named(warehouse):
    done = pedw(
        "query", "select 1", "--csv", "--warehouse", str(warehouse),
        env={"PEDW_WAREHOUS": "/tmp/elsewhere.duckdb", "PEDW_COLOUR": "red"},
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.splitlines()[1] == "1"
    assert done.stderr.splitlines() == [
        "pedw: warning: unknown environment variable PEDW_COLOUR ignored",
        "pedw: warning: unknown environment variable PEDW_WAREHOUS ignored "
        "(did you mean PEDW_WAREHOUSE?)",
    ]
    done = pedw("query", "select 1", "--warehouse", str(warehouse),
                env={"PEDW_STEP_PROCESSES": "two"})  # fmt: skip
    assert (done.returncode, done.stderr) == (
        2,
        "pedw: PEDW_STEP_PROCESSES=two: must be a whole number of at least 1 "
        "(e.g. PEDW_STEP_PROCESSES=2)\n",
    )


def test_a_catalog_yaml_error_is_one_line_with_file_line_and_column(tmp_path):
    catalog = tmp_path / "catalog.yml"
    catalog.write_text("sources:\n  - name: a\n    level: national\n   format: [x\n")
    done = pedw("run", "--catalog", str(catalog), "--warehouse", str(tmp_path / "w.duckdb"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"pedw: catalog {catalog}:4:4: not valid YAML: expected ")
