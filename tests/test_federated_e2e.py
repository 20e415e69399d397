"""Issue 32 end to end: the demo's economies split over two offices, each runs pedw and
writes its package, the centre pools them. No firm identifier in any package file or
central table; the centre covers the union of the offices' economies; the pooled models equal
fe_ols on the pooled microdata (what one warehouse holding both offices' firms estimates:
tests/test_federated_package.py ties that to the published models.estimates) to 1e-8; a
tampered package is refused."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
from published_runs import OPERATIONS_COUNTRIES

from pedw.demo.generate import generate_demo_data
from pedw.disclosure.rules import DisclosureRule
from pedw.federated.centre import write_centre
from pedw.federated.package import PackageError, write_package
from pedw.federated.specs import exact_specs, model_frame
from pedw.models.absorb import fe_ols
from pedw.run_lock import exclusive_run
from pedw.settings import resolve_settings
from pedw.warehouse import connect_read_only
from pipelines.centre import build_centre_definitions, requested, run_centre, sync_offices
from pipelines.dead_runs import IN_PROCESS
from pipelines.jobs import settings_tags
from pipelines.run import run_catalog

pytestmark = pytest.mark.slow
ALL_COUNTRIES = 1  # the exactness check takes every country (a small demo is thin)


def _office_demo(demo, root, countries: set[str]):
    """A copy of the demo whose firm file holds only `countries`' firms."""
    shutil.copytree(demo, root)
    lines = (demo / "enterprise" / "firms.csv").read_text(encoding="utf-8").splitlines(True)
    kept = [lines[0]] + [
        line for line in lines[1:] if next(csv.reader([line]))[1] in countries
    ]  # fmt: skip
    (root / "enterprise" / "firms.csv").write_text("".join(kept), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def offices(tmp_path_factory):
    """Two offices' published warehouses and packages, and the pooled microdata (twelve
    economies, six an office: the claims hold for any split of any number)."""
    base = tmp_path_factory.mktemp("federated_e2e")
    demo = base / "demo"
    # 2,000 firms over twelve economies (about 170 each): enough per country-year-size cell
    # that the offices' disclosure control releases cells in most economies (at 600 over
    # forty it suppresses every one; at 1,000 over twelve, in all but three), for the
    # central briefs' SME gaps.
    generate_demo_data(demo, n_firms=2000, countries=OPERATIONS_COUNTRIES)
    firms = pd.read_csv(demo / "enterprise" / "firms.csv", usecols=["firm_id", "country"])
    countries = sorted(firms["country"].unique())
    split = {"office_a": set(countries[::2]), "office_b": set(countries[1::2])}
    origin = int(pd.read_csv(demo / "enterprise" / "firms.csv", usecols=["year"])["year"].min())
    result = {"firm_ids": set(firms["firm_id"]), "countries": countries, "packages": {},
              "panels": {}, "warehouses": {}}  # fmt: skip
    for name, mine in split.items():
        settings = resolve_settings(
            _office_demo(demo, base / f"{name}_data", mine) / "catalog.yml",
            base / f"{name}_wh" / "pedw.duckdb",
        )
        with dg.DagsterInstance.ephemeral() as instance:
            # no briefs: nothing here reads them, and a package never carries them
            summary = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
        assert summary.success, summary.failures
        package = base / f"{name}_package"
        write_package(settings.warehouse_path, package, name, settings.catalog_path,
                      DisclosureRule(min_contributors=ALL_COUNTRIES, dominance_k=1.0), origin)  # fmt: skip
        con = connect_read_only(settings.warehouse_path)
        result["panels"][name] = con.execute("SELECT * FROM marts.enterprise_panel").df()
        con.close()
        result["packages"][name] = package
        result["warehouses"][name] = settings.warehouse_path
    result["origin"] = origin
    return result


def pedw(*arguments) -> str:
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, arguments)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def centre(offices, tmp_path_factory):
    """The centre through the commands: the round-two request, each office's answer on its
    own warehouse, then the central file with the answers."""
    folder = tmp_path_factory.mktemp("centre")
    packages = [a for p in offices["packages"].values() for a in ("--package", p)]
    request = folder / "request.json"
    pedw("centre", *packages, "--out", folder / "first.duckdb", "--request", request)
    answers = []
    for name, warehouse in offices["warehouses"].items():
        answers.append(folder / f"{name}_answer.json")
        pedw("round-two", "--warehouse", warehouse, "--request", request, "--out", answers[-1],
             "--trend-origin", offices["origin"], "--min-firms", ALL_COUNTRIES)  # fmt: skip
    out = folder / "centre.duckdb"
    said = pedw("centre", *packages, "--out", out, "--answers", *answers)
    assert "2 package(s) pooled" in said
    return out, said


def test_no_firm_identifier_in_any_package_file_or_central_table(offices, centre):
    firm_ids = offices["firm_ids"]
    for package in offices["packages"].values():
        for path in package.rglob("*"):
            if path.is_file():
                tokens = set(re.findall(r"[A-Za-z0-9_-]{3,}", path.read_bytes().decode("latin-1")))
                assert not firm_ids & tokens, path
    con = duckdb.connect(str(centre[0]), read_only=True)
    try:
        assert_no_firm_identifier(con, firm_ids)
    finally:
        con.close()


def test_centre_covers_the_union_of_the_offices_economies(offices, centre):
    con = duckdb.connect(str(centre[0]), read_only=True)
    try:
        declared = [json.loads(r[0]) for r in con.execute(
            "SELECT economies FROM federated.packages ORDER BY producer").fetchall()]  # fmt: skip
        pooled = con.execute(
            "SELECT DISTINCT countries FROM federated.pooled_estimates WHERE countries IS NOT NULL"
        ).fetchall()
        in_cells = {r[0] for r in con.execute("SELECT DISTINCT country FROM firms.sme_gap_cells").fetchall()}  # fmt: skip
    finally:
        con.close()
    assert not set(declared[0]) & set(declared[1])
    assert sorted(declared[0] + declared[1]) == offices["countries"]
    assert [sorted(r[0].split(",")) for r in pooled] == [offices["countries"]]
    assert in_cells <= set(offices["countries"])


@pytest.mark.parametrize("model", [s.name for s in exact_specs()])
def test_pooled_estimates_equal_fe_ols_on_the_pooled_microdata(offices, centre, model):
    spec = next(s for s in exact_specs() if s.name == model)
    microdata = pd.concat(offices["panels"].values(), ignore_index=True)
    frame = model_frame(microdata, offices["origin"])
    ref = fe_ols(frame, spec.outcome, list(spec.regressors), [*spec.absorb, *spec.crossing],
                 spec.cluster)  # fmt: skip
    con = duckdb.connect(str(centre[0]), read_only=True)
    pooled = con.execute(
        "SELECT term, estimate, std_error, n_obs, df_t, vcov FROM federated.pooled_estimates"
        " WHERE model_id = ?", [model]
    ).df().set_index("term")  # fmt: skip
    con.close()
    assert list(pooled.index) == list(ref.params.index)
    assert set(pooled["vcov"]) == {"CRV1"}
    assert set(pooled["n_obs"]) == {ref.n_obs} and set(pooled["df_t"]) == {ref.df_t}
    np.testing.assert_allclose(pooled["estimate"], ref.params, rtol=1e-8, atol=0)
    np.testing.assert_allclose(pooled["std_error"], ref.std_errors, rtol=1e-8, atol=0)


def test_a_tampered_package_is_refused_by_the_centre(offices, tmp_path):
    a, b = offices["packages"].values()
    copy = tmp_path / "tampered"
    shutil.copytree(b, copy)
    parquet = next((copy / "public").glob("firms.*.parquet"))
    parquet.write_bytes(parquet.read_bytes() + b"\0")
    with pytest.raises(PackageError, match="does not match its SHA-256") as error:
        write_centre([a, copy], tmp_path / "centre.duckdb")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "centre.duckdb").exists()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "centre", "--package", str(a), "--package",
         str(copy), "--out", str(tmp_path / "centre.duckdb")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("pedw: centre refused:") and done.stderr.count("\n") == 1
    assert "does not match its SHA-256" in done.stderr


# --- The centre inside the pipeline: catalog format pedw_package, office partitions --------


@pytest.fixture(scope="module")
def central(offices, centre, tmp_path_factory):
    """The centre as a pipeline on a persistent Dagster instance: a catalog whose entry is a
    glob of package folders (and the offices' round-two answers); office_a's package first,
    then office_b's added, with what automation requested before each run."""
    root = tmp_path_factory.mktemp("central")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry: {enabled: false}\n", encoding="utf-8")
    (root / "packages").mkdir()
    (root / "answers").mkdir()
    for answer in sorted(centre[0].parent.glob("*_answer.json")):
        shutil.copy(answer, root / "answers" / answer.name)
    catalog = root / "centre.yml"
    catalog.write_text(
        "name: centre\nsources:\n  - name: offices\n    level: enterprise\n"
        "    format: pedw_package\n    path: packages/*\n"
        "    options: {answers: answers/*.json}\n",
        encoding="utf-8",
    )
    settings = resolve_settings(catalog, root / "central" / "centre.duckdb")
    seen = {"root": root, "home": home, "settings": settings}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        shutil.copytree(offices["packages"]["office_a"], root / "packages" / "office_a")
        seen["first"] = run_centre(settings, instance, progress=lambda _m: None)
        shutil.copytree(offices["packages"]["office_b"], root / "packages" / "office_b")
        sync_offices(instance, settings)
        seen["after_b"] = requested(build_centre_definitions(settings), instance)
        seen["second"] = run_centre(settings, instance, progress=lambda _m: None)
        seen["current"] = requested(build_centre_definitions(settings), instance)
    return seen


def test_the_centre_pipeline_loads_each_office_as_a_partition_and_pools(central):
    first, second = central["first"], central["second"]
    assert first.success and first.loaded == ["office_a"], first.failures
    assert first.models == [
        "federated/pooled_models",
        "federated/central_briefs",
        "federated/central_warehouse",
    ]
    assert second.success and second.loaded == ["office_b"], second.failures
    assert second.offices == ["office_a", "office_b"]


def test_a_new_package_requests_only_its_office_and_the_central_models(central):
    assert central["after_b"] == (
        ["office_b"],
        [
            dg.AssetKey(["federated", "pooled_models"]),
            dg.AssetKey(["federated", "central_briefs"]),
            dg.AssetKey(["federated", "central_warehouse"]),
        ],
    )
    assert central["current"] == ([], [])  # nothing out of date after the run


@pytest.mark.parametrize("model", [s.name for s in exact_specs()])
def test_central_pooled_estimates_equal_fe_ols_on_the_pooled_microdata(offices, central, model):
    spec = next(s for s in exact_specs() if s.name == model)
    frame = model_frame(pd.concat(offices["panels"].values(), ignore_index=True), offices["origin"])
    ref = fe_ols(frame, spec.outcome, list(spec.regressors), [*spec.absorb, *spec.crossing],
                 spec.cluster)  # fmt: skip
    con = duckdb.connect(str(central["settings"].warehouse_path), read_only=True)
    pooled = con.execute(
        "SELECT term, estimate, std_error, n_obs, df_t, vcov, inference_note"
        " FROM federated.pooled_estimates WHERE model_id = ?", [model]
    ).df().set_index("term")  # fmt: skip
    con.close()
    assert list(pooled.index) == list(ref.params.index)
    assert set(pooled["vcov"]) == {"CRV1"}, set(pooled["inference_note"])  # answers fit
    assert set(pooled["n_obs"]) == {ref.n_obs} and set(pooled["df_t"]) == {ref.df_t}
    np.testing.assert_allclose(pooled["estimate"], ref.params, rtol=1e-8, atol=0)
    np.testing.assert_allclose(pooled["std_error"], ref.std_errors, rtol=1e-8, atol=0)


def test_the_central_warehouse_covers_the_union_and_holds_no_firm_identifier(offices, central):
    con = duckdb.connect(str(central["settings"].warehouse_path), read_only=True)
    try:
        offices_loaded = con.execute(
            "SELECT office, economies FROM federated.packages ORDER BY office").fetchall()  # fmt: skip
        countries = {r[0] for r in con.execute(
            "SELECT DISTINCT country FROM federated.statistics").fetchall()}  # fmt: skip
        cells = con.execute(
            "SELECT DISTINCT office FROM firms.sme_gap_cells ORDER BY office").fetchall()  # fmt: skip
        assert_no_firm_identifier(con, offices["firm_ids"])
    finally:
        con.close()
    assert [r[0] for r in offices_loaded] == ["office_a", "office_b"]
    economies = [e for r in offices_loaded for e in json.loads(r[1])]
    assert sorted(economies) == offices["countries"]  # the union, no economy twice
    assert countries == set(offices["countries"])
    assert cells == [("office_a",), ("office_b",)]


# --- Briefs and the cross-country annex from the central warehouse ------------------------


def _central_briefs(central) -> tuple:
    """The published central briefs folder, federated.briefs and federated.packages."""
    settings = central["settings"]
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        index = con.execute("SELECT * FROM federated.briefs ORDER BY country").df()
        packages = con.execute(
            "SELECT office, producer, publication_id, economies FROM federated.packages"
        ).df()
    finally:
        con.close()
    return settings.briefs_dir, index, packages


def test_the_centre_publishes_a_brief_for_each_economy_in_the_union(offices, central):
    folder, index, _ = _central_briefs(central)
    assert folder.is_symlink()  # switched in by one rename
    assert set(offices["countries"]) <= set(index["country"])
    assert "cross_country" in set(index["country"])
    for country in [*offices["countries"], "cross_country"]:
        for kind in ("html", "pdf"):
            assert (folder / f"{country}.{kind}").stat().st_size > 1000, (country, kind)
    assert (folder / "cross_country.html").read_text(encoding="utf-8").count(
        "pooled across the packages of 2 offices"
    ) >= 2  # the section and the SCORE finding


def test_each_central_brief_shows_its_office_s_released_sme_gaps(offices, central):
    """The brief's SME-gap figures are the office's own disclosure.sme_gap_cells, as
    released (suppressed ones not shown), and the brief names that office's package."""
    folder, _, packages = _central_briefs(central)
    compared = 0
    for row in packages.itertuples():
        con = connect_read_only(offices["warehouses"][row.office])
        released = con.execute(
            "SELECT country, year, size_class, productivity_gap, productivity_status "
            "FROM disclosure.sme_gap_cells"
        ).df()
        con.close()
        for country in json.loads(row.economies):
            mine = released[released["country"] == country]
            page = (folder / f"{country}.html").read_text(encoding="utf-8")
            if mine.empty:
                continue
            assert (f"aggregate package of office {row.office} (producer {row.producer}, "
                    f"publication {row.publication_id})") in page  # fmt: skip
            shown = mine[mine["productivity_status"] == "published"]
            assert f"{len(mine) - len(shown)} of {len(mine)} country-year-size cells" in page
            if shown.empty:
                continue
            chart = pd.read_csv(folder / f"{country}_sme_gap.csv")
            expected = shown.assign(gap=(100 * shown["productivity_gap"]).round(1))
            merged = chart.merge(expected, on=["year", "size_class"], how="outer",
                                 indicator=True)  # fmt: skip
            assert set(merged["_merge"]) == {"both"}, country
            np.testing.assert_allclose(merged["gap_log_points"], merged["gap"], atol=1e-9)
            compared += 1
    assert compared >= 5  # enough economies with released cells for the check to bite


def test_the_annex_pooled_rows_equal_the_central_pooled_estimates(central):
    folder, _, _ = _central_briefs(central)
    page = (folder / "cross_country.html").read_text(encoding="utf-8")
    shown = {
        (m[0], m[1]): (float(m[2]), float(m[3]))
        for m in re.findall(
            r'data-model="([^"]+)" data-term="([^"]+)">.*?<td class="estimate">([-0-9.]+)</td>'
            r'<td class="std-error">([-0-9.]+)</td>',
            page,
        )
    }
    con = duckdb.connect(str(central["settings"].warehouse_path), read_only=True)
    pooled = con.execute(
        "SELECT model_id, term, estimate, std_error FROM federated.pooled_estimates "
        "WHERE term IS NOT NULL"
    ).fetchall()
    con.close()
    assert len(pooled) > 20 and set(shown) == {(m, t) for m, t, _, _ in pooled}
    for model, term, estimate, error in pooled:
        assert shown[(model, term)] == pytest.approx((estimate, error), abs=5.1e-5)
    # The SCORE TWFE finding reads the pooled estimate (as a percentage change).
    twfe = next(e for m, t, e, _ in pooled
                if m == "score_twfe_log_labour_productivity" and t == "treated_post")  # fmt: skip
    assert f"is {100 * (np.exp(twfe) - 1):+.1f}%" in page


def test_no_firm_identifier_in_any_central_brief_or_annex_file(offices, central):
    from pypdf import PdfReader

    folder, index, _ = _central_briefs(central)
    files = sorted(folder.iterdir())
    assert len(files) >= 2 * len(index)
    for path in files:
        if path.suffix == ".pdf":
            text = " ".join(page.extract_text() or "" for page in PdfReader(path).pages)
        else:
            text = path.read_bytes().decode("utf-8")
        tokens = set(re.findall(r"[A-Za-z0-9_-]{3,}", text))
        assert not offices["firm_ids"] & tokens, path


def test_a_package_overlapping_another_office_is_refused_and_dropped_with_its_folder(central):
    settings, root = central["settings"], central["root"]
    before = settings.warehouse_path.read_bytes()
    shutil.copytree(root / "packages" / "office_a", root / "packages" / "office_c")
    with dg.DagsterInstance.from_config(str(central["home"])) as instance:
        refused = run_centre(settings, instance, progress=lambda _m: None)
        shutil.rmtree(root / "packages" / "office_c")
        after = run_centre(settings, instance, progress=lambda _m: None)
    assert not refused.success and len(refused.failures) == 1
    assert re.search(r"office_c: economy [A-Z]{3} is also in .*office_a", refused.failures[0])
    assert after.success and after.dropped == ["office_c"] and not after.loaded + after.models
    assert settings.warehouse_path.read_bytes() == before


def test_a_second_centre_run_is_refused_while_one_holds_the_central_warehouse(central):
    """One run per central warehouse, as for an office's: a second `pedw run` on the centre's
    catalog exits 2 naming the holder, and the central warehouse is left as it was."""
    settings = central["settings"]
    before = settings.warehouse_path.read_bytes()
    with exclusive_run(settings, clean_up=False):  # this process is the run in progress
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "run", "--catalog",
             str(settings.catalog_path), "--warehouse", str(settings.warehouse_path)],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "DAGSTER_HOME": str(central["home"])},
        )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"being built by another pedw run (process {os.getpid()})" in done.stderr
    assert settings.warehouse_path.read_bytes() == before


def test_a_killed_centre_run_s_dagster_run_is_marked_failed_by_the_next(central):
    """A centre run killed mid-way leaves its Dagster run STARTED (its process tag names a
    dead process): the next run marks it failed, as an office's does."""
    settings = central["settings"]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    tags = {**settings_tags(settings), IN_PROCESS: dead.stdout.strip()}
    lines = []
    with dg.DagsterInstance.from_config(str(central["home"])) as instance:
        killed = instance.add_run(
            dg.DagsterRun("centre_models", status=dg.DagsterRunStatus.STARTED, tags=tags)
        )
        after = run_centre(settings, instance, progress=lines.append)
        status = instance.get_run_by_id(killed.run_id).status
    assert after.success and not after.loaded + after.models
    assert status == dg.DagsterRunStatus.FAILURE
    assert (
        "cleaned up after a killed run: 1 dead runs marked failed, 0 leftover files removed"
        in lines
    )


def test_a_tampered_package_fails_its_office_and_leaves_the_central_warehouse(central):
    """Last in the module: it tampers with the centre's copy of office_b's package."""
    settings, root = central["settings"], central["root"]
    before = settings.warehouse_path.read_bytes()
    parquet = next((root / "packages" / "office_b" / "public").glob("firms.*.parquet"))
    parquet.write_bytes(parquet.read_bytes() + b"\0")
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--catalog", str(settings.catalog_path),
         "--warehouse", str(settings.warehouse_path)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "DAGSTER_HOME": str(central["home"])},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "out of date: office_b\n" in done.stdout
    refused = [line for line in done.stderr.splitlines() if line.startswith("pedw: refused")]
    assert len(refused) == 1, done.stderr
    assert "office_b" in refused[0] and "does not match its SHA-256" in refused[0]
    assert settings.warehouse_path.read_bytes() == before


def assert_no_firm_identifier(con: duckdb.DuckDBPyConnection, firm_ids: set[str]) -> None:
    """No firm_id column in the warehouse, and no firm identifier in any text value."""
    columns = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns"
    ).fetchall()
    assert not any(c[2].lower() == "firm_id" for c in columns)
    for schema, table, column, kind in columns:
        if kind == "VARCHAR":
            values = {r[0] for r in con.execute(
                f'SELECT DISTINCT "{column}" FROM {schema}.{table}').fetchall()}  # fmt: skip
            tokens = {t for v in values if v for t in re.findall(r"[A-Za-z0-9_-]{3,}", v)}
            assert not firm_ids & tokens, (schema, table, column)


def test_central_briefs_never_show_a_projection_as_a_figure(central):
    """The packages carry the value choice (national.series_choice), so the centre's brief
    inputs blank every cell the national office's choice marks projected, as an office's
    briefs do, and keep the modelled and observed ones."""
    from pedw.briefs.inputs import load_inputs
    from pedw.federated.central_briefs import central_connection
    from pedw.store import Store

    con = central_connection(Store(central["settings"].store_dir))
    try:
        inputs = load_inputs(con)
        choice = con.execute(
            "SELECT ref_area, variable, year, status FROM marts.series_choice"
        ).df()
    finally:
        con.close()
    assert {"observed", "modelled", "projected"} <= set(choice["status"])
    cells = inputs.panel.melt(["ref_area", "year"], var_name="variable").merge(
        choice, on=["ref_area", "variable", "year"]
    )
    projected = cells[cells["status"] == "projected"]
    assert len(projected) > 0 and projected["value"].isna().all()
    kept = cells[cells["status"] != "projected"]
    assert kept["value"].notna().mean() > 0.95
