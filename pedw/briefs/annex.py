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

from pedw.briefs.findings import cross_country_findings
from pedw.briefs.inputs import ANNEX_TABLES, table_fingerprint
from pedw.briefs.printing import template, write_atomically
from pedw.briefs.published import ANNEX, pack
from pedw.briefs.typeset import render_pdf
from pedw.digest import file_sha256
from pedw.store import Store

# Where every figure of the annex is found in the warehouse (its technical note).
ANNEX_FIGURE_TABLES = {
    "findings": "models.estimates (model_id, term); firm-level ones from disclosure.estimates "
    "(as released: perturbed and rounded)",
    "firm-level units": "disclosure.effects (as released; audit in disclosure.audit)",
}


@dataclass
class AnnexContent:
    """Everything the cross-country annex says."""

    publication_id: str
    synthetic: bool = False
    findings: list[dict] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)  # results disclosure control withheld
    fingerprints: dict[str, str] = field(default_factory=dict)
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
    return AnnexContent(
        publication_id=publication_id,
        synthetic=synthetic,
        findings=findings,
        withheld=withheld,
        fingerprints=fingerprints,
    )


def render_annex_html(content: AnnexContent) -> str:
    """The annex's HTML, in the page styles of the country briefs."""
    return template("annex.html").render(c=content, tables=ANNEX_FIGURE_TABLES)


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
