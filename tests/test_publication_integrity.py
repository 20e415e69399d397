"""What is published belongs together: every brief comes from the warehouse beside it, a run
asked to stop publishes nothing new, and an edit behind pedw's back is caught by the next run.

Real `pedw run` processes on a persistent Dagster instance, killed or interrupted as an
operator would."""

from __future__ import annotations

import signal
import socket
import time

import duckdb
import pytest
from published_runs import (
    OPERATIONS_COUNTRIES,
    brief_build_files,
    publication_id,
    run_pedw,
    small_demo,
    start_pedw,
    wait_for_brief_files,
    wait_for_started,
    warehouse_instance,
)

from pedw.briefs.inputs import ANNEX_TABLES, BRIEF_TABLES, table_fingerprint
from pedw.briefs.published import ANNEX, pack, unpack
from pedw.digest import file_sha256
from pedw.settings import resolve_settings
from pedw.warehouse import connect_read_only

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published_demo(tmp_path_factory):
    """A small demo (twelve economies) published once by `pedw run` on its persistent instance."""
    settings = small_demo(tmp_path_factory, "integrity", countries=OPERATIONS_COUNTRIES)
    first = run_pedw(settings)
    assert first.returncode == 0, first.stderr[-3000:]
    return settings


def _drop_last_line(path) -> bytes:
    """A new release of a source file (its last row withdrawn); returns the old bytes."""
    original = path.read_bytes()
    path.write_bytes(b"".join(original.splitlines(keepends=True)[:-1]))
    return original


def assert_briefs_belong_to_the_warehouse(settings) -> None:
    """Every published brief file is the one briefs.index names (same SHA-256), stamped with
    its publication, built from exactly the tables the published warehouse holds."""
    con = connect_read_only(settings.warehouse_path)
    try:
        index = con.execute(
            "SELECT country, publication_id, files_sha256, input_fingerprints FROM briefs.index"
        ).fetchall()
        built = {tuple(r) for r in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}  # fmt: skip
        tables, annex_tables = (
            pack(
                {
                    f"{schema}.{name}": table_fingerprint(con, schema, name)
                    for schema, name in read
                    if (schema, name) in built
                }
            )
            for read in (BRIEF_TABLES, ANNEX_TABLES)
        )
    finally:
        con.close()
    published = {p.name: file_sha256(p) for p in settings.briefs_dir.iterdir()}
    assert sorted(country for country, *_ in index) == sorted([*OPERATIONS_COUNTRIES, ANNEX])
    named = {}
    for country, stamped, files, fingerprints in index:
        assert fingerprints == (annex_tables if country == ANNEX else tables), country
        named.update(unpack(files))
        assert stamped in (settings.briefs_dir / f"{country}.html").read_text(), country
    assert published == named  # nothing more, nothing less, byte for byte


def test_a_run_killed_mid_briefs_on_other_inputs_never_gets_its_briefs_published(
    published_demo,
):
    settings = published_demo
    before = publication_id(settings)
    pwt = settings.catalog_path.parent / "pwt" / "pwt_demo.csv"
    original = _drop_last_line(pwt)  # other inputs: every brief is rebuilt
    published_before = brief_build_files(settings)
    killed = start_pedw(settings)
    try:
        with warehouse_instance(settings) as instance:
            wait_for_started(instance, "country_briefs", killed)
        wait_for_brief_files(settings, killed)
        killed.kill()
        killed.wait(timeout=60)
    finally:
        if killed.poll() is None:
            killed.kill()
    killed_run = {p: file_sha256(p) for p in brief_build_files(settings) - published_before}
    assert publication_id(settings) == before
    pwt.write_bytes(original)  # the inputs switched back

    again = run_pedw(settings)
    assert again.returncode == 0, again.stderr[-3000:]
    assert_briefs_belong_to_the_warehouse(settings)
    published = {p.name: file_sha256(p) for p in settings.briefs_dir.iterdir()}
    public = {p.name: file_sha256(p) for p in (settings.public_dir / "briefs").iterdir()}
    assert published == public
    # The killed run wrote briefs of other data (a page differs from the one published now),
    # and none of its files is published: no index row names its run (its folder goes at the
    # next publication that rebuilds briefs; a run that republishes them may leave it).
    assert any(
        path.suffix == ".html" and published[path.name] != sha for path, sha in killed_run.items()
    )
    killed_folders = {path.parent for path in killed_run}
    con = connect_read_only(settings.warehouse_path)
    try:
        runs = {r[0] for r in con.execute("SELECT DISTINCT run_id FROM briefs.index").fetchall()}
    finally:
        con.close()
    assert not runs & {folder.name for folder in killed_folders}


@pytest.mark.parametrize(("sent", "job", "code"), [
    (signal.SIGINT, "enterprise_models", 130),
    (signal.SIGTERM, "country_briefs", 143),
])  # fmt: skip
def test_a_run_asked_to_stop_publishes_nothing_and_the_next_run_finishes_the_job(
    published_demo, sent, job, code
):
    settings = published_demo
    before = publication_id(settings)
    firms = settings.catalog_path.parent / "enterprise" / "firms.csv"
    _drop_last_line(firms)  # a firm-year withdrawn: staging, models and briefs rebuild
    stopped = start_pedw(settings)
    try:
        with warehouse_instance(settings) as instance:
            wait_for_started(instance, job, stopped)
        time.sleep(0.5)
        stopped.send_signal(sent)
        output, _ = stopped.communicate(timeout=120)
    finally:
        if stopped.poll() is None:
            stopped.kill()
    assert stopped.returncode == code, output[-3000:]
    assert "Traceback" not in output
    (line,) = [line for line in output.splitlines() if "stopped by" in line]
    assert line.startswith(f"pedw: stopped by {sent.name} at [")
    assert f"readers keep publication {before}" in line
    assert publication_id(settings) == before  # nothing new published

    finished = run_pedw(settings)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert publication_id(settings) != before
    con = connect_read_only(settings.warehouse_path)
    try:
        statuses = dict(
            con.execute("SELECT status, count(*) FROM meta.table_status GROUP BY ALL").fetchall()
        )
        firm_years = con.execute(
            "SELECT sum(rows_read) FROM quality.load_log WHERE dataset = 'enterprise_firms'"
        ).fetchone()[0]
    finally:
        con.close()
    assert "stale" not in statuses
    lines = len(firms.read_bytes().splitlines()) - 1  # the header
    assert firm_years == lines  # the edited file, read whole
    assert_briefs_belong_to_the_warehouse(settings)


def test_a_publication_with_stale_or_failed_tables_is_not_whole(tmp_path):
    from pedw.publication_status import OUT_OF_SCOPE
    from pedw.release import degraded_publication
    from pedw.settings import resolve_settings

    settings = resolve_settings(tmp_path / "catalog.yml", tmp_path / "pedw.duckdb")
    rows = [
        ("marts.national_panel", "fresh", "rebuilt"),
        ("marts.enterprise_panel", "absent", OUT_OF_SCOPE),  # no firm source: by design
    ]
    for extra, expected in [
        ([], None),
        (
            [("models.estimates", "stale", "failed: interrupted")],
            "1 tables kept from earlier runs, 0",
        ),
        ([("models.status", "absent", "failed: disk full")], "0 tables kept from earlier runs, 1"),
    ]:
        settings.warehouse_path.unlink(missing_ok=True)
        con = duckdb.connect(str(settings.warehouse_path))
        con.execute("CREATE SCHEMA meta")
        con.execute("CREATE TABLE meta.table_status (table_name VARCHAR, status VARCHAR, "
                    "reason VARCHAR)")  # fmt: skip
        con.executemany("INSERT INTO meta.table_status VALUES (?, ?, ?)", rows + extra)
        con.close()
        found = degraded_publication(settings)
        assert (found is None) if expected is None else (expected in found), (extra, found)


def test_a_run_that_could_read_no_source_publishes_nothing(tmp_path):
    """Offline, with no snapshot: every source refused in seconds, and no empty warehouse is
    published as if it were a release (exit 1, not 3)."""
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "catalog.yml").write_text(
        "name: unreachable\ndescription: a source whose server is down\nsources:\n"
        "  - name: ilostat_gdp\n    level: national\n    format: ilostat_csv\n"
        f"    url: http://127.0.0.1:{port}/data/indicator/?id=GDP_211P_NOC_NB_A&format=.csv.gz\n"
        "    contract: ilostat_observations\n"
    )
    settings = resolve_settings(tmp_path / "catalog.yml", tmp_path / "wh" / "pedw.duckdb")
    done = run_pedw(settings)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "[6/6] warehouse publication: skipped (no source of the catalog could be read" in (
        done.stdout
    )
    assert "pedw: nothing published: none exists yet" in done.stderr
    assert f"refused http://127.0.0.1:{port}/" in done.stderr
    assert not settings.warehouse_path.exists() and not settings.public_dir.exists()
