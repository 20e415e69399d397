"""`pedw export`: every format read back with the same rows, types and labels (a real DuckDB
warehouse with comments, code-list columns, decimals, dates, booleans and missing values)."""

from __future__ import annotations

import csv

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pedw.export import CODE_LISTS, STATA_LABEL_CHARS
from pipelines.cli import main

LONG = (
    "Sales of the firm in the year, deflated to 2017 prices, net of taxes and excise duties, "
    "as reported by the firm. Unit: 2017 PPP $."
)
WHERE = "year >= 2005 AND country = 'KEN'"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "pedw.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        """CREATE TABLE marts.enterprise_panel AS SELECT 'F' || range AS firm_id,
             ['KEN', 'GHA'][range % 2 + 1] AS country, ['C', 'G', 'D+E', 'X9'][range // 2 % 4 + 1]
             AS sector, ['micro', 'small', 'large'][range % 3 + 1] AS size_class,
             (2000 + range % 10)::INTEGER AS year, (range % 7 * 1.25)::DECIMAL(10, 2) AS sales,
             range % 2 = 0 AS exporter, DATE '2020-01-01' + (range % 30)::INTEGER AS surveyed,
             CASE WHEN range % 3 = 0 THEN NULL ELSE range END::BIGINT AS employees
           FROM range(4000)"""
    )
    con.execute("COMMENT ON TABLE marts.enterprise_panel IS 'One row per firm and year.'")
    con.execute(f"COMMENT ON COLUMN marts.enterprise_panel.sales IS '{LONG}'")
    con.execute("COMMENT ON COLUMN marts.enterprise_panel.sector IS 'ISIC Rev.4 section or group.'")
    expected = con.sql(f"SELECT * FROM marts.enterprise_panel WHERE {WHERE}").to_arrow_table()
    con.close()
    return path, expected.to_pandas(), expected


def _export(warehouse, out, *extra) -> int:
    path, *_ = warehouse
    return main(["export", "marts.enterprise_panel", str(out), "--where", WHERE,
                 "--warehouse", str(path), *extra])  # fmt: skip


def test_parquet_keeps_rows_and_types(warehouse, tmp_path, capsys):
    assert _export(warehouse, tmp_path / "firms.parquet") == 0
    assert "wrote 800 rows, 9 columns" in capsys.readouterr().out
    table = pq.read_table(tmp_path / "firms.parquet")
    assert [str(t) for t in table.schema.types] == [
        "string", "string", "string", "string", "int32", "decimal128(10, 2)", "bool",
        "date32[day]", "int64",
    ]  # fmt: skip
    assert table.schema.types == warehouse[2].schema.types
    assert table.to_pylist() == warehouse[2].to_pylist()


def test_csv_keeps_rows_and_values(warehouse, tmp_path):
    assert _export(warehouse, tmp_path / "firms.csv") == 0
    back = duckdb.sql(f"SELECT * FROM read_csv('{tmp_path / 'firms.csv'}')").df()
    expected = warehouse[1]
    assert list(back.columns) == list(expected.columns) and len(back) == len(expected) == 800
    assert back["employees"].isna().sum() == expected["employees"].isna().sum() > 200
    assert (back["sales"] == expected["sales"].astype(float)).all()
    assert (back["surveyed"] == pd.to_datetime(expected["surveyed"])).all()
    assert (back["sector"] == expected["sector"]).all()


def test_stata_has_variable_labels_and_value_labels(warehouse, tmp_path):
    assert _export(warehouse, tmp_path / "firms.dta") == 0
    with pd.io.stata.StataReader(tmp_path / "firms.dta") as reader:
        frame = reader.read()
        variable_labels = reader.variable_labels()
        value_labels = reader.value_labels()
        data_label = reader.data_label
    expected = warehouse[1]
    assert len(frame) == 800 and data_label == "marts.enterprise_panel: One row per firm and year."
    assert variable_labels["sector"] == "ISIC Rev.4 section or group."
    assert len(variable_labels["sales"]) == STATA_LABEL_CHARS
    assert variable_labels["sales"] == LONG[:77].rstrip() + "..."
    assert set(value_labels) == {"sector", "size_class"}
    assert value_labels["size_class"][0] == "micro: 1-9 persons"
    meanings = {"C": "C: Manufacturing", "D+E": "D+E: " + CODE_LISTS["sector"]["D+E"],
                "G": "G: " + CODE_LISTS["sector"]["G"], "X9": "X9: X9"}  # fmt: skip
    assert (frame["sector"].astype(str) == expected["sector"].map(meanings)).all()
    assert (frame["size_class"].astype(str).str.split(":").str[0] == expected["size_class"]).all()
    assert (frame["sales"] == expected["sales"].astype(float)).all()
    assert (frame["exporter"] == expected["exporter"].astype(int)).all()
    assert (frame["surveyed"] == pd.to_datetime(expected["surveyed"])).all()
    assert frame["employees"].isna().sum() == expected["employees"].isna().sum()
    assert (frame["employees"].dropna() == expected["employees"].dropna()).all()


def test_excel_has_the_data_and_a_notes_sheet(warehouse, tmp_path):
    assert _export(warehouse, tmp_path / "firms.xlsx") == 0
    sheets = pd.read_excel(tmp_path / "firms.xlsx", sheet_name=None)
    assert list(sheets) == ["data", "notes"]
    data, notes = sheets["data"], sheets["notes"]
    expected = warehouse[1]
    assert data.shape == (800, 9) and (data["firm_id"] == expected["firm_id"]).all()
    assert (data["sales"].astype(float) == expected["sales"].astype(float)).all()
    sales = notes[notes["column"] == "sales"].iloc[0]
    assert sales["unit"] == "2017 PPP $" and sales["meaning"] == LONG.removesuffix(
        " Unit: 2017 PPP $."
    )
    items = dict(zip(notes["column"], notes["type"], strict=True))
    assert items["filter"] == WHERE and items["holds"] == "One row per firm and year."


def test_bad_exports_are_refused_in_one_line(warehouse, tmp_path, capsys):
    path, *_ = warehouse
    cases = [
        (["marts.enterprise_panl", str(tmp_path / "x.csv")],
         "no table 'marts.enterprise_panl' in the warehouse; nearest: marts.enterprise_panel"),
        (["marts.enterprise_panel", str(tmp_path / "x.sav")],
         "x.sav: unknown format '.sav'; the extension picks it: .parquet, .csv, .sdmx.csv, .dta, .xlsx"),
        (["marts.enterprise_panel", str(tmp_path / "x.csv"), "--where", "1=1; select 2"],
         "--where must be one SQL condition"),
        (["marts.enterprise_panel", str(tmp_path / "x.csv"), "--where", "employes > 1"],
         'Referenced column "employes" not found'),
        (["marts.enterprise_panel", str(tmp_path / "x.csv"), "--where",
          "employees IN (SELECT 1 FROM read_csv('/etc/passwd'))"],
         "file system operations are disabled"),
    ]  # fmt: skip
    for args, message in cases:
        assert main(["export", *args, "--warehouse", str(path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("pedw: export refused or failed: ") and message in err, err
        assert err.count("\n") == 1
    assert not list(tmp_path.iterdir())  # nothing left behind, not even a partial file


@pytest.fixture(scope="module")
def panels(tmp_path_factory):
    """A warehouse with a sector panel of the published shape and texts (warehouse_docs)."""
    from pedw.warehouse_docs import warehouse_docs

    path = tmp_path_factory.mktemp("sdmx") / "pedw.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        """CREATE TABLE marts.sector_panel AS SELECT ['KEN', 'GHA'][range % 2 + 1] AS ref_area,
             ['C', 'D+E', 'G'][range % 3 + 1] AS sector, 'name' AS sector_name,
             'industry' AS broad_sector, (2000 + range // 6)::INTEGER AS year,
             (1000 + range)::DOUBLE AS employment,
             CASE WHEN range % 4 = 0 THEN NULL ELSE range * 10.0 END AS value_added,
             ['2017 PPP $', 'constant 2015 local currency'][range % 2 + 1] AS value_added_unit,
             range / 3 AS labour_productivity, NULL::DOUBLE AS log_labour_productivity,
             2.5 AS mean_earnings, NULL::DOUBLE AS log_mean_earnings,
             0.1 AS fatal_injury_rate, 0.3 AS employment_share
           FROM range(60)"""
    )
    for column in warehouse_docs()["marts.sector_panel"].columns:
        con.execute(f"COMMENT ON COLUMN marts.sector_panel.{column.name} IS $${column.comment}$$")
    con.close()
    return path


def test_sdmx_csv_of_the_sector_panel_reads_back_in_sdmx1(panels, tmp_path):
    import sdmx

    out = tmp_path / "sector.sdmx.csv"
    assert main(["export", "marts.sector_panel", str(out), "--warehouse", str(panels)]) == 0
    structure = sdmx.read_sdmx(tmp_path / "sector.sdmx.structure.xml")
    flow = structure.dataflow["DF_SECTOR_PANEL"]
    assert [d.id for d in flow.structure.dimensions] == [
        "REF_AREA", "FREQ", "MEASURE", "ECO", "TIME_PERIOD"]  # fmt: skip
    message = sdmx.read_sdmx(out, structure=flow)
    observations = message.data[0].obs
    # 60 rows x 8 numeric variables, less the 2 all-empty logs (120) and 15 missing value_added
    assert len(observations) == 60 * 8 - 120 - 15
    series = sdmx.to_pandas(message.data[0])
    assert series[("KEN", "A", "EMPLOYMENT", "ECO_ISIC4_C", "2000")] == 1000
    assert series[("GHA", "A", "VALUE_ADDED", "ECO_ISIC4_D_E", "2000")] == 10.0
    units = {
        (o.key["REF_AREA"].value, o.key["MEASURE"].value): o.attached_attribute[
            "UNIT_MEASURE"
        ].value
        for o in observations
    }
    assert units[("KEN", "EMPLOYMENT")] == "persons"
    assert units[("GHA", "VALUE_ADDED")] == "constant 2015 local currency"
    assert units[("KEN", "LABOUR_PRODUCTIVITY")] == "2017 PPP $ per person"
    header, first = list(csv.reader(out.read_text().splitlines()[:2]))
    assert header == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "REF_AREA", "FREQ", "MEASURE",
                      "ECO", "TIME_PERIOD", "OBS_VALUE", "UNIT_MEASURE"]  # fmt: skip
    assert first[:3] == ["dataflow", "PEDW:DF_SECTOR_PANEL(1.0)", "I"]


def test_sdmx_csv_is_refused_for_other_tables(warehouse, tmp_path, capsys):
    path, *_ = warehouse
    out = tmp_path / "firms.sdmx.csv"
    assert main(["export", "marts.enterprise_panel", str(out), "--warehouse", str(path)]) == 1
    err = capsys.readouterr().err
    assert "SDMX-CSV is written for the national and sector panels" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_the_published_panels_export_and_read_back(pipeline, tmp_path):
    """The demo run's warehouse and public release: SDMX-CSV of both panels read by sdmx1 with
    one observation per non-empty numeric cell, and Stata labels equal to the comments."""
    import sdmx

    from pedw.warehouse import connect_read_only

    settings, _ = pipeline
    public = settings.public_dir / "public.duckdb"
    for database, table, flow_id in [
        (settings.warehouse_path, "marts.national_panel", "DF_NATIONAL_PANEL"),
        (settings.warehouse_path, "marts.sector_panel", "DF_SECTOR_PANEL"),
        (public, "national.panel", "DF_NATIONAL_PANEL"),
    ]:
        out = tmp_path / f"{table}.sdmx.csv"
        assert main(["export", table, str(out), "--warehouse", str(database)]) == 0
        structure = sdmx.read_sdmx(out.with_name(f"{table}.sdmx.structure.xml"))
        message = sdmx.read_sdmx(out, structure=structure.dataflow[flow_id])
        con = connect_read_only(database)
        schema, name = table.split(".")
        numeric = [
            c for c, kind in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND "
                "table_name = ? AND column_name NOT IN ('year') AND (data_type LIKE 'DECIMAL%' "
                "OR data_type IN ('DOUBLE', 'FLOAT', 'INTEGER', 'BIGINT', 'SMALLINT', 'TINYINT', "
                "'HUGEINT'))", [schema, name]).fetchall()
        ]  # fmt: skip
        cells = con.execute(
            f"SELECT {' + '.join(f'count({c})' for c in numeric)} FROM {table}"
        ).fetchall()[0][0]
        con.close()
        assert len(message.data[0].obs) == cells > 100, table
    out = tmp_path / "national.dta"
    assert main(["export", "marts.national_panel", str(out),
                 "--warehouse", str(settings.warehouse_path)]) == 0  # fmt: skip
    con = connect_read_only(settings.warehouse_path)
    comments = dict(con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'marts' "
        "AND table_name = 'national_panel'").fetchall())  # fmt: skip
    rows = con.execute("SELECT count(*) FROM marts.national_panel").fetchall()[0][0]
    con.close()
    with pd.io.stata.StataReader(out) as reader:
        frame = reader.read()
        labels = reader.variable_labels()
    assert len(frame) == rows and list(frame.columns) == list(comments)
    for column, text in comments.items():
        expected = text if len(text) <= STATA_LABEL_CHARS else text[:77].rstrip() + "..."
        assert labels[column] == expected, column


def test_stata_value_labels_for_sex_codes(tmp_path):
    path = tmp_path / "pedw.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.by_sex AS SELECT ['SEX_T', 'SEX_M', 'SEX_F'][range % 3 + 1] AS sex, "
        "range AS n FROM range(6)"
    )
    con.close()
    out = tmp_path / "by_sex.dta"
    assert main(["export", "marts.by_sex", str(out), "--warehouse", str(path)]) == 0
    with pd.io.stata.StataReader(out) as reader:
        frame = reader.read()
        labels = reader.value_labels()
    assert list(frame["sex"].astype(str)) == ["SEX_T: Total", "SEX_M: Male", "SEX_F: Female"] * 2
    assert sorted(labels["sex"].values()) == [
        "SEX_F: Female", "SEX_M: Male", "SEX_O: Other", "SEX_T: Total"]  # fmt: skip
