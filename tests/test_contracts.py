"""Every contract follows the contract schema; the data dictionary generated from them is current."""

from __future__ import annotations

import pytest

from pedw.catalog import load_catalog
from pedw.quality.contracts import CONTRACTS_DIR, ContractError, all_contracts, parse_contract
from pedw.quality.dictionary import DICTIONARY_PATH, render_dictionary
from pedw.settings import PROJECT_ROOT


def test_every_contract_parses_and_documents_every_column():
    contracts = all_contracts()
    assert {c.name for c in contracts} == {p.stem for p in CONTRACTS_DIR.glob("*.yml")}
    for contract in contracts:
        assert contract.key and all(column.description for column in contract.columns), (
            contract.name
        )
        assert {rule.severity for rule in contract.table_rules} <= {"block", "warn"}


@pytest.mark.parametrize("catalog", sorted((PROJECT_ROOT / "catalogs").glob("*.yml")))
def test_every_catalog_source_names_an_existing_contract(catalog):
    names = {c.name for c in all_contracts()}
    for source in load_catalog(catalog).sources:
        assert source.contract in names, f"{catalog.name}: {source.name} -> {source.contract}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\ntitle: t\ndescription: d\nlevel: national\ngrain: g\nkey: [a]\ncolumns:\n"
         "  - {name: a, type: TEXT, description: d}", "type 'TEXT'"),
        ("name: x\ntitle: t\ndescription: d\nlevel: national\ngrain: g\nkey: [b]\ncolumns:\n"
         "  - {name: a, type: VARCHAR, description: d}", "key column 'b'"),
        ("name: x\ntitle: t\ndescription: d\nlevel: national\ngrain: g\nkey: [a]\ncolumns:\n"
         "  - {name: a, type: VARCHAR, description: d, codes: planets}", "unknown code list"),
        ("name: x\ntitle: t\ndescription: d\nlevel: national\ngrain: g\nkey: [a]\ncolumns:\n"
         "  - {name: a, type: VARCHAR, description: d}\ntable_rules:\n  - {rule: row_count, severity: maybe}",
         "severity must be block or warn"),
    ],
)  # fmt: skip
def test_broken_contracts_are_refused_with_the_field_named(tmp_path, text, message):
    path = tmp_path / "broken.yml"
    path.write_text(text)
    with pytest.raises(ContractError, match=message):
        parse_contract(path)


def test_data_dictionary_is_current():
    assert DICTIONARY_PATH.read_text(encoding="utf-8") == render_dictionary(), (
        "docs/data_dictionary.md is out of date: run `pedw dictionary`"
    )
