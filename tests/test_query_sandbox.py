"""`pedw query` gives analysts SQL on the warehouse and nothing else on the machine."""

from __future__ import annotations

import csv

import pytest

from pipelines.cli import main

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("COPY (SELECT 1) TO '{out}/copied.csv'", "file system operations are disabled"),
        ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("SELECT * FROM glob('/*')", "file system operations are disabled"),
        ("ATTACH '{out}/other.duckdb' (READ_WRITE)", "file system operations are disabled"),
        ("INSTALL httpfs", "file system operations are disabled"),
        ("SET threads = 1000000", "the configuration has been locked"),
        ("SET enable_external_access = true", "the configuration has been locked"),
    ],
)
def test_each_statement_outside_the_warehouse_is_refused_in_one_line(
    pipeline, tmp_path, capsys, statement, refusal
):
    settings, _ = pipeline
    code = main(
        ["query", statement.format(out=tmp_path), "--warehouse", str(settings.warehouse_path)]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and refusal in err
    assert err.startswith("pedw: query refused or failed: ")
    assert not list(tmp_path.iterdir())  # nothing written anywhere


def test_queries_on_the_warehouse_still_work(pipeline, capsys):
    settings, _ = pipeline
    query = "SELECT count(*) AS economies FROM (SELECT DISTINCT ref_area FROM marts.national_panel)"
    assert main(["query", query, "--csv", "--warehouse", str(settings.warehouse_path)]) == 0
    # Arrow's CSV writer quotes text (header included): the same rows for any CSV reader.
    assert list(csv.reader(capsys.readouterr().out.splitlines())) == [["economies"], ["40"]]
