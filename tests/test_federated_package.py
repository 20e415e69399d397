"""`pedw package` on a published demo warehouse: no firm identifier leaves, the manifest
verifies (and refuses a tampered, incompatible or overlapping package), and the enterprise
models pooled from the package equal fe_ols on the office's microdata."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from pedw.disclosure.rules import DisclosureRule
from pedw.federated.package import (
    PackageError,
    load_packages,
    verify_package,
    write_package,
)
from pedw.federated.specs import exact_specs, model_frame
from pedw.federated.sufficient import cluster_meat, pool, pooled_coefficients
from pedw.models.absorb import fe_ols
from pedw.warehouse import connect_read_only

pytestmark = pytest.mark.slow
# The exactness checks take every country (the default rule withholds the demo's thinner
# cells: no dominance limit either); the command test runs the default rule.
LENIENT = DisclosureRule(min_contributors=1, dominance_k=1.0)


@pytest.fixture(scope="module")
def warehouse(pipeline):
    """The session's published demo warehouse (read only: packages are written elsewhere)."""
    settings, summary = pipeline
    assert summary.success, summary.failures
    return settings


@pytest.fixture(scope="module")
def microdata(warehouse):
    con = connect_read_only(warehouse.warehouse_path)
    try:
        return con.execute("SELECT * FROM marts.enterprise_panel").df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def package(warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("packages") / "office_a"
    write_package(warehouse.warehouse_path, out, "office A", warehouse.catalog_path, LENIENT)
    return out


def test_command_writes_a_package_with_the_default_rule(warehouse, tmp_path):
    out = tmp_path / "pkg"
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "package", "--warehouse",
         str(warehouse.warehouse_path), "--catalog", str(warehouse.catalog_path),
         "--out", str(out), "--producer", "office A"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "withheld by the disclosure rules" in done.stdout
    manifest = verify_package(out).manifest
    assert manifest["producer"] == "office A" and manifest["catalog"]["name"] == "demo"
    assert manifest["disclosure_rule"]["min_contributors"] == 10
    for path in (out / "statistics").glob("*.json"):
        for country in json.loads(path.read_text())["countries"]:
            assert country["n_units"] >= 10
            assert all(not 0 < n < 10 for n in country["units_per_term"].values())


def test_no_firm_identifier_in_any_package_file(package, microdata):
    firm_ids = set(microdata["firm_id"].astype(str))
    files = [p for p in package.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} == {".json", ".parquet"}
    import duckdb

    for path in files:
        text = path.read_bytes().decode("latin-1")
        assert not firm_ids & set(re.findall(r"[A-Za-z0-9_-]{3,}", text)), path
        if path.suffix == ".parquet":
            con = duckdb.connect()
            frame = con.execute(f"SELECT * FROM read_parquet('{path}')").df()
            con.close()
            assert "firm_id" not in frame.columns
            for column in frame.select_dtypes(include="object"):
                assert not firm_ids & set(frame[column].dropna().astype(str)), (path, column)


def test_manifest_lists_every_file_and_what_produced_it(package, warehouse):
    manifest = json.loads((package / "manifest.json").read_text())
    files = {str(p.relative_to(package)) for p in package.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == files - {"manifest.json"}
    con = connect_read_only(warehouse.warehouse_path)
    publication = con.execute("SELECT publication_id FROM meta.publication").fetchone()[0]
    con.close()
    assert manifest["publication_id"] == publication
    assert manifest["pedw_version"] and "enterprise_firms" in manifest["contracts"]
    assert len(manifest["economies"]) == 40


@pytest.mark.parametrize("model", [s.name for s in exact_specs()])
def test_pooled_from_package_equals_fe_ols_on_the_microdata(package, microdata, model):
    spec = next(s for s in exact_specs() if s.name == model)
    loaded = load_packages([package])[0]
    statistics = loaded.statistics(model)
    countries = sorted(s.country for s in statistics)
    assert len(countries) >= 5, f"{model}: too few countries released to compare"
    frame = model_frame(microdata)
    rows = frame[frame["country"].isin(countries)]
    meats = None
    if spec.cluster not in (None, spec.country):  # round two, at each office
        at = pooled_coefficients(statistics)
        meats = [cluster_meat(g, spec, at) for _, g in rows.groupby("country")]
    fit = pool(statistics, meats)
    ref = fe_ols(rows, spec.outcome, list(spec.regressors), [*spec.absorb, *spec.crossing],
                 spec.cluster)  # fmt: skip
    assert list(fit.params.index) == list(ref.params.index)
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-8, atol=0)
    np.testing.assert_allclose(fit.std_errors, ref.std_errors, rtol=1e-8, atol=0)
    assert (fit.n_obs, fit.df_t, fit.k_total) == (ref.n_obs, ref.df_t, ref.k_total)


@pytest.mark.parametrize("model", [s.name for s in exact_specs()])
def test_pooled_from_package_equals_the_published_single_warehouse_estimates(
    package, microdata, warehouse, model
):
    """The centre's pooled estimate is the one the office's own pipeline published."""
    spec = next(s for s in exact_specs() if s.name == model)
    statistics = load_packages([package])[0].statistics(model)
    assert len(statistics) == 40  # every economy (the lenient rule)
    meats = None
    if spec.cluster not in (None, spec.country):
        at = pooled_coefficients(statistics)
        meats = [cluster_meat(g, spec, at) for _, g in model_frame(microdata).groupby("country")]
    fit = pool(statistics, meats)
    con = connect_read_only(warehouse.warehouse_path)
    published = con.execute(
        "SELECT replace(term, 'twfe_treated_post', 'treated_post') AS term, estimate, std_error"
        " FROM models.estimates WHERE model_id = ?", [model]
    ).df().set_index("term")  # fmt: skip
    con.close()
    assert list(published.index) == list(fit.params.index)
    np.testing.assert_allclose(fit.params, published["estimate"], rtol=1e-8, atol=0)
    np.testing.assert_allclose(fit.std_errors, published["std_error"], rtol=1e-8, atol=0)


def test_a_tampered_package_is_refused(package, tmp_path):
    import shutil

    copy = tmp_path / "tampered"
    shutil.copytree(package, copy)
    target = next((copy / "statistics").glob("*.json"))
    data = json.loads(target.read_text())
    data["countries"][0]["yty"] *= 1.0001
    target.write_text(json.dumps(data))
    with pytest.raises(PackageError, match="does not match its SHA-256") as error:
        load_packages([copy])
    assert "\n" not in str(error.value)


def test_an_incompatible_or_overlapping_package_is_refused(package, tmp_path):
    import shutil

    with pytest.raises(PackageError, match=r"economy \w+ is also in"):
        load_packages([package, package])
    copy = tmp_path / "future"
    shutil.copytree(package, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["pedw_version"] = "9.0.0"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PackageError, match="incompatible with pedw"):
        verify_package(copy)
    (copy / "statistics" / "extra.json").write_text("{}")
    with pytest.raises(PackageError, match="not in the manifest"):
        verify_package(copy)
