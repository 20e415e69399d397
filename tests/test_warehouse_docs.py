"""The published warehouse documents itself and opens in the tools analysts use."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pedw.quality.dictionary import DICTIONARY_PATH, dictionary_row
from pedw.store import Store
from pedw.warehouse import PUBLISHED_STORAGE_VERSION, connect_read_only
from pipelines.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def comments(pipeline) -> dict[tuple[str, str, str], str]:
    settings, _ = pipeline
    con = connect_read_only(settings.warehouse_path)
    try:
        rows = con.execute(
            "SELECT schema_name, table_name, column_name, coalesce(comment, ''), data_type "
            "FROM duckdb_columns() WHERE database_name = current_database()"
        ).fetchall()
        untyped = [r[:3] for r in rows if r[4] == '"NULL"']
        assert not untyped, f"columns published without a type: {untyped}"
        tables = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND coalesce(comment, '') = ''"
        ).fetchall()
        assert not tables, f"tables without a comment: {tables}"
    finally:
        con.close()
    return {(s, t, c): comment for s, t, c, comment, _ in rows}


def test_every_published_column_has_a_comment_and_the_dictionary_says_the_same(comments):
    assert len(comments) > 400
    missing = [key for key, text in comments.items() if not text]
    assert not missing, f"columns without a comment: {missing}"
    dictionary = DICTIONARY_PATH.read_text(encoding="utf-8")
    sections = {s.split("\n", 1)[0]: s for s in dictionary.split("\n### ")}
    for (schema, table, column), text in comments.items():
        assert dictionary_row(column, text) in sections[f"{schema}.{table}"], (
            schema,
            table,
            column,
        )
    assert comments[("marts", "sector_panel", "value_added_unit")].startswith("Unit of value_added")
    assert comments[("marts", "national_panel", "informality_rate")].endswith(
        "Unit: percent of total employment."
    )


def test_the_dagster_ui_shows_the_same_column_descriptions(pipeline_run, comments):
    _, _, instance = pipeline_run
    for asset, table in [
        ("marts/national_panel", "marts.national_panel"),
        ("staging/national_observations", "staging.national_observations"),
        ("models/national", "models.estimates"),
        ("models/shift_share", "models.shift_share"),
    ]:
        event = instance.get_latest_materialization_event(dg.AssetKey(asset.split("/")))
        columns = event.asset_materialization.metadata["dagster/column_schema"].schema.columns
        schema, name = table.split(".")
        assert len(columns) == sum(1 for s, t, _ in comments if (s, t) == (schema, name))
        for column in columns:
            assert column.description == comments[(schema, name, column.name)], column.name


def test_the_duckdb_command_line_tool_analysts_install_opens_the_warehouse(pipeline):
    settings, _ = pipeline
    binary = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.skip("the duckdb-cli package is not installed (it is in the test extras)")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1.5")  # reads storage versions 64-68 only
    shown = subprocess.run(
        [binary, "-readonly", "-csv", str(settings.warehouse_path), "-c",
         "SELECT count(*), min(comment) IS NOT NULL FROM duckdb_columns() "
         "WHERE table_name = 'national_panel'"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert shown.stdout.splitlines()[1] == "28,true"
    assert PUBLISHED_STORAGE_VERSION == "v1.0.0"


def test_publication_records_fingerprints_and_briefs_paths_relative_to_the_warehouse(pipeline):
    settings, _ = pipeline
    con = connect_read_only(settings.warehouse_path)
    try:
        fingerprints = json.loads(
            con.execute("SELECT fingerprints FROM meta.publication").fetchone()[0]
        )
        index = con.execute("SELECT html, pdf FROM briefs.index ORDER BY country").fetchall()
    finally:
        con.close()
    store = Store(settings.store_dir)
    assert fingerprints["marts.national_panel"] == store.fingerprint("marts", "national_panel")
    assert len(fingerprints) == len(store.tables())
    assert index and index[0][0].startswith("briefs/") and not Path(index[0][0]).is_absolute()
    assert all((settings.warehouse_path.parent / html).is_file() for html, _ in index)


def test_tables_and_describe_teach_what_the_warehouse_holds(pipeline, capsys):
    settings, _ = pipeline
    warehouse = ["--warehouse", str(settings.warehouse_path)]
    assert main(["tables", "--schema", "marts", *warehouse]) == 0
    listing = capsys.readouterr().out
    assert "national_panel" in listing and "One row per economy and year" in listing
    assert main(["describe", "marts.sector_panel", *warehouse]) == 0
    described = capsys.readouterr().out
    assert "value_added_unit" in described and "Unit: persons." in described
    assert main(["describe", "marts.no_such_table", *warehouse]) == 2
    listed = capsys.readouterr().err
    tables = listed.split("tables: ")[1].strip().split(", ")
    assert {"briefs.index", "briefs.claims", "marts.series_choice"} <= set(tables)


def test_the_command_line_has_a_version_and_help_with_defaults_and_examples(capsys):
    with pytest.raises(SystemExit) as exit_code:
        main(["--version"])
    assert exit_code.value.code == 0 and capsys.readouterr().out.startswith("pedw 0.")
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert "(default: CRITICAL)" in text and "examples:" in text and "--warehouse FILE" in text
