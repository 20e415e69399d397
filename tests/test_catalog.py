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
