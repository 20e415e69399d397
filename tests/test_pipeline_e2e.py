"""One full Dagster materialization of the demo into a temporary warehouse: keys, counts, values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pedw.warehouse import connect_read_only

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(pipeline):
    settings, _ = pipeline
    con = connect_read_only(settings.warehouse_path)
    yield con
    con.close()


def test_every_phase_materialized_and_the_warehouse_was_published(pipeline):
    settings, summary = pipeline
    assert summary.success
    assert len(summary.partitions) == 40
    assert settings.warehouse_path.is_file()
    assert not list(settings.warehouse_path.parent.glob("*.building"))


def test_national_panel_is_one_row_per_country_year(warehouse):
    rows, keys, countries = warehouse.execute(
        "SELECT count(*), count(DISTINCT (ref_area, year)), count(DISTINCT ref_area) FROM marts.national_panel"
    ).fetchone()
    assert rows == keys == 40 * 24
    assert countries == 40
    aggregates = warehouse.execute(
        "SELECT count(*) FROM marts.national_panel WHERE ref_area LIKE 'X%'"
    ).fetchone()[0]
    assert aggregates == 0  # the World aggregate X01 is in the files but never a country


def test_national_values_match_the_published_files(warehouse, demo_dir):
    published = pd.read_csv(demo_dir / "ilostat" / "national" / "EMP_2EMP_SEX_AGE_NB_A.csv.gz")
    ken = published.query("ref_area == 'KEN' and time == 2015 and sex == 'SEX_T'").obs_value.item()
    employment = warehouse.execute(
        "SELECT employment FROM marts.national_panel WHERE ref_area = 'KEN' AND year = 2015"
    ).fetchone()[0]
    assert employment == pytest.approx(ken * 1000)  # thousands -> persons
    pwt = pd.read_csv(demo_dir / "pwt" / "pwt_demo.csv", encoding="utf-8-sig")
    row = pwt.query("countrycode == 'PER' and year == 2010").iloc[0]
    capital, openness, region = warehouse.execute(
        "SELECT capital_per_worker, trade_openness, region FROM marts.national_panel "
        "WHERE ref_area = 'PER' AND year = 2010"
    ).fetchone()
    assert capital == pytest.approx(row.rnna / row.emp)
    assert openness == pytest.approx((row.csh_x - row.csh_m) * 100)
    assert region == "Latin America & Caribbean"


def test_sector_panel_covers_every_isic_section_and_shares_add_to_one(warehouse):
    rows, sections = warehouse.execute(
        "SELECT count(*), count(DISTINCT sector) FROM marts.sector_panel"
    ).fetchone()
    assert rows == 40 * 21 * 24
    assert sections == 21
    worst = warehouse.execute("""
        SELECT max(abs(total - 1)) FROM (
            SELECT sum(employment_share) AS total FROM marts.sector_panel GROUP BY ref_area, year)
    """).fetchone()[0]
    assert worst < 1e-9


def test_enterprise_panel_keeps_every_firm_year_once(warehouse, truth):
    rows, keys, firms = warehouse.execute(
        "SELECT count(*), count(DISTINCT (firm_id, year)), count(DISTINCT firm_id) FROM marts.enterprise_panel"
    ).fetchone()
    assert rows == keys == truth["realised"]["firm_years"]
    assert firms == truth["realised"]["n_firms"]
    classes = dict(warehouse.execute(
        "SELECT size_class, count(DISTINCT firm_id) FROM marts.enterprise_panel GROUP BY ALL"
    ).fetchall())  # fmt: skip
    assert set(classes) == {"micro", "small", "medium", "large"}
    missing_context = warehouse.execute(
        "SELECT count(*) FROM marts.enterprise_panel WHERE national_human_capital IS NULL "
        "OR sector_log_labour_productivity IS NULL"
    ).fetchone()[0]
    assert missing_context == 0


def test_enterprise_productivity_is_value_added_per_worker(warehouse, demo_dir):
    firms = pd.read_csv(demo_dir / "enterprise" / "firms.csv").iloc[[0, 1234, 5000]]
    for firm in firms.itertuples():
        lp = warehouse.execute(
            "SELECT log_labour_productivity FROM marts.enterprise_panel WHERE firm_id = ? AND year = ?",
            [firm.firm_id, firm.year],
        ).fetchone()[0]
        assert lp == pytest.approx(math.log(firm.value_added / firm.employees))


def test_row_accounting_is_exact_for_every_load(warehouse):
    broken = warehouse.execute(
        "SELECT count(*) FROM quality.load_log WHERE rows_read <> rows_loaded + rows_quarantined"
    ).fetchone()[0]
    assert broken == 0
    raw, staged = warehouse.execute(
        "SELECT (SELECT count(*) FROM raw.enterprise_firms), (SELECT sum(rows_loaded) FROM quality.load_log "
        "WHERE staged_table = 'enterprise_firms')"
    ).fetchone()
    assert raw == staged


def test_raw_rows_keep_file_and_line(warehouse):
    file, line, value = warehouse.execute(
        "SELECT source_file, source_line, firm_id FROM raw.enterprise_firms ORDER BY source_line LIMIT 1"
    ).fetchone()
    assert file.endswith("enterprise/firms.csv")
    assert line == 2
    first = pd.read_csv(file, nrows=1)
    assert first.firm_id[0] == value


def test_publication_records_its_run(warehouse, pipeline):
    _, summary = pipeline
    run_id = warehouse.execute("SELECT run_id FROM meta.publication").fetchone()[0]
    assert run_id == summary.run_ids[-1]
