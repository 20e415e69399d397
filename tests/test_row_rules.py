"""Row-level contract rules: typing, missing markers, ranges, codes, duplicates, accounting."""

from __future__ import annotations

import pandas as pd
import pytest

from pedw.quality.contracts import load_contract
from pedw.quality.row_rules import check_rows, quarantine_query, staged_query
from pedw.store import offline_connection

HEADER = ["ref_area", "indicator", "source", "sex", "classif1", "classif2", "time", "obs_value",
          "obs_status", "note_classif", "note_indicator", "note_source"]  # fmt: skip


def check(rows: list[list[str]]):
    frame = pd.DataFrame(rows, columns=HEADER)
    frame["source_name"] = "test"
    frame["source_file"] = "f.csv"
    frame["source_line"] = range(2, len(frame) + 2)
    frame["raw_record"] = None
    con = offline_connection()
    con.register("raw_rows", frame)
    contract = load_contract("ilostat_observations")
    checked = check_rows(con, contract, "raw_rows", "checked")
    staged = con.sql(staged_query(contract, checked)).df()
    quarantined = con.sql(quarantine_query(contract, checked, "run")).df()
    return staged, quarantined


def row(
    area="KEN", time="2020", value="12.5", sex="SEX_T", status="", indicator="SDG_0831_SEX_ECO_RT"
):
    return [area, indicator, "BA:1", sex, "ECO_AGNAG_TOTAL", "", time, value, status,
            "", "", ""]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12.5", 12.5), ("1,234", 1234.0), ("1,234,567.5", 1234567.5), ("12,5", 12.5),
     ("1 234", 1234.0), (" 7 ", 7.0)],
)  # fmt: skip
def test_numbers_with_separators_are_read(value, expected):
    staged, quarantined = check([row(value=value, indicator="EMP_2EMP_SEX_AGE_NB")])
    assert quarantined.empty
    assert staged.obs_value.tolist() == [expected]


@pytest.mark.parametrize("marker", ["..", "-", "n/a", "x", "", "…"])
def test_missing_markers_are_never_zero(marker):
    staged, quarantined = check([row(value=marker)])
    assert staged.empty
    assert quarantined.rule.tolist() == ["required"]
    assert quarantined.source_line.tolist() == [2]
    assert "obs_value is required" in quarantined.message[0]


def test_each_broken_rule_is_one_quarantine_row_with_file_line_column_and_message():
    staged, quarantined = check([
        row(),                              # line 2: good
        row(area="ZZZ"),                    # line 3: unknown country
        row(area="X01", time="2021"),       # line 4: ILO aggregate, allowed
        row(time="1850"),                   # line 5: year out of range
        row(value="twelve"),                # line 6: not a number
        row(sex="SEX_Q", time="2019"),      # line 7: unknown sex code
        row(area="XQQ", time="2018"),       # line 8: shaped like an ILO aggregate, not one
    ])  # fmt: skip
    assert sorted(staged.source_line) == [2, 4]
    assert by_line_rule(quarantined, 8) == ("code_list", "ref_area")
    by_line = quarantined.set_index("source_line")
    assert by_line.loc[3, "rule"] == "code_list" and by_line.loc[3, "column_name"] == "ref_area"
    assert "ZZZ" in by_line.loc[3, "message"]
    assert (
        by_line.loc[5, "rule"] == "range" and "below the minimum 1900" in by_line.loc[5, "message"]
    )
    assert by_line.loc[6, "rule"] == "type" and by_line.loc[6, "value"] == "twelve"
    assert by_line.loc[7, "column_name"] == "sex"
    assert (quarantined.source_file == "f.csv").all()


def by_line_rule(quarantined, line: int) -> tuple[str, str]:
    found = quarantined[quarantined["source_line"] == line]
    return found["rule"].iloc[0], found["column_name"].iloc[0]


def test_duplicates_identical_keep_first_conflicting_keep_none():
    staged, quarantined = check([
        row(time="2020", value="1.0"),
        row(time="2020", value="1.0"),      # identical copy
        row(time="2021", value="1.0"),
        row(time="2021", value="2.0"),      # conflict
    ])  # fmt: skip
    assert staged.source_line.tolist() == [2]
    rules = dict(zip(quarantined.source_line, quarantined.rule, strict=True))
    assert rules == {
        3: "duplicate_key_identical",
        4: "duplicate_key_conflict",
        5: "duplicate_key_conflict",
    }
    assert len(staged) + quarantined.source_line.nunique() == 4


@pytest.mark.parametrize(
    ("indicator", "quarantined_lines"),
    [("EMP_2EMP_SEX_AGE_NB", [5]), ("SDG_A821_NOC_RT", [])],  # levels only: rates cross zero
)
def test_units_change_within_a_level_series_is_quarantined(indicator, quarantined_lines):
    values = ["12.1", "12.4", "12.9", "13100", "13.3", "13.8"]
    rows = [
        row(time=str(y), value=v, indicator=indicator)
        for y, v in zip(range(2010, 2016), values, strict=True)
    ]
    staged, quarantined = check(rows)
    assert len(staged) == 6 - len(quarantined_lines)
    assert quarantined.source_line.tolist() == quarantined_lines
    if quarantined_lines:
        assert quarantined.rule.tolist() == ["unit_jump"]
        assert "units changed" in quarantined.message[0]


@pytest.mark.parametrize(
    ("indicator", "quarantined_lines"),
    [("ETD_VA_Q15", [2]), ("ETD_VA_CUR", [])],  # current prices: inflation, not units
)
def test_a_current_price_series_in_high_inflation_is_not_called_a_units_change(
    indicator, quarantined_lines
):
    """Value added in current local currency under 40% inflation a year (Turkey in the 1990s
    ran at 60-100%) is more than 100 times below its series median in the early years.
    Inflation, not a units change: only the constant-price series is checked
    (data_contracts/ilostat_observations.yml)."""
    values = [0.2 * 1.4**k for k in range(29)]
    rows = [
        row(time=str(1990 + k), value=f"{v:.6g}", indicator=indicator) for k, v in enumerate(values)
    ]
    if indicator == "ETD_VA_Q15":  # a real level: one year published in other units
        rows[0] = row(time="1990", value=f"{values[14] / 1000:.6g}", indicator=indicator)
        rows[1:] = [
            row(time=str(1990 + k), value=f"{values[14]:.6g}", indicator=indicator)
            for k in range(1, 29)
        ]
    staged, quarantined = check(rows)
    assert quarantined.source_line.tolist() == quarantined_lines
    assert len(staged) == 29 - len(quarantined_lines)
    assert values[len(values) // 2] / values[0] > 100  # the rule's ratio, reached by prices


def test_zero_employment_in_a_display_rounded_pwt_release_is_quarantined_not_infinite(tmp_path):
    """A PWT release rounded for display shows a small economy's employment as 0.00: that cell
    is quarantined with the reason, never an infinite output per worker; the economy-year's
    other variables (output, human capital) load, and rows read = loaded + quarantined."""
    import dagster as dg

    from pedw.settings import resolve_settings
    from pedw.staging.series import pwt_series_sql
    from pedw.store import Store
    from pipelines.run import run_catalog

    (tmp_path / "pwt1001.csv").write_text(
        "countrycode,country,year,rgdpo,emp,hc\n"
        "TUV,Tuvalu,2019,52.1,0.00,2.1\n"
        "KEN,Kenya,2019,230000.5,21.3,2.2\n"
    )
    (tmp_path / "c.yml").write_text(
        "sources:\n  - {name: pwt, level: national, format: pwt, path: pwt1001.csv}\n"
    )
    settings = resolve_settings(tmp_path / "c.yml", tmp_path / "wh" / "pedw.duckdb")
    with dg.DagsterInstance.ephemeral() as instance:
        summary = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert summary.published, summary.failures + summary.blocked
    con = Store(settings.store_dir).connect()
    quarantined = con.execute(
        "SELECT source_line, column_name, rule, message FROM quality.quarantine"
    ).fetchall()
    assert quarantined == [
        (2, "emp", "range", "emp value 0.0 is not above 0 million persons (this cell only: the "
         "row's other values are loaded, this one is left empty)")
    ]  # fmt: skip
    series = con.execute(
        f"SELECT ref_area, value, unit FROM ({pwt_series_sql('staging.pwt_drivers')}) "
        "WHERE variable = 'pwt_output_per_worker'"
    ).fetchall()
    assert series == [("KEN", pytest.approx(230000.5 / 21.3), "2017 US$ per person engaged")]
    tuvalu = con.execute(
        "SELECT rgdpo, emp, hc, source_line FROM staging.pwt_drivers WHERE countrycode = 'TUV'"
    ).fetchall()
    assert tuvalu == [(52.1, None, 2.1, 2)]
    assert con.execute(
        "SELECT rows_read, rows_loaded, rows_quarantined FROM quality.load_log"
    ).fetchall() == [(2, 2, 0)]


def test_values_outside_the_bounds_of_their_unit_are_quarantined():
    """A negative count, or a share above 100, is quarantined; a negative growth rate, a rate
    per 100,000 above 100 and a level above 100 are values like any other."""
    staged, quarantined = check([
        row(indicator="EMP_2EMP_SEX_AGE_NB", value="-5"),                       # 2: count < 0
        row(indicator="SDG_0831_SEX_ECO_RT", value="120.5", time="2019"),     # 3: share > 100
        row(indicator="SDG_0852_SEX_AGE_RT", value="-0.1", time="2018"),      # 4: share < 0
        row(indicator="SDG_A821_NOC_RT", value="-7.3", time="2017"),          # growth rate
        row(indicator="INJ_FATL_ECO_RT", value="250.0", time="2016"),         # per 100,000
        row(indicator="GDP_211P_NOC_NB", value="49165", time="2015"),         # a level
        row(indicator="SDG_0831_SEX_ECO_RT", value="100", time="2014"),       # the bound itself
    ])  # fmt: skip
    assert quarantined.source_line.tolist() == [2, 3, 4]
    assert set(quarantined.rule) == {"unit_bounds"}
    assert quarantined.message[1] == (
        "obs_value value 120.5 is outside the bounds of its unit (must be between 0 and 100 for "
        "SDG_0831_SEX_ECO_RT): a rate that is a share (of employment, the labour force, youth, "
        "GDP) lies in 0-100; growth rates and rates per 100,000 are not shares"
    )
    assert "must be at least 0 for EMP_2EMP_SEX_AGE_NB" in quarantined.message[0]
    assert sorted(staged.obs_value.tolist()) == [-7.3, 100.0, 250.0, 49165.0]


def test_wdi_values_outside_the_bounds_their_code_tells_are_quarantined():
    """WDI codes tell the unit by their last parts: a negative GDP per capita or private
    credit, a share of the labour force above 100 are quarantined; growth, a balance or trade
    in % of GDP, and a female-to-male ratio above 100 are values."""
    staged, quarantined = check([
        row(indicator="NY.GDP.PCAP.PP.KD", value="-1200"),                # 2: level < 0
        row(indicator="SL.UEM.TOTL.ZS", value="104", time="2019"),        # 3: share > 100
        row(indicator="FS.AST.PRVT.GD.ZS", value="-3", time="2018"),      # 4: stock < 0
        row(indicator="NY.GDP.PCAP.KD.ZG", value="-8.1", time="2017"),    # growth
        row(indicator="BN.CAB.XOKA.GD.ZS", value="-12.4", time="2016"),   # a balance
        row(indicator="NE.TRD.GNFS.ZS", value="321.7", time="2015"),      # trade, % of GDP
        row(indicator="SL.TLF.CACT.FM.ZS", value="104.2", time="2014"),   # a ratio
        row(indicator="FS.AST.PRVT.GD.ZS", value="251.9", time="2013"),   # above 100: fine
    ])  # fmt: skip
    assert quarantined.source_line.tolist() == [2, 3, 4]
    assert set(quarantined.rule) == {"unit_bounds"}
    assert "must be between 0 and 100 for SL.UEM.TOTL.ZS" in quarantined.message[1]
    assert sorted(staged.obs_value.tolist()) == [-12.4, -8.1, 104.2, 251.9, 321.7]
