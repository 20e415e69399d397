"""Analysts read the published warehouse while a full materialization runs: every read
succeeds (no lock error) and sees one complete publication (never a half-written one)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time

import pytest
from published_runs import OPERATIONS_COUNTRIES

from pedw.demo.generate import generate_demo_data

pytestmark = pytest.mark.slow

READER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from pedw.warehouse import connect_read_only
    path, stop = sys.argv[1], Path(sys.argv[2])
    reads, errors, inconsistent, runs = 0, [], 0, set()
    while not stop.exists():
        try:
            con = connect_read_only(path)
            run_id, rows = con.execute("SELECT run_id, table_rows FROM meta.publication").fetchone()
            expected = json.loads(rows)
            for table in ("marts.national_panel", "marts.enterprise_panel", "models.estimates"):
                if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] != expected[table]:
                    inconsistent += 1
            con.close()
            runs.add(run_id)
            reads += 1
        except Exception as error:  # every failure is reported, none is retried away
            errors.append(repr(error))
        time.sleep(0.05)
    print(json.dumps({"reads": reads, "errors": errors[:5], "inconsistent": inconsistent, "runs": sorted(runs)}))
""")

WRITER = textwrap.dedent("""
    import sys
    import dagster as dg
    from pedw.settings import resolve_settings
    from pipelines.run import run_catalog
    settings = resolve_settings(sys.argv[1], sys.argv[2])
    with dg.DagsterInstance.ephemeral() as instance:
        summary = run_catalog(settings, instance, progress=lambda m: None, briefs=False)
    print("ok" if summary.success else summary.failures)
""")


def test_readers_never_fail_nor_see_a_half_written_warehouse(pipeline, tmp_path):
    settings, first = pipeline
    # A copy of the published warehouse, then rebuilt from scratch by a full run of a smaller
    # demo (twelve economies, 600 firms: the readers check each publication against its own
    # row counts, whatever its size).
    warehouse = tmp_path / "pedw.duckdb"
    shutil.copy(settings.warehouse_path, warehouse)
    generate_demo_data(tmp_path / "demo", n_firms=600, countries=OPERATIONS_COUNTRIES)
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(warehouse), str(stop)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    writer = subprocess.run(
        [sys.executable, "-c", WRITER, str(tmp_path / "demo" / "catalog.yml"), str(warehouse)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    time.sleep(1)  # let the readers see the new publication
    stop.touch()
    outcomes = [
        json.loads(reader.communicate(timeout=60)[0].strip().splitlines()[-1]) for reader in readers
    ]
    assert writer.stdout.strip().endswith("ok"), writer.stdout + writer.stderr[-2000:]
    assert outcomes, "the reader processes reported nothing"
    for outcome in outcomes:
        assert outcome["errors"] == [] and outcome["inconsistent"] == 0
        assert outcome["reads"] > 20
        assert first.run_ids[-1] in outcome["runs"] and len(outcome["runs"]) == 2  # old, then new


def test_a_step_opening_the_store_while_another_replaces_a_table_is_not_disturbed(tmp_path):
    """Parallel steps (multiprocess or Celery) open the store while another step rewrites a
    table: the table being replaced is simply left out of that connection, the rest is there."""
    from pedw.store import Store

    store = Store(tmp_path)
    con = store.connect()
    store.write(con, "staging", "kept", "SELECT range AS id FROM range(5)")
    store.write(con, "staging", "replaced", "SELECT 1 AS id")
    con.close()
    listed = store.tables()
    # a writer (e.g. raw.py) removes the old files between the listing and the binding
    (store.table_dir("staging", "replaced") / "data.parquet").unlink()
    store.tables = lambda: listed
    con = store.connect()
    assert con.execute("SELECT count(*) FROM staging.kept").fetchone()[0] == 5
    assert store.has_view(con, "staging", "kept")
    assert not store.has_view(con, "staging", "replaced")


def test_referential_rules_wait_for_the_table_they_refer_to():
    """The firm and SCORE contracts' referential rules run in assets that depend on
    staging.national_series, never inside the staging steps that could race with it."""
    import dagster as dg

    from pipelines.definitions import ALL_ASSETS

    deps = {a.key: set(a.dependency_keys) for a in ALL_ASSETS}
    national = dg.AssetKey(["staging", "national_series"])
    for staged in ("enterprise_firms", "score_monitoring"):
        assert national not in deps[dg.AssetKey(["staging", staged])]
        assert deps[dg.AssetKey(["quality", f"{staged}_references"])] == {
            dg.AssetKey(["staging", staged]),
            national,
        }
