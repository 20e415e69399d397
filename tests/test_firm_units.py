"""A firm file with only what it has: a one-year cross-section with firm id, workers, value
added, capital and wage per worker, mapped with `columns:` and `constants:`, its wage bill
derived (`derive:`) and its currency, price year and scale declared (`units:`)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pedw.catalog import CatalogError, load_catalog
from pedw.quality.contracts import load_contract
from pedw.quality.row_rules import check_rows, quarantine_query, staged_query
from pedw.sources.enterprise_csv import iter_enterprise_csv
from pedw.sources.errors import SourceFileError
from pedw.store import offline_connection

FIRMS = """idstd,Workers,va,k,wage,notes
KE-001,12,1500.5,800,210.5,
KE-002,250,"1,250,000",90000,"1 305,25",
KE-003,3,40,n/a,n/a,
KE-004,7,95,12,abc,
KE-005,40,-20,300,150,closed in 2020
"""

ENTRY = """sources:
  - name: kenya_firms_2019
    level: enterprise
    format: enterprise_csv
    path: firms.csv
    columns: {firm_id: idstd, employees: workers, value_added: va, capital: k}
    constants: {country: KEN, year: 2019}
    derive: {wage_bill: wage * workers}
    units: {currency: KES, price_year: 2019, scale: 1000}
"""


def catalog(tmp_path, entry: str = ENTRY, firms: str = FIRMS):
    (tmp_path / "firms.csv").write_text(firms)
    (tmp_path / "c.yml").write_text(entry)
    return load_catalog(tmp_path / "c.yml")


def stage(source, path):
    table = pa.concat_tables(iter_enterprise_csv(source, path))
    con = offline_connection()
    con.register("raw_rows", table)
    contract = load_contract("enterprise_firms")
    checked = check_rows(con, contract, "raw_rows", "checked")
    staged = con.sql(staged_query(contract, checked)).df().set_index("firm_id")
    return staged, con.sql(quarantine_query(contract, checked, "run")).df(), len(table)


def test_cross_section_with_what_it_has_loads_derived_scaled_and_with_its_units(tmp_path):
    source = catalog(tmp_path).sources[0]
    staged, quarantined, read = stage(source, tmp_path / "firms.csv")
    # the columns read into loaded ones are not reported as ignored; the one that is, is
    extra = next(iter_enterprise_csv(source, tmp_path / "firms.csv")).schema.metadata
    assert extra == {b"pedw_extra_columns": b"notes"}
    assert read == 5 and len(staged) + len(set(quarantined.source_line)) == read
    assert sorted(staged.index) == ["KE-001", "KE-002", "KE-003", "KE-005"]
    first = staged.loc["KE-001"]
    # wage per worker x workers, in thousands of KES: scaled to KES
    assert first.wage_bill == pytest.approx(210.5 * 12 * 1000)
    assert (first.value_added, first.capital) == (1_500_500.0, 800_000.0)
    assert (first.country, first.year, first.employees) == ("KEN", 2019, 12)
    assert (first.currency, first.price_year) == ("KES", 2019)
    # what the file does not have stays empty, not zero
    assert first[["sales", "sector", "training"]].isna().all()
    # published number formats are read as the contracts read them
    assert staged.loc["KE-002"].value_added == 1_250_000_000.0
    assert staged.loc["KE-002"].wage_bill == pytest.approx(1305.25 * 250 * 1000)
    # a missing wage is a missing wage bill, and a missing capital is missing
    assert staged.loc["KE-003"][["wage_bill", "capital"]].isna().all()
    assert staged.loc["KE-005"].value_added == -20_000.0  # may be negative
    # a wage that is not a number: the derived cell says why and the contract quarantines it
    bad = quarantined[quarantined.source_line == 5]
    assert bad[["column_name", "rule"]].values.tolist() == [["wage_bill", "type"]]
    assert "not derived from wage * workers: wage abc is not a number" in bad.message.iloc[0]


def test_a_formula_naming_a_column_the_file_lacks_refuses_the_file_by_name(tmp_path):
    source = catalog(tmp_path, ENTRY.replace("wage * workers", "pay * workers")).sources[0]
    with pytest.raises(SourceFileError, match="names column 'pay', which is not in the header"):
        stage(source, tmp_path / "firms.csv")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("wage * workers", "wage ** workers"), r"'wage \*\* workers' is not allowed"),
        (("wage * workers", "__import__('os')"), "is not allowed"),
        (("{wage_bill:", "{wages:"), "'wages' is not a column of the enterprise_firms contract"),
        (("currency: KES", "currency: Shilling"), "'Shilling' is not an ISO 4217 code"),
        (("scale: 1000", "scale: -1"), "scale must be a positive number"),
        (("price_year: 2019,", "price_year: 2019, base: x,"), r"units: unknown \['base'\]"),
    ],
)
def test_catalog_refuses_a_bad_formula_or_unit_with_the_reason(tmp_path, change, message):
    with pytest.raises(CatalogError, match=message):
        catalog(tmp_path, ENTRY.replace(*change))
