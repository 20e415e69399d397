"""What vouches for a warehouse between runs: the record of the last clean run (pedw.clean_run)."""

from __future__ import annotations

import os

import pytest

from pedw.catalog import Catalog, Source
from pedw.clean_run import (
    forget_clean_run,
    record_clean_run,
    run_inputs,
    unchanged_since_clean_run,
)
from pedw.settings import resolve_settings


@pytest.fixture
def warehouse(tmp_path):
    """A catalog of one local file, and a warehouse, store and public release as a run leaves
    them, recorded as clean."""
    source_file = tmp_path / "data" / "firms.csv"
    source_file.parent.mkdir()
    source_file.write_text("firm_id,country,year\nF1,KEN,2019\n")
    catalog_path = tmp_path / "catalog.yml"
    catalog_path.write_text("sources: []\n")
    source = Source(
        name="firms", level="enterprise", format="enterprise_csv", path=str(source_file)
    )
    catalog = Catalog(name="test", path=catalog_path, sources=(source,))
    settings = resolve_settings(catalog_path, tmp_path / "wh" / "pedw.duckdb")
    settings.warehouse_path.parent.mkdir()
    settings.warehouse_path.write_bytes(b"published")
    (settings.store_dir / "staging" / "firms").mkdir(parents=True)
    (settings.store_dir / "staging" / "firms" / "KEN.parquet").write_bytes(b"rows")
    (settings.public_dir / "briefs").mkdir(parents=True)
    (settings.public_dir / "briefs" / "KEN.pdf").write_bytes(b"%PDF")
    record_clean_run(settings, run_inputs(settings, catalog), "abc123")
    return settings, catalog, source_file


def test_nothing_changed_is_recognised(warehouse):
    settings, catalog, _ = warehouse
    record = unchanged_since_clean_run(settings, catalog)
    assert record["publication_id"] == "abc123"
    # Working folders of a run are not part of what it left.
    (settings.store_dir / "_scratch" / "x").mkdir(parents=True)
    assert unchanged_since_clean_run(settings, catalog) is not None


def test_a_source_rewritten_with_its_size_and_time_put_back_is_a_change(warehouse):
    settings, catalog, source_file = warehouse
    stat = source_file.stat()
    source_file.write_text("firm_id,country,year\nF2,KEN,2019\n")  # same size
    os.utime(source_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert source_file.stat().st_size == stat.st_size
    assert source_file.stat().st_mtime_ns == stat.st_mtime_ns
    assert unchanged_since_clean_run(settings, catalog) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda s: (s.store_dir / "staging" / "firms" / "KEN.parquet").unlink(),
        lambda s: (s.store_dir / "staging" / "firms" / "GHA.parquet").write_bytes(b"more"),
        lambda s: (s.public_dir / "briefs" / "KEN.pdf").write_bytes(b"%PDF edited"),
        lambda s: s.warehouse_path.write_bytes(b"republished"),
        lambda s: s.catalog_path.write_text("sources: [] # edited\n"),
    ],
    ids=["store file removed", "store file added", "public file edited", "warehouse", "catalog"],
)
def test_any_change_to_what_the_run_left_or_read_is_a_change(warehouse, change):
    settings, catalog, _ = warehouse
    change(settings)
    assert unchanged_since_clean_run(settings, catalog) is None


def test_a_changed_setting_is_a_change(warehouse, monkeypatch):
    settings, catalog, _ = warehouse
    monkeypatch.setenv("PEDW_DUCKDB_MEMORY_LIMIT", "2GB")
    changed = resolve_settings(settings.catalog_path, settings.warehouse_path)
    assert unchanged_since_clean_run(changed, catalog) is None


def test_a_run_that_starts_forgets_the_record(warehouse):
    """A killed or failed run never vouches: the record goes when any run starts."""
    settings, catalog, _ = warehouse
    forget_clean_run(settings)
    assert unchanged_since_clean_run(settings, catalog) is None


def test_a_url_source_always_asks_its_server(warehouse):
    settings, catalog, _ = warehouse
    online = Catalog(
        name="online",
        path=settings.catalog_path,
        sources=(Source(name="wdi", level="national", format="wdi", url="http://x/y.zip"),),
    )
    assert run_inputs(settings, online) is None
    record_clean_run(settings, None, "def456")  # nothing recorded
    assert unchanged_since_clean_run(settings, online) is None
    assert unchanged_since_clean_run(settings, catalog)["publication_id"] == "abc123"
