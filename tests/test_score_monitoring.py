"""SCORE monitoring workbooks: the layout, its quirks, the contract, and the KPI changes."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from pedw.catalog import Source
from pedw.raw import write_raw
from pedw.sources.errors import SourceFileError
from pedw.sources.score_monitoring import KPIS, load_score_monitoring
from pedw.staging.contracted import stage_through_contract
from pedw.store import Store
from pedw.warehouse import connect_read_only

Z_TESTS = 3.2  # about 35 module x KPI truths checked at once (Bonferroni, as docs/demo_data.md)


def _source(path) -> Source:
    return Source("score", "enterprise", "score_monitoring", str(path))


def test_every_kpi_pair_becomes_a_row_with_its_spreadsheet_row(demo_dir):
    path = demo_dir / "score" / "score_monitoring.xlsx"
    table = load_score_monitoring(_source(path), path).to_pandas()
    sheet = pd.read_excel(path, sheet_name="KPIs", header=None)
    data_rows = sheet.iloc[4:].dropna(how="all").shape[0] - 1  # minus the notes line
    assert len(table) == data_rows * len(KPIS)
    assert table.source_line.min() == 5 and table.source_line.max() == 4 + data_rows
    assert set(table.kpi) == set(KPIS) and set(table.module) <= {"M1", "M2", "M3", "M4", "M5"}
    assert (table.follow_up == "n/a").any()  # kept as typed; the contract reads it as missing
    assert table.unit[table.kpi == "defect_rate"].eq("% of output").all()
    assert table.country.notna().all()  # joined from the Enterprises sheet


def test_kpi_changes_recover_the_module_effects(pipeline, truth):
    settings, _ = pipeline
    con = connect_read_only(settings.warehouse_path)
    changes = con.execute(
        "SELECT module, kpi, enterprises, mean_log_change, std_error "
        "FROM marts.score_kpi_change WHERE country = 'ALL'"
    ).df()
    con.close()
    assert len(changes) == 5 * len(KPIS)
    for row in changes.itertuples():
        expected = truth["score_kpi_effects"][row.module].get(row.kpi, 0.0)
        assert abs(row.mean_log_change - expected) <= Z_TESTS * row.std_error, row
    defects = changes[(changes.module == "M2") & (changes.kpi == "defect_rate")].iloc[0]
    assert defects.enterprises > 50 and defects.std_error < 0.03


@pytest.fixture
def broken_workbook(demo_dir, tmp_path):
    """The demo workbook with three slips: an enterprise missing from the Enterprises
    sheet, a module that does not exist, and a negative defect rate."""
    book = load_workbook(demo_dir / "score" / "score_monitoring.xlsx")
    kpis = book["KPIs"]
    kpis["A5"] = "XYZ-404"
    kpis["B6"] = "Module 9: Marketing"
    kpis["G7"] = -3  # defect rate baseline
    path = tmp_path / "broken.xlsx"
    book.save(path)
    return path


def test_slips_in_a_workbook_are_quarantined_with_their_reason(broken_workbook, tmp_path):
    catalog = tmp_path / "catalog.yml"
    catalog.write_text(
        f"name: t\nsources:\n  - name: score\n    level: enterprise\n    format: score_monitoring\n"
        f"    path: {broken_workbook}\n    contract: score_monitoring\n"
    )
    from pedw.catalog import load_catalog

    store = Store(tmp_path / "store")
    write_raw(store, load_catalog(catalog), "enterprise", ("score_monitoring",), "score", "t")
    result = stage_through_contract(store, "score_monitoring", "score", "score", "t")
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    con = store.connect()
    reasons = con.execute(
        "SELECT source_line, column_name, rule, value FROM quality.quarantine "
        "ORDER BY source_line, column_name"
    ).fetchall()
    con.close()
    by_line = {}
    for line, column, rule, value in reasons:
        by_line.setdefault(line, set()).add((column, rule, value))
    assert ("country", "required", None) in by_line[5]  # XYZ-404 is in no Enterprises row
    assert ("module", "allowed_values", "Module 9: Marketing") in by_line[6]
    assert ("baseline", "range", "-3") in by_line[7]
    assert result.rows_quarantined == 3 * len(KPIS) - len(KPIS) + 1  # lines 5, 6 whole; 7 once


def test_a_workbook_without_the_kpi_sheet_is_refused(tmp_path):
    path = tmp_path / "no_kpis.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"Enterprise ID": ["A"]}).to_excel(book, sheet_name="Enterprises", index=False)
    with pytest.raises(SourceFileError, match="KPIs"):
        load_score_monitoring(_source(path), path)


def test_demo_workbook_bytes_are_deterministic(tmp_path):
    from pedw.demo.score import draw_score_monitoring, write_score_workbook

    firms = pd.DataFrame(
        {
            "firm_id": ["A", "B"],
            "country": ["KEN", "KEN"],
            "sector": ["C", "C"],
            "employees": [12, 40],
            "year": [2019, 2019],
            "score_participant": [1, 1],
            "score_start_year": [2019, 2019],
        }
    )
    written = []
    for name in ("one.xlsx", "two.xlsx"):
        time.sleep(1.1)  # openpyxl stamps the save time, to the second
        rng = np.random.default_rng(1)
        enterprises, kpis = draw_score_monitoring(rng, firms)
        write_score_workbook(enterprises, kpis, tmp_path / name, rng)
        written.append((tmp_path / name).read_bytes())
    assert written[0] == written[1]
