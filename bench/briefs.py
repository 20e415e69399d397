"""Seconds per country brief, by part, against the time to query the brief's data.

Usage: python bench/briefs.py WAREHOUSE CATALOG [--countries 20] [--out bench/out/briefs]

Reads a published warehouse (for example the one `pedw run --catalog catalogs/shared_real.yml`
publishes), loads the briefs' inputs once (the baseline: what reading the data costs), then
builds the first N eligible countries' briefs in one process and prints, per brief, the time
of its content, charts, HTML and PDF (Typst), the total, and the ratio to the query time.
Times are CPU seconds of the process (the cost per brief per core: on a shared machine, wall
time also counts the other work), with the wall-clock median beside them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pedw  # noqa: F401  (telemetry off)
from pedw.briefs.build import BriefJob
from pedw.briefs.content import brief_content
from pedw.briefs.eligibility import load_eligibility
from pedw.briefs.inputs import load_inputs
from pedw.briefs.render import charts_for, data_files, render_html, render_pdf
from pedw.briefs.sources import source_releases
from pedw.catalog import load_catalog
from pedw.disclosure.rules import DisclosureRule
from pedw.warehouse import connect_read_only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse")
    parser.add_argument("catalog")
    parser.add_argument("--countries", type=int, default=20)
    parser.add_argument("--out", default="bench/out/briefs")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    con = connect_read_only(args.warehouse)
    started = time.process_time()
    inputs = load_inputs(con)
    verdict = load_eligibility(con)
    countries = verdict.loc[verdict["eligible"], "country"].tolist()
    query = time.process_time() - started
    con.close()
    catalog = load_catalog(args.catalog)
    job = BriefJob(inputs, source_releases(catalog, inputs.release_issues), catalog.synthetic,
                   out, DisclosureRule(), "bench")  # fmt: skip
    parts: dict[str, list[float]] = {"content": [], "charts": [], "html": [], "pdf": []}
    walls: list[float] = []
    chosen = countries[: args.countries]
    for country in chosen:
        started = time.perf_counter()
        t0 = time.process_time()
        content = brief_content(job.inputs, country, job.rule, "bench", job.cited, job.synthetic)
        t1 = time.process_time()
        charts = charts_for(content)
        t2 = time.process_time()
        page = render_html(content, charts, data_files(content, charts))
        t3 = time.process_time()
        render_pdf(page, out / f"{country}.pdf")
        t4 = time.process_time()
        walls.append(time.perf_counter() - started)
        for name, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            parts[name].append(seconds)
    totals = [sum(p) for p in zip(*parts.values(), strict=True)]
    print(f"warehouse {args.warehouse}: {len(countries)} economies get a brief")
    print(f"baseline: load every brief input once      {query:7.3f} s CPU")
    print(f"first brief (imports, fonts, templates)    {totals[0]:7.3f} s CPU")
    for name, seconds in parts.items():
        print(
            f"  {name:<8} median per brief              {statistics.median(seconds[1:] or seconds):7.3f} s CPU"
        )
    per_brief = statistics.median(totals[1:] or totals)
    print(f"per brief, median of {len(chosen)} (one core)        {per_brief:7.3f} s CPU")
    print(
        f"per brief, wall clock (median)             {statistics.median(walls[1:] or walls):7.3f} s"
    )
    print(f"ratio per brief / query of all inputs       {per_brief / query:7.1f}x")
    print(
        f"all {len(countries)} briefs on 2 cores (estimate)   {per_brief * len(countries) / 2:7.1f} s"
    )


if __name__ == "__main__":
    main()
