"""Source catalogs: the checked-in ones load; broken ones are refused with the entry named."""

from __future__ import annotations

import pytest

from pedw.catalog import CatalogError, load_catalog
from pedw.settings import DEFAULT_CATALOG
from pedw.sources.registry import FORMATS


def test_default_catalog_declares_every_level_with_known_formats_and_contracts():
    catalog = load_catalog(DEFAULT_CATALOG)
    assert {s.level for s in catalog.sources} == {"national", "sector", "enterprise"}
    for source in catalog.sources:
        assert source.format in FORMATS, source.name
        assert (DEFAULT_CATALOG.parents[1] / "data_contracts" / f"{source.contract}.yml").is_file()


def test_relative_paths_resolve_against_the_catalog_folder(tmp_path):
    (tmp_path / "data").mkdir()
    for name in ("b.csv", "a.csv"):
        (tmp_path / "data" / name).write_text("x,y\n1,2\n")
    (tmp_path / "c.yml").write_text(
        "sources:\n  - {name: s, level: national, format: ilostat_csv, path: data/*.csv}\n"
    )
    source = load_catalog(tmp_path / "c.yml").sources[0]
    assert [p.name for p in source.files()] == ["a.csv", "b.csv"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: []", "non-empty 'sources'"),
        ("sources:\n  - {name: s, level: planet, format: pwt, path: x}", "level must be one of"),
        ("sources:\n  - {name: s, level: national, path: x}", "missing format"),
        ("sources:\n  - {name: s, level: national, format: pwt}", "needs a path or a url"),
        (
            "sources:\n  - {name: s, level: national, format: pwt, path: x}\n"
            "  - {name: s, level: national, format: pwt, path: y}",
            "duplicate source name",
        ),
        (
            "sources:\n  - {name: s, level: national, format: pwt, path: x, colour: red}",
            "unknown keys",
        ),
        ("sources: [unclosed", "not valid YAML"),
        (
            "sources:\n  - {name: s, level: national, format: ilostat_cvs, path: x}",
            "format 'ilostat_cvs' is not read at level 'national'; valid formats there: "
            "ggdc_10sd, ggdc_etd, ilostat_csv, ilostat_excel, ilostat_sdmx, pwt, wdi, "
            "wdi_country_metadata",
        ),
        (
            "sources:\n  - {name: s, level: national, format: pwt, path: x, options: {shet: A}}",
            r"unknown option\(s\) \['shet'\] for format 'pwt'; valid options: read, sheet, price_year, fetch",
        ),
        (
            "sources:\n  - {name: s, level: national, format: pwt, path: x,"
            " options: {read: {encodng: cp1252}}}",
            "options.read must be a mapping of skip_rows, delimiter, encoding",
        ),
        (
            "sources:\n  - {name: s, level: national, format: pwt, path: x,"
            " options: {read: {encoding: klingon}}}",
            "'klingon' is not an encoding Python knows",
        ),
        (
            "sources:\n  - {name: s, level: national, format: pwt, path: x,"
            " options: {fetch: {max_megabytes: 5}}}",
            "options.fetch must be a mapping of attempts, backoff_seconds",
        ),
        (
            "sources:\n  - {name: s, level: national, format: pwt, path: x,"
            " columns: {countrycode: iso}}",
            "columns: is read only for firm files",
        ),
        (
            "sources:\n  - {name: s, level: enterprise, format: enterprise_csv, path: x,"
            " columns: {firm: idstd}}",
            r"columns: \['firm'\] are not columns of the enterprise_firms contract; its "
            "columns: firm_id, country",
        ),
    ],
)
def test_broken_catalogs_are_refused_with_the_entry_named(tmp_path, text, message):
    path = tmp_path / "broken.yml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


def test_missing_catalog(tmp_path):
    with pytest.raises(CatalogError, match="file not found"):
        load_catalog(tmp_path / "none.yml")


def test_firm_files_named_otherwise_load_through_columns_and_constants(tmp_path):
    """A single-country, single-year firm file with survey variable names (a WBES-style CSV)."""
    from pedw.sources.registry import load_source

    (tmp_path / "ken2018.csv").write_text(
        "IDSTD,l1,d2,va\n1001,12,50000,21000\n1002,250,9000000,4100000\n"
    )
    (tmp_path / "c.yml").write_text(
        "sources:\n"
        "  - name: kenya_2018\n    level: enterprise\n    format: enterprise_csv\n"
        "    path: ken2018.csv\n"
        "    columns: {firm_id: idstd, employees: l1, sales: d2, value_added: va}\n"
        "    constants: {country: KEN, year: 2018}\n"
    )
    (source,) = load_catalog(tmp_path / "c.yml").sources
    (table,), issues = load_source(source)
    assert issues == []  # every published column is used: no "unexpected column" warning
    rows = table.to_pylist()
    assert [
        (r["firm_id"], r["country"], r["year"], r["employees"], r["value_added"]) for r in rows
    ] == [
        ("1001", "KEN", "2018", "12", "21000"),
        ("1002", "KEN", "2018", "250", "4100000"),
    ]
    assert [r["source_line"] for r in rows] == [2, 3]


def test_a_columns_mapping_to_a_column_the_file_lacks_refuses_the_file_by_name(tmp_path):
    from pedw.sources.registry import load_source

    (tmp_path / "f.csv").write_text("id,country,year\n1,KEN,2018\n")
    (tmp_path / "c.yml").write_text(
        "sources:\n  - {name: f, level: enterprise, format: enterprise_csv, path: f.csv,"
        " columns: {firm_id: idstd}}\n"
    )
    (source,) = load_catalog(tmp_path / "c.yml").sources
    tables, (issue,) = load_source(source)
    assert tables == [] and issue["kind"] == "refused"
    assert (
        "the catalog maps firm_id to column 'idstd', which is not in the header" in issue["message"]
    )
