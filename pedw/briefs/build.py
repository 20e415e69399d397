"""Build one country's brief from the store: content, charts, HTML, PDF and an index row."""

from __future__ import annotations

import multiprocessing
import signal
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pedw.briefs.content import brief_content
from pedw.briefs.inputs import BriefInputs, load_inputs
from pedw.briefs.messages import claims_frame
from pedw.briefs.printing import write_atomically
from pedw.briefs.published import pack
from pedw.briefs.render import charts_for, data_files, render_html, render_pdf
from pedw.briefs.sources import SourceRelease, source_releases
from pedw.catalog import Catalog
from pedw.child_process import available_cores, die_with_parent
from pedw.digest import file_sha256
from pedw.disclosure.rules import DisclosureRule
from pedw.store import Store


@dataclass(frozen=True)
class BuiltBrief:
    country: str
    html: Path
    pdf: Path
    data: tuple[Path, ...]
    charts: int
    suppressed_cells: int
    key_messages: int
    fingerprints: dict[str, str]
    files_sha256: dict[str, str]  # every file written, by name
    claims: pd.DataFrame  # briefs.claims rows: every candidate key message and its checks


@dataclass(frozen=True)
class BriefJob:
    """What every brief of a run shares: inputs, citations, the rule, where to write."""

    inputs: BriefInputs
    cited: dict[str, SourceRelease]
    synthetic: bool
    out_dir: Path
    rule: DisclosureRule
    publication_id: str


def build_briefs(
    store: Store,
    catalog: Catalog,
    out_dir: Path,
    countries: list[str],
    rule: DisclosureRule,
    publication_id: str,
    workers: int | None = None,
    inputs: BriefInputs | None = None,
) -> list[BuiltBrief]:
    """Write <out_dir>/<country>.html, .pdf and the CSV data of its charts for each country
    from the store's current tables, or from `inputs` when given (the centre reads the
    central equivalents: pedw.federated.central_briefs). `workers` processes build them
    (None: one per core)."""
    if inputs is None:
        con = store.connect()
        try:
            inputs = load_inputs(con)
        finally:
            con.close()
    job = BriefJob(
        inputs,
        source_releases(catalog, inputs.release_issues),
        catalog.synthetic,
        out_dir,
        rule,
        publication_id,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = min(workers or available_cores(), len(countries) // 4)
    if multiprocessing.current_process().daemon:
        workers = 1  # a daemonic process (a Celery prefork child) may not start processes
    if workers <= 1:
        return [build_brief(job, c) for c in countries]
    # Charts and PDFs are CPU-bound: one process per core, each given the inputs once. Leaving
    # the pool (an interrupt, a failure) terminates its workers at once.
    shares = [countries[i::workers] for i in range(workers)]
    context = multiprocessing.get_context("spawn")  # no fork of a threaded Dagster process
    with context.Pool(workers, initializer=_start_worker, initargs=(job,)) as pool:
        built = {b.country: b for share in pool.map(_build_share, shares) for b in share}
    return [built[c] for c in countries]


_WORKER: dict = {}


def _start_worker(job: BriefJob) -> None:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _WORKER["job"] = job


def _build_share(countries: list[str]) -> list[BuiltBrief]:
    return [build_brief(_WORKER["job"], c) for c in countries]


def build_brief(job: BriefJob, country: str) -> BuiltBrief:
    """One country's brief: HTML, the PDF printed from it, and its charts' data as CSV."""
    content = brief_content(
        job.inputs, country, job.rule, job.publication_id, job.cited, job.synthetic
    )
    charts = charts_for(content)
    files = data_files(content, charts)
    out = job.out_dir
    for name, frame in files.items():
        write_atomically(out / name, lambda p, f=frame: f.to_csv(p, index=False))
    html, pdf = out / f"{country}.html", out / f"{country}.pdf"
    page = render_html(content, charts, files)
    write_atomically(html, lambda p: p.write_text(page, encoding="utf-8"))
    write_atomically(pdf, lambda p: render_pdf(page, p))
    written = [html, pdf, *(out / name for name in files)]
    return BuiltBrief(
        country,
        html,
        pdf,
        tuple(out / name for name in files),
        len(charts),
        content.suppressed_cells,
        len(content.key_messages),
        content.fingerprints,
        {path.name: file_sha256(path) for path in written},
        claims_frame(content, job.publication_id),
    )


def index_frame(briefs: list[BuiltBrief], publication_id: str, run_id: str) -> pd.DataFrame:
    """briefs.index rows: where each brief is (relative to the warehouse folder, as published:
    briefs/<file>, so the index holds on any machine), what it was built from, and the SHA-256
    of every file its run wrote (pedw.briefs.published checks them before publishing)."""
    return pd.DataFrame(
        [
            {
                "country": b.country,
                "html": f"briefs/{b.html.name}",
                "pdf": f"briefs/{b.pdf.name}",
                "data_files": ";".join(f"briefs/{p.name}" for p in b.data),
                "charts": b.charts,
                "key_messages": b.key_messages,
                "suppressed_cells": b.suppressed_cells,
                "input_fingerprints": pack(b.fingerprints),
                "files_sha256": pack(b.files_sha256),
                "publication_id": publication_id,
                "run_id": run_id,
            }
            for b in briefs
        ]
    )
