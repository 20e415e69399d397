"""A store file changed behind pedw's back is never published: it is rebuilt, or refused and
rebuilt by the next run. Warehouse and briefs are published together as one release."""

from __future__ import annotations

import gzip
import json
import os

import dagster as dg
import pytest
from published_runs import small_demo

from pedw.release import current_release
from pedw.store import Store
from pedw.warehouse import connect_read_only
from pipelines.run import run_catalog

pytestmark = pytest.mark.slow

PLANTED = 123456789.0


@pytest.fixture(scope="module")
def published_once(tmp_path_factory):
    settings = small_demo(tmp_path_factory, "tamper")
    with dg.instance_for_test() as instance:
        first = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
        assert first.success, first.failures
        yield settings, instance, first


def _published_value(settings) -> tuple[str, float]:
    con = connect_read_only(settings.warehouse_path)
    try:
        publication = con.execute("SELECT publication_id FROM meta.publication").fetchone()[0]
        value = con.execute("SELECT max(output_per_worker) FROM marts.national_panel").fetchone()[0]
    finally:
        con.close()
    return publication, value


def _plant(settings, keep_times: bool) -> None:
    """Overwrite marts.national_panel's file with a planted value, as a program other than pedw
    would (optionally hiding the edit from a size-and-time check)."""
    store = Store(settings.store_dir)
    path = store.table_dir("marts", "national_panel") / "data.parquet"
    before = path.stat()
    con = store.connect()
    try:
        con.execute(
            f"COPY (SELECT * REPLACE ({PLANTED} AS output_per_worker) FROM marts.national_panel) "
            f"TO '{path}.new' (FORMAT parquet)"
        )
    finally:
        con.close()
    os.replace(f"{path}.new", path)
    if keep_times:
        # A same-size edit whose times are put back: the cheap size-and-time check of each run
        # cannot tell (simulated by giving the seal the new size; its SHA-256 stays the old one).
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        seal = path.with_name(".data.parquet.seal")
        recorded = json.loads(seal.read_text())
        seal.write_text(json.dumps({**recorded, "size": path.stat().st_size}))


def _drop_last_line(path) -> None:
    """A new release of one sector file: the warehouse must be published again."""
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    path.write_bytes(gzip.compress(b"".join(lines[:-1])))


def test_a_store_file_edited_by_hand_is_rebuilt_not_published(published_once):
    settings, instance, _first = published_once
    clean_id, clean_value = _published_value(settings)
    _plant(settings, keep_times=False)
    again = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert again.success, again.failures
    assert again.rebuilt["marts/national_panel"] == (
        "output changed outside pedw (marts/national_panel/data.parquet)"
    )
    # rebuilt to the same content (same data version), so what depends on it stays current
    assert "warehouse" in again.unchanged
    assert _published_value(settings) == (clean_id, pytest.approx(clean_value, rel=1e-12))
    assert Store(settings.store_dir).unsealed("marts", "national_panel") == []


def test_an_edit_that_hides_its_times_is_refused_at_publication_then_rebuilt(published_once):
    settings, instance, _first = published_once
    clean_id, clean_value = _published_value(settings)
    _plant(settings, keep_times=True)
    _drop_last_line(
        settings.catalog_path.parent / "ilostat" / "sector" / "GVA_CONS_ECO_NB_A.csv.gz"
    )
    refused = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert not refused.success
    assert "marts/national_panel" not in refused.rebuilt  # its size and times look untouched
    assert refused.rebuilt["raw/sector_observations"].startswith("inputs changed")
    (failure,) = refused.failures
    assert failure.startswith("warehouse: pedw.store.StoreTamperedError: marts.national_panel:")
    assert "changed after pedw wrote it" in failure and "Run `pedw run` again" in failure
    assert _published_value(settings) == (clean_id, clean_value)  # the last release stands
    moved = settings.store_dir / "marts" / "national_panel" / "data.parquet.tampered"
    assert moved.is_file()

    repaired = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert repaired.success, repaired.failures
    assert repaired.rebuilt["marts/national_panel"] == "output missing"
    publication, value = _published_value(settings)
    assert publication == repaired.publication_id
    assert value == pytest.approx(clean_value, rel=1e-12)


def test_warehouse_and_briefs_are_one_release_switched_by_one_rename(published_once):
    settings, _instance, _first = published_once
    release = current_release(settings)
    assert release is not None and release.parent == settings.releases_dir
    assert settings.warehouse_path.is_symlink() and settings.briefs_dir.is_symlink()
    assert settings.warehouse_path.resolve() == release / "pedw.duckdb"
    assert settings.briefs_dir.resolve() == release / "briefs"
    publication, _ = _published_value(settings)
    assert release.name == publication
    # only the current and the previous publication are kept
    assert len([p for p in settings.releases_dir.iterdir() if not p.name.startswith(".")]) <= 2


def test_only_the_two_newest_releases_are_kept_and_never_the_current_one(tmp_path):
    from pedw.release import _prune

    folder = tmp_path / "pedw_releases"
    for age, name in enumerate(["newest", "second", "third", "oldest"]):
        (folder / name).mkdir(parents=True)
        os.utime(folder / name, ns=(0, (10 - age) * 10**9))
    (folder / ".half.building").mkdir()  # a release being built is not a release to prune
    _prune(folder, keep="oldest")  # e.g. the current one after going back by hand
    assert sorted(p.name for p in folder.iterdir()) == [
        ".half.building",
        "newest",
        "oldest",
        "second",
    ]
