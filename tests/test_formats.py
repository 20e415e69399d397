"""One registry: every catalog format is one entry of pedw/formats.py, and that entry, the
loaders, the datasets, the contracts, the warehouse docs and the generated docs agree."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import pytest

from pedw.code_versions import module_closure
from pedw.datasets import DATASETS, dataset_for
from pedw.formats import FORMATS, valid_options
from pedw.quality.contracts import all_contracts
from pedw.quality.dictionary import DICTIONARY_PATH, FORMATS_HEADING, render_dictionary
from pedw.settings import PROJECT_ROOT
from pedw.sources import registry
from pedw.warehouse_docs import DOCS_PATH, warehouse_docs


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_has_a_loader_that_imports_and_is_callable(name):
    entry = FORMATS[name]
    assert re.fullmatch(r"pedw\.sources\.\w+:\w+", entry.loader), entry.loader
    load = registry.loader(name)
    assert callable(load)
    assert list(inspect.signature(load).parameters) == ["source", "path"], entry.loader
    # A streaming format yields bounded blocks; the others return one table.
    assert inspect.isgeneratorfunction(load) == entry.streams, entry.loader
    assert registry.loader(name) is load  # imported once


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_feeds_exactly_datasets_whose_contract_exists(name):
    entry = FORMATS[name]
    contracts = {contract.name for contract in all_contracts()}
    fed = [d for d in DATASETS if name in d.formats]
    if entry.central:  # read by the centre into federated.* (pipelines/centre.py), no dataset
        assert not fed and entry.datasets == ()
        assert all(
            dataset_for(level, name) is None for level in ("national", "sector", "enterprise")
        )
        return
    assert fed and [d.name for d in fed] == list(entry.datasets), entry.datasets
    for dataset in fed:
        assert dataset.contract in contracts, dataset.contract
        assert (PROJECT_ROOT / "data_contracts" / f"{dataset.contract}.yml").is_file()
        assert dataset_for(dataset.level, name) is dataset  # the catalog routes it there
    levels = [d.level for d in fed]
    assert len(levels) == len(set(levels)), f"{name}: two datasets of one level"
    assert valid_options(name) == (*entry.options, "fetch")


def test_a_centre_catalog_holds_only_office_packages(tmp_path):
    """pedw_package entries are read by the centre, the other formats by an office: a
    catalog mixing them is refused in one line, as is a package entry without a path."""
    from pedw.catalog import CatalogError, load_catalog

    package = "  - {name: offices, level: enterprise, format: pedw_package, path: packages/*}\n"
    firms = "  - {name: firms, level: enterprise, format: enterprise_csv, path: firms.csv}\n"
    centre = tmp_path / "centre.yml"
    centre.write_text("sources:\n" + package, encoding="utf-8")
    assert load_catalog(centre).central
    mixed = tmp_path / "mixed.yml"
    mixed.write_text("sources:\n" + package + firms, encoding="utf-8")
    with pytest.raises(CatalogError, match="put them in two catalogs"):
        load_catalog(mixed)
    url = tmp_path / "url.yml"
    url.write_text("sources:\n  - {name: o, level: enterprise, format: pedw_package, "
                   "url: 'https://example.org/p'}\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(CatalogError, match="needs a path"):
        load_catalog(url)


def test_every_dataset_is_fed_by_a_format_and_no_format_is_declared_twice():
    assert all(d.formats for d in DATASETS)
    assert list(registry.FORMATS) and set(FORMATS) == registry.FORMATS
    source = (PROJECT_ROOT / "pedw" / "formats.py").read_text(encoding="utf-8")
    assert sorted(re.findall(r'Format\("(\w+)"', source)) == sorted(FORMATS)


def test_every_format_appears_in_the_generated_docs():
    text = DICTIONARY_PATH.read_text(encoding="utf-8")
    assert text == render_dictionary(), "docs/data_dictionary.md: run `pedw dictionary`"
    section = text.split(FORMATS_HEADING, 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)
    assert documented == list(FORMATS)
    for name, entry in FORMATS.items():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{name}` |"))
        assert entry.loader in row and all(f"`{o}`" in row for o in entry.options), row
    # The layouts described by hand in docs/sources.md are those of the same formats.
    sources = (PROJECT_ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    layouts = sources.split("| format | published layout |", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"^\| `(\w+)` \|", layouts, flags=re.MULTILINE) == list(FORMATS)


def test_every_dataset_raw_and_staged_table_is_in_the_warehouse_docs():
    docs = warehouse_docs()
    contracts = {contract.name: contract for contract in all_contracts()}
    written = DOCS_PATH.read_text(encoding="utf-8")
    for dataset in DATASETS:
        columns = contracts[dataset.contract].column_names
        for table, text in (
            (f"raw.{dataset.name}", dataset.raw_description),
            (f"staging.{dataset.staged}", dataset.staged_description),
        ):
            assert table in docs, table
            assert docs[table].description == " ".join(text.split())
            names = [c.name for c in docs[table].columns]
            assert names[: len(columns)] == list(columns), table
            assert ("partition_key" in names) == dataset.partitioned, table
            assert f"\n  {table}:" not in written, f"{table} is declared again in {DOCS_PATH.name}"


def test_checking_a_catalog_imports_no_loader():
    """The format table stays light: a catalog is checked without importing a loader (nor
    sdmx1, which only the SDMX loader needs); the raw load imports it on first use."""
    loaders = sorted({entry.module for entry in FORMATS.values()} | {"sdmx"})
    probe = (
        "import sys; from pedw.catalog import load_catalog; "
        "load_catalog('catalogs/ilostat_online.yml'); load_catalog('catalogs/demo.yml'); "
        f"print(sorted(set({loaders!r}) & set(sys.modules)))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True,
        check=True, timeout=120,
    )  # fmt: skip
    assert shown.stdout.strip() == "[]", shown.stdout


def test_a_loader_is_in_the_code_version_of_the_raw_assets_only():
    """Editing a loader changes the raw assets' code version (the registry imports it by
    name), not that of everything that reads the format table (the catalog, the briefs)."""
    loaders = {entry.module for entry in FORMATS.values() if not entry.central}
    assert loaders <= module_closure(["pedw.raw"])
    # The centre's package loader (and the pooling it imports) is no code of an office's raw load.
    central = {entry.module for entry in FORMATS.values() if entry.central}
    assert central and not central & module_closure(["pedw.raw"])
    assert not loaders & module_closure(["pedw.catalog", "pedw.briefs.sources"])
