"""The cross-country annex: model results over all the economies in the warehouse, built once
per publication as a document of its own (HTML and the A4 PDF printed from it) beside the
country briefs, which link to it.

A result is a finding only when its 95% interval excludes no effect; otherwise it reads "no
clear association". A firm-level result is shown only as disclosure control released it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pedw.briefs.findings import cross_country_findings, unreported_models
from pedw.briefs.inputs import ANNEX_TABLES, table_fingerprint
from pedw.briefs.printing import template, write_atomically
from pedw.briefs.published import ANNEX, pack
from pedw.briefs.typeset import render_pdf
from pedw.digest import file_sha256
from pedw.store import Store, quote_identifier

# Where every figure of the annex is found in the warehouse (its technical note).
ANNEX_FIGURE_TABLES = {
    "findings": "models.estimates (model_id, term); firm-level ones from disclosure.estimates "
    "(as released: perturbed and rounded)",
    "firm-level units": "disclosure.effects (as released; audit in disclosure.audit)",
    "modelled inputs": "marts.series_choice (status of the values chosen) over each national "
    "result's sample in marts.national_panel",
}


@dataclass
class AnnexContent:
    """Everything the cross-country annex says."""

    publication_id: str
    synthetic: bool = False
    findings: list[dict] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)  # results disclosure control withheld
    unreported: list[dict] = field(default_factory=list)  # estimated models not read, and why
    fingerprints: dict[str, str] = field(default_factory=dict)
    # The centre's estimates pooled across offices, every exact model and term (empty at an
    # office): model_id, term, estimate, std_error, ci_low, ci_high, n_obs, countries,
    # inference.
    pooled: list[dict] = field(default_factory=list)
    pooled_from: str = ""  # the offices' packages they were pooled from, in words
    # Where each figure is read (the technical note); the centre's differ.
    figure_tables: dict[str, str] = field(default_factory=lambda: dict(ANNEX_FIGURE_TABLES))
    # The page title; `country_name` too, so the shared page styles print it in the footer.
    country_name: str = "Cross-country findings"

    @property
    def excluding_zero(self) -> int:
        return sum(f["excludes_zero"] for f in self.findings)


def load_annex_inputs(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """models.estimates (firm-level rows from disclosure.estimates) and disclosure.effects
    (firm-level results only as released; never
    models.*), and their fingerprints; empty frames for a table the catalog does not build."""
    built = {
        (schema, name)
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }
    # Firm-level rows only as disclosure control released them (perturbed, rounded): the
    # annex is a public document.
    released = ("disclosure", "estimates") in built
    estimates = (
        con.execute(
            "SELECT * FROM models.estimates WHERE level <> 'enterprise'"
            + (" UNION ALL BY NAME SELECT * FROM disclosure.estimates" if released else "")
        ).df()
        if ("models", "estimates") in built
        else pd.DataFrame()
    )
    effects = (
        con.execute("SELECT * EXCLUDE (run_id) FROM disclosure.effects").df()
        if ("disclosure", "effects") in built
        else pd.DataFrame()
    )
    fingerprints = {
        f"{schema}.{name}": table_fingerprint(con, schema, name)
        for schema, name in ANNEX_TABLES
        if (schema, name) in built
    }
    return estimates, effects, fingerprints


def annex_content(
    con: duckdb.DuckDBPyConnection, publication_id: str, synthetic: bool = False
) -> AnnexContent:
    """The annex of one publication, from the store's current tables."""
    estimates, effects, fingerprints = load_annex_inputs(con)
    findings, withheld = cross_country_findings(estimates, effects)
    for finding in findings:
        finding["modelled"] = "" if finding["firms"] else modelled_inputs(con, finding)
    return AnnexContent(
        publication_id=publication_id,
        synthetic=synthetic,
        findings=findings,
        withheld=withheld,
        unreported=unreported_models(estimates, {f["model_id"] for f in findings}),
        fingerprints=fingerprints,
    )


# Above this share of modelled values in its estimation sample a variable is named a
# modelled input of the result.
MODELLED_SHARE = 0.5


def modelled_inputs(con: duckdb.DuckDBPyConnection, finding: dict) -> str:
    """Which of a national result's outcome and regressor are mostly modelled estimates in its
    estimation sample (marts.series_choice status of the values chosen), as a sentence; a
    relation between two modelled series partly reflects the model that made them. Empty
    when neither is, or the tables are not built."""
    built = {
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }
    if not {"marts.series_choice", "marts.national_panel"} <= built:
        return ""
    columns = {r[0] for r in con.execute("DESCRIBE marts.national_panel").fetchall()}
    variables = [finding["outcome"], finding["term"].removeprefix("log_")]
    needed = [finding["outcome"], finding["term"], "human_capital"]
    if not all(v in columns for v in [*variables, *needed]):
        return ""
    present = " AND ".join(f"{quote_identifier(c)} IS NOT NULL" for c in needed)
    shares = dict(
        con.execute(
            "SELECT c.variable, avg(CASE WHEN c.status = 'modelled' THEN 1 ELSE 0 END) "
            "FROM marts.series_choice c JOIN (SELECT ref_area, year FROM marts.national_panel "
            f"WHERE {present}) s USING (ref_area, year) "
            "WHERE c.chosen AND c.variable IN (SELECT unnest($variables)) GROUP BY c.variable",
            {"variables": variables},
        ).fetchall()
    )
    modelled = [
        f"{v.replace('_', ' ')} ({100 * shares[v]:.0f}% of the values in its sample)"
        for v in variables
        if shares.get(v, 0) > MODELLED_SHARE
    ]
    if not modelled:
        return ""
    if len(modelled) == len(variables):
        return (
            f"Both {' and '.join(modelled)} are mostly modelled estimates, not survey values: "
            "the relation between them partly reflects the models that produced them."
        )
    return (
        f"{modelled[0][0].upper()}{modelled[0][1:]} is mostly modelled estimates, not survey "
        "values."
    )


def render_annex_html(content: AnnexContent) -> str:
    """The annex's HTML, in the page styles of the country briefs."""
    return template("annex.html").render(c=content, tables=content.figure_tables)


def build_annex(
    store: Store, out_dir: Path, publication_id: str, run_id: str, synthetic: bool = False
) -> pd.DataFrame:
    """Write <out_dir>/cross_country.html and the PDF printed from it, from the store's
    current tables; returns its briefs.index row (files relative to the warehouse folder, as
    published, with their SHA-256 and the fingerprints of the tables it read)."""
    con = store.connect()
    try:
        content = annex_content(con, publication_id, synthetic)
    finally:
        con.close()
    return write_annex(content, out_dir, run_id)


def write_annex(content: AnnexContent, out_dir: Path, run_id: str) -> pd.DataFrame:
    """Write the annex's HTML and PDF into `out_dir`; returns its briefs.index row."""
    publication_id = content.publication_id
    out_dir.mkdir(parents=True, exist_ok=True)
    html, pdf = out_dir / f"{ANNEX}.html", out_dir / f"{ANNEX}.pdf"
    page = render_annex_html(content)
    write_atomically(html, lambda p: p.write_text(page, encoding="utf-8"))
    write_atomically(pdf, lambda p: render_pdf(page, p))
    return pd.DataFrame(
        [
            {
                "country": ANNEX,
                "html": f"briefs/{html.name}",
                "pdf": f"briefs/{pdf.name}",
                "data_files": "",
                "charts": 0,
                "key_messages": 0,
                "suppressed_cells": 0,
                "input_fingerprints": pack(content.fingerprints),
                "files_sha256": pack({p.name: file_sha256(p) for p in (html, pdf)}),
                "publication_id": publication_id,
                "run_id": run_id,
            }
        ]
    )
