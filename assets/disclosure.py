"""Disclosure control: every firm-derived figure through the rules before any public output."""

import dagster as dg

from assets.marts import enterprise_panel, firm_indicators
from assets.metadata import outputs_metadata, table_metadata
from assets.models import (
    cross_level_estimates,
    multilevel_estimates,
    resilience,
    score_estimates,
    sme_gap,
    sme_gap_estimates,
)
from assets.resources import PedwResource
from pedw.code_versions import code_version
from pedw.models.storage import read_table, write_frame

FIRM_MODELS = [multilevel_estimates, cross_level_estimates, sme_gap_estimates, score_estimates,
               resilience]  # fmt: skip


@dg.asset(
    key=["disclosure", "firm_figures"],
    deps=[enterprise_panel, firm_indicators, sme_gap, *FIRM_MODELS],
    group_name="models",
    kinds={"duckdb"},
    code_version=code_version(["pedw.disclosure.report", "pedw.marts.firm_indicators"]),
    metadata=outputs_metadata(
        "disclosure.sme_gap_cells",
        "disclosure.sme_gap_trend",
        "disclosure.effects",
        "disclosure.effect_terms",
        "disclosure.estimates",
        "disclosure.firm_indicators",
        "disclosure.audit",
    ),
    description="The firm-derived figures that may leave the warehouse: SME-gap cells and "
    "trends after primary rules on contributors and dominance of the aggregated variable, "
    "secondary suppression against differencing over years and an LP audit against "
    "bracketing by the trend, model effects with enough treated and control firms, and "
    "each term estimated from a subset of the treated firms with enough of them on its own, "
    "firm indicators (weighted means and shares per country and year) after the same rules "
    "on their contributing firms (both sides of a share); released cells, trends, indicators "
    "and firm-level model estimates perturbed by the cell-key method "
    "(noise keyed by their "
    "contributors, the same in every release for the same contributors) and rounded as "
    "shown; and the audit of every decision (docs/disclosure.md).",
)
def firm_figures(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    from pedw.disclosure.cellkey import cell_key_salt
    from pedw.disclosure.report import disclose  # scipy's LP solver: loaded here only

    store, rule = pedw.store(), pedw.disclosure_rule()
    panel = read_table(store, "marts", "enterprise_panel")
    disclosed = disclose(
        panel,
        read_table(store, "models", "sme_gap_cells"),
        read_table(store, "models", "sme_gap_trend"),
        read_table(store, "models", "estimates"),
        rule,
        cell_key_salt(store.root),
        read_table(store, "marts", "firm_indicators"),
    )
    for table, frame in [("sme_gap_cells", disclosed.cells), ("sme_gap_trend", disclosed.trends),
                         ("effects", disclosed.effects), ("effect_terms", disclosed.terms),
                         ("estimates", disclosed.estimates),
                         ("firm_indicators", disclosed.indicators), ("audit", disclosed.audit)]:  # fmt: skip
        write_frame(store, "disclosure", table, frame, context.run_id)
    outcomes = disclosed.audit.groupby(["figure", "status"]).size()
    context.log.info(f"disclosure: {outcomes.to_dict()}")
    return dg.MaterializeResult(
        metadata={
            **table_metadata(store, "disclosure", "audit"),
            "rule": rule.describe(),
            "outcomes": dg.MetadataValue.md(outcomes.rename("figures").to_markdown()),
        }
    )


DISCLOSURE_ASSETS = [firm_figures]
