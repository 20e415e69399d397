"""catalogs/ilostat_online.yml against a loopback server answering like ILOSTAT, the World Bank
and GGDC: the same paths and queries, real files in the APIs' layouts (demo files in the
ILOSTAT bulk layout where the shared folder has no such dataset)."""

from __future__ import annotations

import datetime as dt
import io

import dagster as dg
import pandas as pd
import pytest
import yaml
from api_layouts import (
    ApiServer,
    gzipped,
    ilostat_toc,
    pwt_xlsx,
    wdi_country_json,
    wdi_indicator_json,
)

from pedw.settings import PROJECT_ROOT, resolve_settings
from pedw.sources.ilostat_toc import indicator_id
from pedw.warehouse import connect_read_only
from pipelines.definitions import build_definitions
from pipelines.release_sensor import ilostat_release
from pipelines.run import run_catalog

pytestmark = [pytest.mark.real_data, pytest.mark.slow]
HOSTS = ("https://rplumber.ilo.org", "https://api.worldbank.org", "https://www.rug.nl")
PWT_COLUMNS = ["countrycode", "country", "currency_unit", "year", "rgdpe", "rgdpo", "pop",
               "emp", "avh", "hc", "rnna", "csh_x", "csh_m", "labsh"]  # fmt: skip
OLD_RELEASE = "2024-06-01 09:00:00"


@pytest.fixture(scope="module")
def online(demo_dir, tmp_path_factory):
    from conftest import SHARED_REAL

    if not SHARED_REAL.is_dir():
        pytest.skip(f"real data folder {SHARED_REAL} is absent")
    catalog = yaml.safe_load((PROJECT_ROOT / "catalogs" / "ilostat_online.yml").read_text())
    folder = tmp_path_factory.mktemp("online")
    routes, datasets = {}, {}
    for source in catalog["sources"]:
        dataset = indicator_id(source.get("url"))
        if dataset:
            real = SHARED_REAL / "ilostat_bulk" / f"{dataset}.csv"
            demo = demo_dir / "ilostat" / source["level"] / f"{dataset}.csv.gz"
            routes[f"/data/indicator/?id={dataset}"] = (
                gzipped(real if real.exists() else demo),
                "application/gzip",
            )
            datasets[dataset] = OLD_RELEASE
    routes["/metadata/toc/indicator/"] = (ilostat_toc(datasets), "text/csv")
    wdi = SHARED_REAL / "wdi"
    for code in ("NY.GDP.PCAP.PP.KD", "FS.AST.PRVT.GD.ZS"):
        csv = next(wdi.glob(f"API_{code}_DS2_*.csv"))
        routes[f"/v2/country/all/indicator/{code}"] = (wdi_indicator_json(csv), "application/json")
    metadata = next(wdi.glob("Metadata_Country_*.csv"))
    routes["/v2/country"] = (wdi_country_json(metadata), "application/json")
    xlsx = pwt_xlsx(SHARED_REAL / "pwt" / "pwt101.csv", folder / "pwt1001.xlsx", PWT_COLUMNS)
    routes["/ggdc/docs/pwt1001.xlsx"] = (xlsx.read_bytes(), "application/vnd.ms-excel")
    server = ApiServer(routes)
    # The same catalog, every host pointed at the loopback server; ETD from the shared folder.
    text = (PROJECT_ROOT / "catalogs" / "ilostat_online.yml").read_text()
    for host in HOSTS:
        text = text.replace(host, server.base)
    text = text.replace(
        "../data/etd-release2021.xlsx", str(SHARED_REAL / "ggdc_etd" / "etd-release2021.xlsx")
    )
    (folder / "catalog.yml").write_text(text)
    settings = resolve_settings(folder / "catalog.yml", folder / "wh" / "pedw.duckdb")
    with dg.instance_for_test() as instance:
        first = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
        yield server, settings, instance, first
    server.close()


def test_online_catalog_builds_the_national_and_sector_marts(online):
    _server, settings, _instance, first = online
    assert first.success, first.failures + first.blocked
    con = connect_read_only(settings.warehouse_path)
    kenya = con.execute(
        "SELECT labour_income_share, human_capital, region FROM marts.national_panel "
        "WHERE ref_area = 'KEN' AND year = 2015"
    ).fetchone()
    sectors = con.execute("SELECT count(DISTINCT sector) FROM marts.sector_panel").fetchone()[0]
    snapshots = con.execute(
        "SELECT count(*) FROM quality.source_issues WHERE kind = 'refused'"
    ).fetchone()[0]
    con.close()
    assert kenya[0] is not None and 1 < kenya[1] < 5  # ILOSTAT (real SDG_1041) and PWT xlsx
    assert kenya[2] == "Sub-Saharan Africa"  # from the World Bank API country list
    assert sectors >= 12 and snapshots == 0
    snapshot_files = sorted(p.name for p in settings.snapshots_dir.glob("*/data*"))
    assert "data.csv.gz" in snapshot_files and "data.xlsx" in snapshot_files
    assert "data.json" in snapshot_files


def test_second_run_reuses_every_snapshot_and_rebuilds_nothing(online):
    server, settings, instance, _first = online
    asked = len(server.requests)
    again = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert again.success and again.rebuilt == {}
    # Each URL was asked again (conditionally) and answered 304: nothing downloaded twice.
    assert len(server.requests) > asked


def test_release_sensor_requests_a_refresh_only_for_a_newer_release(online):
    server, settings, instance, _first = online
    definitions = build_definitions(settings)
    context = dg.build_sensor_context(
        instance=instance,
        resources={"pedw": definitions.resources["pedw"]},
        definitions=definitions,
    )
    assert isinstance(ilostat_release(context), dg.SkipReason)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    toc = pd.read_csv(io.BytesIO(server.routes["/metadata/toc/indicator/"][0]), dtype=str)
    toc.loc[toc["id"] == "SDG_1041_NOC_RT_A", "last.update"] = tomorrow
    server.routes["/metadata/toc/indicator/"] = (toc.to_csv(index=False).encode(), "text/csv")
    request = ilostat_release(context)
    assert isinstance(request, dg.RunRequest)
    assert "SDG_1041_NOC_RT_A" in request.run_key
    selected = {key.to_user_string() for key in request.asset_selection}
    assert {"raw/national_observations", "marts/national_panel", "warehouse"} <= selected
    assert "raw/sector_observations" not in selected and "raw/pwt" not in selected
