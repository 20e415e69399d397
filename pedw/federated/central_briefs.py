"""The centre's country briefs and cross-country annex (docs/federated.md), built by the
briefs' own code (pedw/briefs/) from the central store instead of an office's.

The briefs read tables by name (pedw.briefs.inputs, pedw.briefs.annex). `central_connection`
gives them a connection whose views carry those names, each over its central equivalent,
so that no firm-level figure can come from anything but the packages:

| the briefs read | at the centre |
|---|---|
| marts.national_panel, staging.series_metadata, marts.series_choice (chosen values: observed, modelled or projected, flags), marts.sector_panel, models.shift_share, national rows of models.estimates | the public tables of one office's package, the *national office* (the first by key): every office publishes them for all economies |
| disclosure.sme_gap_cells, disclosure.sme_gap_trend | each office's public `firms.*` table as its disclosure control released it (suppressed cells blank), with its office, producer and publication id |
| disclosure.estimates (firm-level rows of the annex) | federated.pooled_estimates, labelled with the packages they were pooled from |
| disclosure.effects, quality.*, raw.* | nothing: no package carries them (the sections that read them say so or are left out) |
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pedw.briefs.annex import AnnexContent, annex_content, write_annex
from pedw.briefs.build import build_briefs, index_frame
from pedw.briefs.eligibility import load_eligibility
from pedw.briefs.inputs import load_inputs
from pedw.briefs.published import unpack
from pedw.catalog import Catalog
from pedw.digest import file_sha256
from pedw.disclosure.rules import DisclosureRule
from pedw.federated.central_store import SCHEMA
from pedw.release import _switch
from pedw.store import Store, offline_connection, sql_string

# The office models' own name of a pooled term, where the pool names it otherwise (the SCORE
# TWFE's treated-and-post term is `twfe_treated_post` in models.estimates).
OFFICE_TERMS = {("score_twfe_", "treated_post"): "twfe_treated_post"}
# The brief's technical note at the centre: where each figure is read.
CENTRAL_FIGURE_TABLES = {
    "productivity": "national.panel of the national office's package, stacked in the central "
    "warehouse (filter office)",
    "scorecard": "national.panel of the national office's package",
    "shift_share": "sector.shift_share of the national office's package",
    "sme_gap": "firms.sme_gap_cells and firms.sme_gap_trend of the economy's own office's "
    "package, as that office's disclosure control released them",
    "quality": "not at the centre: the offices' quality tables do not travel",
}
# The disclosure rule as a central brief states it: the office's own decided each cell; the
# package's manifest records the rule of its statistics, which may differ.
CENTRAL_DISCLOSURE = (
    "as the economy's own office decided when it published them: its package carries the "
    "released cells and the reason for each suppressed one"
)
CENTRAL_ANNEX_TABLES = {
    "findings": "models.estimates of the national office's package (national results); "
    "firm-level ones from federated.pooled_estimates (pooled across the offices' packages)",
    "pooled models": "federated.pooled_estimates",
}


@dataclass(frozen=True)
class CentralBriefs:
    index: pd.DataFrame  # briefs.index rows: every brief and the annex, with their SHA-256
    national_office: str
    countries: list[str]


def _offices(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        f"SELECT office, producer, publication_id, economies, manifest FROM {SCHEMA}.packages "
        "ORDER BY office"
    ).df()


def central_connection(store: Store) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB whose views carry the names of the tables the briefs read, each over
    its central equivalent (the module's table). ValueError when no office is loaded."""
    con = offline_connection()
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    base = store.root / SCHEMA
    for table_dir in sorted(base.iterdir()) if base.is_dir() else []:
        if store.exists(SCHEMA, table_dir.name):
            store.attach_view(con, SCHEMA, table_dir.name)
    stored = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [SCHEMA]
    ).fetchall()}  # fmt: skip
    if "packages" not in stored:
        raise ValueError("the central store holds no office package: nothing to brief")
    offices = _offices(con)
    national = sql_string(offices["office"].iloc[0])
    views = {
        ("marts", "national_panel"): ("national__panel", f"office = {national}", ""),
        ("staging", "series_metadata"): ("national__series_metadata", f"office = {national}", ""),
        ("marts", "series_choice"): (
            "national__series_choice", f"office = {national}",
            ", value_kind AS status, true AS chosen",
        ),
        ("marts", "sector_panel"): ("sector__panel", f"office = {national}", ""),
        ("models", "shift_share"): ("sector__shift_share", f"office = {national}", ", NULL AS run_id"),
        ("models", "estimates"): (
            "models__estimates", f"office = {national} AND level <> 'enterprise'",
            ", NULL AS run_id, NULL AS input_fingerprint",
        ),
    }  # fmt: skip
    for (schema, name), (source, where, extra) in views.items():
        if source not in stored:
            continue
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(
            f"CREATE VIEW {schema}.{name} AS SELECT * EXCLUDE (office, producer, "
            f"package_digest){extra} FROM {SCHEMA}.{source} WHERE {where}"
        )
    con.execute("CREATE SCHEMA IF NOT EXISTS disclosure")
    for name in ("sme_gap_cells", "sme_gap_trend"):
        if f"firms__{name}" in stored:
            # Every office's released figures, each with its office, producer and publication.
            con.execute(
                f"CREATE VIEW disclosure.{name} AS SELECT c.* EXCLUDE (package_digest), "
                f"p.publication_id, NULL AS run_id FROM {SCHEMA}.firms__{name} c "
                f"JOIN {SCHEMA}.packages p USING (office)"
            )
    if "pooled_estimates" in stored:
        con.register("_pooled", pooled_as_estimates(con, offices))
        con.execute("CREATE VIEW disclosure.estimates AS SELECT * FROM _pooled")
    return con


def pooled_from(offices: pd.DataFrame) -> str:
    """The packages a pool comes from, in words (office, producer, publication)."""
    named = "; ".join(
        f"office {r.office}: producer {r.producer}, publication {r.publication_id}"
        for r in offices.itertuples()
    )
    return f"the packages of {len(offices)} office{'s' if len(offices) != 1 else ''} ({named})"


def pooled_as_estimates(con: duckdb.DuckDBPyConnection, offices: pd.DataFrame) -> pd.DataFrame:
    """federated.pooled_estimates as the annex reads firm-level rows of models.estimates:
    the office models' term names, level 'enterprise', the specification of the pooled
    model, and `pooled_from` naming the packages (the annex's findings say so)."""
    pooled = con.execute(
        f"SELECT * FROM {SCHEMA}.pooled_estimates WHERE term IS NOT NULL ORDER BY model_id"
    ).df()
    specs = {
        model: json.loads(text)["spec"]
        for model, text in con.execute(
            f"SELECT model_id, any_value(statistics) FROM {SCHEMA}.statistics GROUP BY model_id"
        ).fetchall()
    }
    if pooled.empty:
        return pd.DataFrame(columns=["model_id", "term", "level", "pooled_from"])

    def specification(model: str) -> str:
        spec = specs.get(model, {})
        effects = [*spec.get("absorb", []), *spec.get("crossing", [])]
        return f"{spec.get('outcome', '')} ~ {' + '.join(spec.get('regressors', []))} | " + (
            " + ".join(effects)
        )

    terms = [
        next((o for (prefix, t), o in OFFICE_TERMS.items()
              if model.startswith(prefix) and t == term), term)
        for model, term in zip(pooled["model_id"], pooled["term"], strict=True)
    ]  # fmt: skip
    return pooled.assign(
        term=terms,
        level="enterprise",
        outcome=[specs.get(m, {}).get("outcome", "") for m in pooled["model_id"]],
        specification=[specification(m) for m in pooled["model_id"]],
        n_groups=[len(str(c).split(",")) for c in pooled["countries"]],
        pooled_from=pooled_from(offices),
    )


def central_annex(
    con: duckdb.DuckDBPyConnection, publication_id: str, synthetic: bool = False
) -> AnnexContent:
    """The annex's content from the central views, with every pooled model and term."""
    content = annex_content(con, publication_id, synthetic)
    offices = _offices(con)
    pooled = con.execute(
        f"SELECT model_id, term, estimate, std_error, ci_low, ci_high, n_obs, countries, vcov, "
        f"inference_note FROM {SCHEMA}.pooled_estimates WHERE term IS NOT NULL "
        "ORDER BY model_id, term"
    ).df()
    return dataclasses.replace(
        content,
        pooled=[
            {
                **row,
                "n_obs": int(row["n_obs"]),
                "countries": len(str(row["countries"]).split(",")),
                "inference": row["inference_note"] or f"{row['vcov']}",
            }
            for row in pooled.to_dict("records")
        ],
        pooled_from=pooled_from(offices),
        figure_tables=dict(CENTRAL_ANNEX_TABLES),
    )


def build_central_briefs(
    store: Store,
    catalog: Catalog,
    out_dir: Path,
    publication_id: str,
    run_id: str,
    workers: int | None = None,
) -> CentralBriefs:
    """Write a brief for every economy of the national office's panel with enough national
    data, and the annex, into `out_dir` from the central store. Each economy's SME section
    is its own office's released cells, as that office's disclosure control decided them."""
    con = central_connection(store)
    try:
        inputs = dataclasses.replace(
            load_inputs(con),
            figure_tables=dict(CENTRAL_FIGURE_TABLES),
            disclosure_text=CENTRAL_DISCLOSURE,
        )
        eligible = load_eligibility(con)
        countries = eligible.loc[eligible["eligible"], "country"].tolist()
        offices = _offices(con)
        annex = central_annex(con, publication_id, catalog.synthetic)
    finally:
        con.close()
    # The rule is not applied here (the briefs only print it, and inputs.disclosure_text
    # replaces that): the offices applied theirs before the cells left.
    built = build_briefs(store, catalog, out_dir, countries, DisclosureRule(), publication_id,
                         workers=workers, inputs=inputs)  # fmt: skip
    index = pd.concat(
        [index_frame(built, publication_id, run_id), write_annex(annex, out_dir, run_id)],
        ignore_index=True,
    )
    return CentralBriefs(index, str(offices["office"].iloc[0]), countries)


def stored_brief_index(store: Store) -> pd.DataFrame:
    """federated.briefs as the store holds it (the last central_briefs run's index)."""
    con = offline_connection()
    try:
        glob = sql_string(store.parquet_glob(SCHEMA, "briefs"))
        return con.execute(f"SELECT * FROM read_parquet({glob})").df()
    finally:
        con.close()


def publish_central_briefs(index: pd.DataFrame, build_root: Path, briefs_link: Path) -> Path:
    """Copy every file the index names from its run's build folder (`build_root/<run id>/`),
    each checked against its SHA-256, into `<folder of briefs_link>/central_briefs/<publication
    id>/`, then point the `briefs_link` symlink at it (one rename: readers see the old
    briefs or the new ones). Older folders are removed. ValueError naming the file when one
    is missing or differs from what the build recorded."""
    publication = str(index["publication_id"].iloc[0])
    releases = briefs_link.parent / "central_briefs"
    building = releases / f".{publication}.building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for row in index.itertuples():
        for name, digest in unpack(row.files_sha256).items():
            source = build_root / row.run_id / name
            if not source.is_file() or file_sha256(source) != digest:
                shutil.rmtree(building)
                raise ValueError(f"{source}: missing or not the file its brief run recorded "
                                 f"(briefs.index row {row.country}, files_sha256)")  # fmt: skip
            shutil.copy2(source, building / name)
    final = releases / publication
    shutil.rmtree(final, ignore_errors=True)
    building.rename(final)
    if briefs_link.exists() and not briefs_link.is_symlink():
        shutil.rmtree(briefs_link)
    _switch(briefs_link, Path("central_briefs") / publication)
    for old in releases.iterdir():
        if old.name != publication and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return final
