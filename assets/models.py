"""Models over the marts: national, sector and enterprise estimates in the `models` schema.

Every model asset writes its slice of models.estimates (one row per term, with its
specification, uncertainty, sample size, fit statistics and input fingerprint).
"""

import importlib

import dagster as dg
import pandas as pd

from assets.marts import enterprise_panel, national_panel, sector_panel
from assets.metadata import column_schema, outputs_metadata
from assets.resources import PedwResource
from pedw.code_versions import code_version
from pedw.models.ledger import ModelLedger
from pedw.models.storage import read_table, write_frame, write_model_ledger, write_model_outputs
from pedw.store import Store


def model_function(module: str, name: str):
    """A model function, imported when its asset runs: loading the definitions (every pedw
    command) never pays for statsmodels and scipy."""
    return getattr(importlib.import_module(module), name)


def _estimates_result(
    frame: pd.DataFrame, ledger: ModelLedger, group: str, store: Store
) -> dg.MaterializeResult:
    headline = frame[~frame["term"].str.startswith("C(")].head(12)
    status = ledger.status(frame)
    not_run = status[status["status"] != "estimated"]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "models": sorted(frame["model_id"].unique().tolist()),
            "models_not_run": dict(zip(not_run["model_id"], not_run["reason"], strict=True)),
            "excluded_or_altered": len(ledger.exclusions()),
            "estimates": dg.MetadataValue.md(
                headline[
                    ["model_id", "term", "estimate", "std_error", "ci_low", "ci_high", "n_obs"]
                ].to_markdown(index=False, floatfmt=".4g")
            ),
            "slice": f"models.estimates / {group}",
            **column_schema(store, "models", "estimates"),
        }
    )


def estimates_asset(
    group: str,
    mart: dg.AssetsDefinition,
    module: str,
    function: str,
    description: str,
    priority: int = 0,
) -> dg.AssetsDefinition:
    """An asset that fits `module.function(mart frame, ledger=...)` and writes its slices of
    models.estimates, models.status and quality.model_exclusions. Steps of a higher `priority`
    start first when a stage runs its steps side by side (the longest model first)."""

    @dg.asset(
        key=["models", group],
        deps=[mart],
        group_name="models",
        kinds={"statsmodels", "duckdb"},
        description=description,
        code_version=code_version([module]),
        metadata=outputs_metadata(f"models.estimates/{group}", f"models.status/{group}"),
        op_tags={"dagster/priority": priority},
    )
    def _model(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
        store = pedw.store()
        ledger = ModelLedger(level=group.split("_")[0])
        fit = model_function(module, function)
        frame = fit(read_table(store, "marts", mart.key.path[-1]), ledger=ledger)
        write_model_outputs(store, group, frame, ledger, context.run_id)
        context.log.info(f"models.estimates/{group}: {len(frame)} terms")
        return _estimates_result(frame, ledger, group, store)

    return _model


national_estimates = estimates_asset(
    "national",
    national_panel,
    "pedw.models.national",
    "national_models",
    "Two-way fixed-effects models (country, year; clustered by country): productivity on its "
    "drivers, decent-work outcomes on productivity, and 5-year long differences.",
)
sector_estimates = estimates_asset(
    "sector",
    sector_panel,
    "pedw.models.sector",
    "sector_pass_through",
    "Sector pass-through: sector earnings and injury rates on sector productivity | country x sector + year.",
)
multilevel_estimates = estimates_asset(
    "enterprise_multilevel",
    enterprise_panel,
    "pedw.models.multilevel",
    "multilevel_models",
    "MixedLM with country and sector-within-country random intercepts: variance shares by level.",
)
cross_level_estimates = estimates_asset(
    "enterprise_cross_level",
    enterprise_panel,
    "pedw.models.enterprise",
    "cross_level_models",
    "Firm productivity and wages on firm, sector and national drivers | country + year.",
)
sme_gap_estimates = estimates_asset(
    "enterprise_sme_gap",
    enterprise_panel,
    "pedw.models.enterprise",
    "sme_gap_trend_models",
    "SME-large gaps in productivity and wages and their yearly trend (is the gap widening?).",
)
score_estimates = estimates_asset(
    "score_impact",
    enterprise_panel,
    "pedw.models.score",
    "score_impact",
    "SCORE impact: Sun-Abraham event study and ATT beside the classic TWFE DiD.",
    priority=2,
)


@dg.asset(
    key=["models", "shift_share"],
    deps=[sector_panel],
    group_name="models",
    kinds={"duckdb"},
    code_version=code_version(["pedw.models.sector"]),
    metadata=outputs_metadata("models.shift_share", "models.status/shift_share"),
    description="Shift-share decomposition of aggregate labour-productivity growth into "
    "within-sector, static structural change and dynamic reallocation, per "
    "country over the whole span and 5-year periods (adds up exactly).",
)
def shift_share_decomposition(
    context: dg.AssetExecutionContext, pedw: PedwResource
) -> dg.MaterializeResult:
    store = pedw.store()
    ledger = ModelLedger("sector")
    shift_share = model_function("pedw.models.sector", "shift_share")
    frame = shift_share(read_table(store, "marts", "sector_panel"), ledger=ledger)
    rows = write_frame(store, "models", "shift_share", frame, context.run_id)
    status = ledger.status(frame.assign(model_id="shift_share", n_obs=len(frame),
                                        n_groups=frame["ref_area"].nunique()))  # fmt: skip
    write_model_ledger(store, "shift_share", status, ledger, context.run_id)
    exclusions = ledger.exclusions()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "countries": int(frame["ref_area"].nunique()),
            **column_schema(store, "models", "shift_share"),
            "excluded_or_altered": dg.MetadataValue.md(
                exclusions.groupby("rule").size().rename("country-periods").to_markdown()
            )
            if len(exclusions)
            else "none",
        }
    )


@dg.asset(
    key=["models", "sme_gap"],
    deps=[enterprise_panel],
    group_name="models",
    kinds={"duckdb"},
    code_version=code_version(["pedw.models.enterprise"]),
    metadata=outputs_metadata("models.sme_gap_cells", "models.sme_gap_trend"),
    op_tags={"dagster/priority": 1},  # disclosure waits for it
    description="SME-large gaps by country, year and size class (with firm counts for "
    "disclosure control) and the gap trend country by country.",
)
def sme_gap(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    store = pedw.store()
    panel = read_table(store, "marts", "enterprise_panel")
    cells_of = model_function("pedw.models.enterprise", "sme_gap_cells")
    cells = write_frame(store, "models", "sme_gap_cells", cells_of(panel), context.run_id)
    trends = model_function("pedw.models.enterprise", "sme_gap_trend_by_country")(panel)
    write_frame(store, "models", "sme_gap_trend", trends, context.run_id)
    widening = (
        int(trends.query("outcome == 'log_labour_productivity'")["widening"].sum())
        if len(trends)
        else 0
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": cells,
            "trend_rows": len(trends),
            "widening_country_size_pairs": widening,
            **column_schema(store, "models", "sme_gap_cells"),
        }
    )


@dg.asset(
    key=["models", "resilience"],
    deps=[enterprise_panel],
    group_name="models",
    kinds={"statsmodels", "duckdb"},
    code_version=code_version(["pedw.models.resilience"]),
    metadata=outputs_metadata(
        "models.estimates/enterprise_resilience", "models.resilience_by_country"
    ),
    description="Shock drops in sales, employment and productivity, time to recover, and a "
    "discrete-time hazard of recovery on firm and ecosystem drivers.",
)
def resilience(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    store = pedw.store()
    resilience_models = model_function("pedw.models.resilience", "resilience_models")
    ledger = ModelLedger("enterprise")
    estimates, summary = resilience_models(read_table(store, "marts", "enterprise_panel"), ledger)
    write_model_outputs(store, "enterprise_resilience", estimates, ledger, context.run_id)
    write_frame(store, "models", "resilience_by_country", summary, context.run_id)
    return _estimates_result(estimates, ledger, "enterprise_resilience", store)


MODEL_ASSETS = [
    national_estimates,
    sector_estimates,
    shift_share_decomposition,
    multilevel_estimates,
    cross_level_estimates,
    sme_gap_estimates,
    sme_gap,
    score_estimates,
    resilience,
]
