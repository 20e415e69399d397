"""Every brief names a publication the warehouse records, and every release says which
publication built each brief file it carries: also when later publications carry the briefs
unchanged and the release that built them has been pruned."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from published_runs import copy_published

from pedw.briefs.published import ANNEX, unpack
from pedw.digest import file_sha256
from pedw.disclosure.rules import DisclosureRule
from pedw.public_release import build_public_release
from pedw.release import publish_release
from pedw.store import Store
from pedw.warehouse import connect_read_only

STATED = re.compile(r'<code id="publication-id">([^<]+)</code>')


@pytest.fixture(scope="module")
def carried(pipeline, tmp_path_factory):
    """The session's demo published by a run (which built the briefs), copied, then published
    twice more from the same tables without rebuilding them, as a run that changed nothing the
    briefs read does: the first release is pruned by then (two are kept)."""
    session, summary = pipeline
    settings = copy_published(session, tmp_path_factory.mktemp("provenance"))
    store = Store(settings.store_dir)
    rule = DisclosureRule()
    later = ["a1b2c3d4e5f6", "0f9e8d7c6b5a"]
    for number, release in enumerate(later):
        publish_release(store, settings, release, f"run-{number}")
        build_public_release(store, settings, release, rule)
    return settings, summary.publication_id, later


def _warehouse(settings, sql: str) -> pd.DataFrame:
    con = connect_read_only(settings.warehouse_path)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_every_brief_names_a_recorded_publication_and_its_release_says_it_was_carried(carried):
    settings, built_in, (second, third) = carried
    publications = _warehouse(settings, "SELECT * FROM meta.publications")
    assert publications["publication_id"].tolist() == [built_in, second, third]
    assert publications["briefs_built"].tolist()[0] == 40
    assert publications[["briefs_built", "briefs_carried"]].values.tolist()[1:] == [[0, 40]] * 2
    # The release that built the briefs is gone; the id they print is still on record.
    releases = {p.name for p in settings.releases_dir.iterdir() if not p.name.startswith(".")}
    assert releases == {second, third}
    (current,) = _warehouse(settings, "SELECT publication_id FROM meta.publication").iloc[0]
    assert current == third

    manifest = _warehouse(settings, "SELECT * FROM meta.brief_files").set_index("file")
    index = _warehouse(settings, "SELECT country, publication_id, files_sha256 FROM briefs.index")
    files = sorted(settings.briefs_dir.iterdir())
    assert sorted(f"briefs/{p.name}" for p in files) == sorted(manifest.index)
    for path in files:
        row = manifest.loc[f"briefs/{path.name}"]
        assert row["sha256"] == file_sha256(path)
        assert row["release_publication_id"] == third
        assert row["built_in_publication_id"] in set(publications["publication_id"])
        assert (
            row["built_in_published_at"]
            == publications.set_index("publication_id").loc[
                row["built_in_publication_id"], "published_at"
            ]
        )
        if path.suffix == ".html":  # what the page prints is what the manifest says
            (stated,) = STATED.findall(path.read_text(encoding="utf-8"))
            assert stated == row["built_in_publication_id"], path.name
    by_country = index.set_index("country")
    for country, row in manifest.groupby("country"):
        assert set(row["built_in_publication_id"]) == {by_country.loc[country, "publication_id"]}
        assert {f.removeprefix("briefs/") for f in row.index} == set(
            unpack(by_country.loc[country, "files_sha256"])
        )
    economies = manifest[manifest["country"] != ANNEX]
    assert set(economies["built_in_publication_id"]) == {built_in}
    assert economies["carried_over"].all()
    page = (settings.briefs_dir / "KEN.html").read_text(encoding="utf-8")
    assert f'built in publication <code id="publication-id">{built_in}</code>' in page
    assert "published beside this brief" in page and "of this publication" not in page

    # The public release says the same, in files anyone can read.
    public = settings.public_dir / "current"
    assert public.resolve().name == third
    listed = pd.read_csv(public / "brief_files.csv").set_index("file")
    assert listed[["sha256", "built_in_publication_id"]].equals(
        manifest[["sha256", "built_in_publication_id"]].loc[listed.index]
    )
    assert pd.read_csv(public / "publications.csv")["publication_id"].tolist() == [
        built_in,
        second,
        third,
    ]
