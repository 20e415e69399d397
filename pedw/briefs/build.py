"""Build one country's brief from the store: content, charts, HTML, PDF and an index row."""

from __future__ import annotations

import ctypes
import datetime as dt
import multiprocessing
import os
import signal
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pedw.briefs.content import BriefInputs, brief_content, load_inputs
from pedw.briefs.disclosure import DisclosureRule
from pedw.briefs.render import charts_for, render_html, render_pdf
from pedw.catalog import Catalog
from pedw.store import Store


@dataclass(frozen=True)
class BuiltBrief:
    country: str
    html: Path
    pdf: Path
    charts: int
    suppressed_cells: int
    fingerprints: dict[str, str]


def catalog_sources(catalog: Catalog) -> list[dict]:
    """Each catalog source with its files' modification dates (the release we actually read)."""
    rows = []
    for source in catalog.sources:
        files = source.files()
        dates = [
            dt.date.fromtimestamp(os.path.getmtime(f)).isoformat() for f in files if f.exists()
        ]
        rows.append(
            {
                "name": source.name,
                "format": source.format,
                "file": ", ".join(f.name for f in files[:3]) + (" ..." if len(files) > 3 else ""),
                "date": max(dates) if dates else "missing",
            }
        )
    return rows


def _write_atomically(path: Path, write) -> None:
    # A name of its own per write: two runs never write the same temporary file.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    write(temporary)
    os.replace(temporary, path)


def build_briefs(
    store: Store,
    catalog: Catalog,
    out_dir: Path,
    countries: list[str],
    rule: DisclosureRule,
    run_id: str,
    workers: int | None = None,
) -> list[BuiltBrief]:
    """Write <out_dir>/<country>.html and .pdf for each country from the store's current tables.

    `workers` processes build them (None: one per available core).
    """
    con = store.connect()
    try:
        inputs = load_inputs(con)
    finally:
        con.close()
    sources = catalog_sources(catalog)
    workers = min(workers or len(os.sched_getaffinity(0)), len(countries) // 4)
    if multiprocessing.current_process().daemon:
        workers = 1  # a daemonic process (a Celery prefork child) may not start processes
    if workers <= 1:
        return [build_brief(inputs, sources, out_dir, c, rule, run_id) for c in countries]
    # Charts and PDFs are CPU-bound: one process per core, each given the inputs once.
    shares = [countries[i::workers] for i in range(workers)]
    context = multiprocessing.get_context("spawn")  # no fork of a threaded Dagster process
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(inputs, sources, out_dir, rule, run_id),
    ) as pool:
        built = {b.country: b for share in pool.map(_build_share, shares) for b in share}
    return [built[c] for c in countries]


_WORKER: dict = {}


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the process that started it dies (a killed run
    must not leave workers writing briefs behind it)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: workers end when their queue closes
        pass


PR_SET_PDEATHSIG = 1


def _start_worker(inputs, sources, out_dir, rule, run_id) -> None:
    _die_with_parent()
    _WORKER.update(inputs=inputs, sources=sources, out_dir=out_dir, rule=rule, run_id=run_id)


def _build_share(countries: list[str]) -> list[BuiltBrief]:
    w = _WORKER
    return [
        build_brief(w["inputs"], w["sources"], w["out_dir"], c, w["rule"], w["run_id"])
        for c in countries
    ]


def build_brief(
    inputs: BriefInputs,
    sources: list[dict],
    out_dir: Path,
    country: str,
    rule: DisclosureRule,
    run_id: str,
) -> BuiltBrief:
    """One country's brief from loaded inputs."""
    content = brief_content(inputs, country, rule, run_id)
    charts = charts_for(content)
    out_dir.mkdir(parents=True, exist_ok=True)
    html, pdf = out_dir / f"{country}.html", out_dir / f"{country}.pdf"
    page = render_html(content, charts, sources)
    _write_atomically(html, lambda p: p.write_text(page, encoding="utf-8"))
    _write_atomically(pdf, lambda p: render_pdf(content, charts, p))
    suppressed = int(content.sme_gap_cells["suppressed"].sum()) if len(content.sme_gap_cells) else 0
    return BuiltBrief(country, html, pdf, len(charts), suppressed, content.fingerprints)


def index_frame(briefs: list[BuiltBrief], run_id: str) -> pd.DataFrame:
    """briefs.index rows: where each brief is (relative to the warehouse folder, as published:
    briefs/<file>, so the index holds on any machine) and which inputs made it."""
    return pd.DataFrame(
        [
            {
                "country": b.country,
                "html": f"briefs/{b.html.name}",
                "pdf": f"briefs/{b.pdf.name}",
                "charts": b.charts,
                "suppressed_cells": b.suppressed_cells,
                "input_fingerprints": ";".join(f"{k}={v}" for k, v in b.fingerprints.items()),
                "run_id": run_id,
            }
            for b in briefs
        ]
    )
