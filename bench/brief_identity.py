"""Whether a change of the brief code leaves every brief saying the same: a snapshot of every
eligible economy's brief content, chart data and HTML, saved once and compared after.

Usage:
    python bench/brief_identity.py WAREHOUSE CATALOG --save FILE     (before the change)
    python bench/brief_identity.py WAREHOUSE CATALOG --compare FILE  (after it)

Builds each brief as bench/briefs.py does (one process, the inputs loaded once): every field
of `brief_content`'s result (frames cell by cell with their dtypes, the claims and their
checks, every sentence), each chart's alt text and data, the chart-data CSV frames and the
HTML with the chart pictures cut out. Numbers are compared by their exact repr (a float that
differs in its last bit differs). The pictures are compared by hash and only counted: a
faster drawing may move a pixel without changing what the chart says. `--compare` prints
each brief and field that differs, and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import pedw  # noqa: F401  (telemetry off)
from pedw.briefs.build import BriefJob
from pedw.briefs.content import brief_content
from pedw.briefs.eligibility import load_eligibility
from pedw.briefs.inputs import load_inputs
from pedw.briefs.messages import claims_frame
from pedw.briefs.render import charts_for, data_files, render_html
from pedw.briefs.sources import source_releases
from pedw.catalog import load_catalog
from pedw.disclosure.rules import DisclosureRule
from pedw.warehouse import connect_read_only

PICTURE = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def canonical(value: object) -> str:
    """An exact, deterministic text of `value`: type names kept, floats by repr."""
    if isinstance(value, pd.DataFrame):
        columns = [f"{c}:{t}" for c, t in value.dtypes.items()]
        rows = [canonical(list(r)) for r in value.itertuples(index=False)]
        return f"DataFrame(columns={columns}, index={canonical(list(value.index))}, rows={rows})"
    if isinstance(value, pd.Series):
        return f"Series({value.dtype}, {canonical(value.to_dict())})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return f"{type(value).__name__}({canonical(fields)})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{canonical(k)}: {canonical(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return f"{type(value).__name__}[" + ", ".join(canonical(v) for v in value) + "]"
    if isinstance(value, set | frozenset):
        return "set{" + ", ".join(sorted(canonical(v) for v in value)) + "}"
    if isinstance(value, float | np.floating):
        return f"{type(value).__name__}:{'nan' if math.isnan(value) else repr(float(value))}"
    return f"{type(value).__name__}:{value!r}"


def snapshot(warehouse: str, catalog_path: str) -> dict[str, dict[str, str]]:
    """Per eligible economy: field name -> canonical text (and the pictures' hashes)."""
    con = connect_read_only(warehouse)
    inputs = load_inputs(con)
    verdict = load_eligibility(con)
    con.close()
    countries = verdict.loc[verdict["eligible"], "country"].tolist()
    catalog = load_catalog(catalog_path)
    job = BriefJob(inputs, source_releases(catalog, inputs.release_issues), catalog.synthetic,
                   Path("."), DisclosureRule(), "identity")  # fmt: skip
    briefs = {}
    for country in countries:
        content = brief_content(job.inputs, country, job.rule, "identity", job.cited, job.synthetic)
        charts = charts_for(content)
        files = data_files(content, charts)
        page = render_html(content, charts, files)
        fields = {f.name: canonical(getattr(content, f.name)) for f in dataclasses.fields(content)}
        fields["claims_frame"] = canonical(claims_frame(content, "identity"))
        for name, chart in charts.items():
            fields[f"chart {name}"] = canonical([chart.name, chart.alt, chart.data])
            fields[f"picture {name}"] = hashlib.sha256(chart.png).hexdigest()
        fields["data files"] = canonical(files)
        fields["html"] = PICTURE.sub("data:image/png;base64,PICTURE", page)
        briefs[country] = fields
    return briefs


def compare(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> int:
    """Print what differs; the number of differing fields (pictures apart)."""
    differing, pictures = 0, 0
    for country in sorted(set(before) | set(after)):
        old, new = before.get(country), after.get(country)
        if old is None or new is None:
            print(f"{country}: only {'after' if old is None else 'before'}")
            differing += 1
            continue
        for name in sorted(set(old) | set(new)):
            a, b = old.get(name), new.get(name)
            if a == b:
                continue
            if name.startswith("picture "):
                pictures += 1
                continue
            differing += 1
            a, b = a or "", b or ""
            pairs = enumerate(zip(a, b, strict=False))
            at = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
            print(f"{country} {name}: before ...{a[max(at - 60, 0) : at + 100]!r}")
            print(f"{' ' * len(country)} {name}: after  ...{b[max(at - 60, 0) : at + 100]!r}")
    charts = sum(name.startswith("picture ") for fields in before.values() for name in fields)
    print(f"{len(before)} briefs before, {len(after)} after: {differing} fields differ; "
          f"{pictures} of {charts} chart pictures differ in pixels")  # fmt: skip
    return differing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse")
    parser.add_argument("catalog")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", type=Path)
    action.add_argument("--compare", type=Path)
    args = parser.parse_args()
    briefs = snapshot(args.warehouse, args.catalog)
    if args.save:
        args.save.write_text(json.dumps(briefs), encoding="utf-8")
        print(f"{len(briefs)} briefs saved to {args.save}")
        return
    sys.exit(1 if compare(json.loads(args.compare.read_text(encoding="utf-8")), briefs) else 0)


if __name__ == "__main__":
    main()
