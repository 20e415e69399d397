"""A store file changed behind pedw's back is never published: it is rebuilt, or refused and
rebuilt by the next run. Warehouse and briefs are published together as one release."""

from __future__ import annotations

import os

import dagster as dg
import duckdb
import pytest
from published_runs import OPERATIONS_COUNTRIES, edit_in_place_keeping_times, small_demo

from pedw.release import current_release
from pedw.store import Store
from pedw.warehouse import connect_read_only
from pipelines.run import run_catalog

pytestmark = pytest.mark.slow

PLANTED = 123456789.0


@pytest.fixture(scope="module")
def published_once(tmp_path_factory):
    settings = small_demo(tmp_path_factory, "tamper", countries=OPERATIONS_COUNTRIES)
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


def _plant(settings) -> None:
    """Overwrite marts.national_panel's file with a planted value, as a program other than pedw
    would."""
    store = Store(settings.store_dir)
    path = store.table_dir("marts", "national_panel") / "data.parquet"
    con = store.connect()
    try:
        con.execute(
            f"COPY (SELECT * REPLACE ({PLANTED} AS output_per_worker) FROM marts.national_panel) "
            f"TO '{path}.new' (FORMAT parquet)"
        )
    finally:
        con.close()
    os.replace(f"{path}.new", path)


def test_a_store_file_edited_by_hand_is_rebuilt_not_published(published_once):
    settings, instance, _first = published_once
    clean_id, clean_value = _published_value(settings)
    _plant(settings)
    again = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert again.success, again.failures
    assert again.rebuilt["marts/national_panel"] == (
        "output changed outside pedw (marts/national_panel/data.parquet)"
    )
    # rebuilt to the same content (same data version), so what depends on it stays current
    assert "warehouse" in again.unchanged
    assert _published_value(settings) == (clean_id, pytest.approx(clean_value, rel=1e-12))
    assert Store(settings.store_dir).unsealed("marts", "national_panel") == []


def test_an_edit_that_kept_size_inode_and_mtime_is_caught_by_the_next_run(published_once):
    settings, instance, _first = published_once
    clean_id, clean_value = _published_value(settings)
    path = Store(settings.store_dir).table_dir("marts", "national_panel") / "data.parquet"
    edit_in_place_keeping_times(path)
    again = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert again.success, again.failures
    assert again.rebuilt["marts/national_panel"] == (
        "output changed outside pedw (marts/national_panel/data.parquet)"
    )
    assert _published_value(settings) == (clean_id, pytest.approx(clean_value, rel=1e-12))
    assert Store(settings.store_dir).unsealed("marts", "national_panel") == []


def test_a_published_warehouse_edited_in_place_is_published_again_by_the_next_run(
    published_once,
):
    settings, instance, _first = published_once
    clean_id, clean_value = _published_value(settings)
    path = settings.warehouse_path.resolve()
    before = path.stat()
    con = duckdb.connect(str(path))
    try:
        con.execute(f"UPDATE marts.national_panel SET output_per_worker = {PLANTED}")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert _published_value(settings) == (clean_id, PLANTED)  # what readers would see

    again = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert again.success, again.failures
    assert again.rebuilt["warehouse"] == (
        f"the published warehouse {settings.warehouse_path} was changed after publication (its "
        "SHA-256 differs from the seal written when it was published)"
    )
    assert "marts/national_panel" in again.unchanged  # the store was never touched
    publication, value = _published_value(settings)
    assert publication == again.publication_id != clean_id
    assert value == pytest.approx(clean_value, rel=1e-12)


def test_a_public_extract_edited_in_place_is_published_again_by_the_next_run(published_once):
    settings, instance, _first = published_once
    path = (settings.public_dir / "public.duckdb").resolve()
    con = duckdb.connect(str(path))
    try:
        table = "national.panel"
        clean_rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        con.execute(f"DELETE FROM {table} WHERE ref_area = 'KEN'")
        con.execute("CHECKPOINT")
    finally:
        con.close()

    again = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert again.success, again.failures
    assert again.rebuilt["public_release"].startswith(
        f"the public extract {settings.public_dir / 'public.duckdb'} was changed after publication"
    )
    con = duckdb.connect(str(settings.public_dir / "public.duckdb"), read_only=True)
    try:
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == clean_rows
    finally:
        con.close()


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
