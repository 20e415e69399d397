"""Fit time of each enterprise model at 100k and 1M firm-years, beside pyfixest / linearmodels.

Usage: python bench/enterprise_models.py [--rows 100000 1000000] [--out bench/out]

Builds the demo enterprise panel through pedw's own stages (raw, contract-checked staging,
marts) without Dagster, then times each model function of pedw.models and, where an
independent implementation exists, the same specification in pyfixest (absorbed fixed
effects) or linearmodels; prints seconds and the ratio pedw / reference.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pedw  # noqa: F401
from pedw.catalog import load_catalog
from pedw.demo.generate import generate_demo_data
from pedw.marts.enterprise_panel import write_enterprise_panel
from pedw.marts.national_panel import write_national_panel
from pedw.marts.sector_panel import write_sector_panel
from pedw.models.absorb import fe_ols
from pedw.models.enterprise import add_model_columns, cross_level_models, sme_gap_trend_models
from pedw.models.event_study import StaggeredDesign, interaction_weighted
from pedw.models.multilevel import variance_shares
from pedw.models.resilience import resilience_models
from pedw.models.score import SCORE_DESIGN, score_impact
from pedw.models.storage import read_table
from pedw.raw import raw_partitions, write_raw
from pedw.staging.contracted import stage_through_contract
from pedw.staging.series import write_series
from pedw.store import Store

FIRM_YEARS_PER_FIRM = 8 * 0.95


def build_panel(work: Path, rows: int):
    if not (work / "catalog.yml").exists():
        generate_demo_data(work, n_firms=int(rows / FIRM_YEARS_PER_FIRM))
    catalog = load_catalog(work / "catalog.yml")
    store = Store(work / "store")
    if not store.exists("marts", "enterprise_panel"):
        for level, formats, table, contract in [
            ("national", ("ilostat_csv",), "national_observations", "ilostat_observations"),
            ("national", ("pwt",), "pwt", "pwt_drivers"),
            ("national", ("wdi_country_metadata",), "country_metadata", "country_metadata"),
            ("sector", ("ilostat_csv",), "sector_observations", "ilostat_observations"),
        ]:
            write_raw(store, catalog, level, formats, table, "bench")
            staged = {"pwt": "pwt_drivers"}.get(table, table)
            stage_through_contract(store, contract, table, staged, "bench")
        write_raw(
            store,
            catalog,
            "enterprise",
            ("enterprise_csv",),
            "enterprise_firms",
            "bench",
            partitioned=True,
        )
        keys = raw_partitions(store)
        stage_through_contract(
            store,
            "enterprise_firms",
            "enterprise_firms",
            "enterprise_firms",
            "bench",
            partitions=keys,
        )
        write_series(store, "national")
        write_series(store, "sector")
        write_national_panel(store)
        write_sector_panel(store)
        write_enterprise_panel(store)
    return read_table(store, "marts", "enterprise_panel")


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def references(panel):
    """The same specifications fitted by pyfixest (absorbed FE) and linearmodels."""
    import pyfixest as pf

    frame = add_model_columns(panel)
    drivers = "training + formal + exporter + female_share + micro + small + medium"
    score = frame.assign(cohort=frame["score_start_year"].astype(float).fillna(0))
    return {
        "cross_level": lambda: pf.feols(
            f"log_labour_productivity ~ {drivers} + national_human_capital + "
            "sector_log_labour_productivity | country + year",
            data=frame,
            vcov={"CRV1": "country"},
        ),
        "sme_gap": lambda: pf.feols(
            "log_labour_productivity ~ micro + small + medium + micro_x_trend + "
            "small_x_trend + medium_x_trend + training + formal + exporter + female_share"
            " | country_year + sector",
            data=frame,
            vcov={"CRV1": "country"},
        ),
        "sun_abraham_two_way": lambda: _saturated_event_study(pf, observed_at_start(score)),
        "score_event_study": lambda: pf.feols(
            "log_labour_productivity ~ i(score_event_time, ref=-1) | firm_id + "
            "country_year + size_year",
            data=score.fillna({"score_event_time": -1}),
            vcov={"CRV1": "firm_id"},
        ),
    }


def observed_at_start(frame):
    """Never-treated firms and firms observed in their start year: pyfixest dates treatment
    by the first year a firm is observed treated, pedw by the start year; they agree here
    (tests/test_models_crosscheck.py), and pyfixest's period weights need it."""
    frame = frame.dropna(subset=["log_labour_productivity"])
    seen = frame.loc[frame["year"] == frame["score_start_year"], "firm_id"]
    return frame[frame["score_start_year"].isna() | frame["firm_id"].isin(seen)]


def _saturated_event_study(pf, frame):
    """pyfixest's own Sun-Abraham: the saturated cohort x event-time regression (unit and
    year effects), aggregated with the cohorts' shares per event time."""
    data = frame.dropna(subset=["log_labour_productivity"]).assign(
        firm=lambda f: f["firm_id"].factorize()[0], cohort=lambda f: f["cohort"].astype(int)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # beta warning
        fit = pf.event_study(data, yname="log_labour_productivity", idname="firm",
                             tname="year", gname="cohort", estimator="saturated")  # fmt: skip
        return fit.aggregate(agg="period")


def bench_one_size(panel) -> None:
    """Time every model on one panel and print a row each."""
    reference = references(panel)
    frame = add_model_columns(panel)
    drivers = ["training", "formal", "exporter", "female_share", "micro", "small", "medium"]
    gap = [
        "micro",
        "small",
        "medium",
        "micro_x_trend",
        "small_x_trend",
        "medium_x_trend",
        "training",
        "formal",
        "exporter",
        "female_share",
    ]
    design = SCORE_DESIGN
    two_way = StaggeredDesign(unit="firm_id", time="year", cohort="score_start_year")
    models = [
        (
            "cross_level",
            lambda: fe_ols(
                frame,
                "log_labour_productivity",
                [*drivers, "national_human_capital", "sector_log_labour_productivity"],
                ["country", "year"],
                "country",
            ),
            "pyfixest feols, same spec",
        ),
        (
            "sme_gap",
            lambda: fe_ols(
                frame, "log_labour_productivity", gap, ["country_year", "sector"], "country"
            ),
            "pyfixest feols, same spec",
        ),
        (
            "sun_abraham_two_way",
            lambda: interaction_weighted(
                observed_at_start(frame), "log_labour_productivity", two_way
            ),
            "pyfixest saturated event study (IW)",
        ),
        (
            "score_event_study",
            lambda: interaction_weighted(frame, "log_labour_productivity", design),
            "pyfixest TWFE event study (not IW)",
        ),
        (
            "multilevel",
            lambda: variance_shares(panel, "log_labour_productivity"),
            "none (MixedLM)",
        ),
        ("resilience", lambda: resilience_models(panel), "none"),
        (
            "all enterprise assets",
            lambda: (
                cross_level_models(panel),
                sme_gap_trend_models(panel),
                score_impact(panel),
            ),
            "none",
        ),
    ]
    for name, function, label in models:
        ours = timed(function)
        # The first pyfixest call compiles its kernels (JIT): time its second run.
        theirs = min(timed(reference[name]), timed(reference[name])) if name in reference else None

        ratio = f"{ours / theirs:6.1f}" if theirs else "     -"
        print(
            f"{len(panel):>11,} {name:<22} {ours:>8.2f} {label:<34} {theirs or 0:>7.2f} {ratio}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    print(
        f"{'firm-years':>11} {'model':<22} {'pedw s':>8} {'reference':<34} {'ref s':>7} {'ratio':>6}"
    )
    for rows in args.rows:
        panel = build_panel(args.out / f"models_{rows}", rows)
        bench_one_size(panel)


if __name__ == "__main__":
    main()
