"""An office's aggregate package, and the centre's check of one before it is pooled.

A package folder holds:

* `public/<schema.table>.parquet`: the public tier's tables (pedw.public_release's list and
  queries: firm-derived figures only as disclosure control released them), checked by
  pedw.public_release.check_public_release with the office's firm identifiers;
* `statistics/<model>.json`: per model of pedw.federated.specs, each country's sufficient
  statistics that passed the disclosure checks below, and the countries withheld with why;
* `manifest.json`: producer, pedw version, statistics format, contract and catalog
  digests, publication id, the economies covered, the rule applied, the SHA-256 of every
  other file.

No row of a firm leaves: the statistics are k x k sums over a country's firm-years.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import pedw
from pedw.disclosure.rules import DisclosureRule
from pedw.federated.specs import exact_specs, model_frame
from pedw.federated.sufficient import (
    FORMAT_VERSION,
    CountryStatistics,
    PoolingSpec,
    cluster_meat,
    country_statistics,
    dominance_share,
)
from pedw.models.absorb import InsufficientDataError, fe_ols
from pedw.public_release import check_public_release, public_queries
from pedw.settings import PROJECT_ROOT
from pedw.warehouse import connect_read_only

MANIFEST = "manifest.json"
SINGULAR = 1e-8  # smallest eigenvalue of a country fit's correlation matrix taken as full rank
PACKAGE_FORMAT = 1


class PackageError(ValueError):
    """A package the centre must not load (the message is the one line to show)."""


@dataclass(frozen=True)
class PackageSummary:
    path: Path
    economies: list[str]
    tables: dict[str, int]
    statistics: dict[str, int]  # model -> countries released
    withheld: dict[str, int]  # model -> countries withheld
    seconds: float


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def contract_digests() -> dict[str, str]:
    """Each data contract's SHA-256: the offices must have staged under the same contracts."""
    return {p.stem: sha256(p) for p in sorted((PROJECT_ROOT / "data_contracts").glob("*.yml"))}


def disclosure_problem(
    stats: CountryStatistics, rule: DisclosureRule, dominance: float | None = None
) -> str | None:
    """Why a country's statistics may not travel, or None.

    The cross-products must rest on at least `min_contributors` firms, and so must every
    term on both sides: the firms where its column is not zero and, for a column that is
    zero for some firms, those (a 0/1 column's cross-products with the outcome over its
    firms are minus those over the others, the demeaned values summing to zero). With
    `dominance` (sufficient.dominance_share at the rule's dominance_n), no column's swept
    sum of squares may be held above `dominance_k` by the rule's largest firms."""
    least = rule.min_contributors
    if stats.n_units < least:
        return f"fewer than {least} firms contribute to the statistics"
    for term, firms in stats.units_per_term.items():
        others = stats.zero_units_per_term.get(term, 0)
        if 0 < firms < least or 0 < others < least:
            return f"term {term} rests on fewer than {least} firms on one side"
    if dominance is not None and dominance > rule.dominance_k:
        return (
            f"its {rule.dominance_n} largest firms hold more than {rule.dominance_k:.0%} of a"
            " variable's within variation"
        )
    return None


def write_package(
    warehouse: str | Path,
    out: str | Path,
    producer: str,
    catalog: str | Path | None = None,
    rule: DisclosureRule | None = None,
    trend_origin: int | None = None,
    specs: list[PoolingSpec] | None = None,
) -> PackageSummary:
    """Write the package of the published `warehouse` into `out` (a new or empty folder;
    built beside it and renamed into place, so a failed package leaves nothing)."""
    started = time.perf_counter()
    rule = rule or DisclosureRule()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise PackageError(f"{out} exists and is not empty")
    building = out.with_name(f".{out.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    (building / "public").mkdir(parents=True)
    (building / "statistics").mkdir()
    try:
        con = connect_read_only(warehouse)
        try:
            publication_id, run_id = con.execute(
                "SELECT publication_id, run_id FROM meta.publication"
            ).fetchone()
            tables = _public_tables(con, building / "public", rule)
            panel = con.execute("SELECT * FROM marts.enterprise_panel").df()
        finally:
            con.close()
        firm_ids = set(panel["firm_id"].dropna().astype(str))
        check_public_release(building / "public", firm_ids, rule)
        frame = model_frame(panel, trend_origin)
        released, withheld = {}, {}
        for spec in specs or exact_specs():
            countries, refused = _model_statistics(frame, spec, rule)
            (building / "statistics" / f"{spec.name}.json").write_text(
                json.dumps(
                    {"spec": spec.to_dict(), "countries": countries, "withheld": refused}, indent=1
                ),
                encoding="utf-8",
            )
            released[spec.name], withheld[spec.name] = len(countries), len(refused)
        economies = sorted(panel["country"].dropna().astype(str).unique())
        _write_manifest(
            building, producer, catalog, publication_id, run_id, economies, rule, trend_origin
        )
        _refuse_firm_ids(building, firm_ids)
        if out.exists():
            out.rmdir()
        building.rename(out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return PackageSummary(out, economies, tables, released, withheld,
                          time.perf_counter() - started)  # fmt: skip


def _public_tables(con, folder: Path, rule: DisclosureRule) -> dict[str, int]:
    counts = {}
    for name, query in public_queries(con, rule):
        path = folder / f"{name}.parquet"
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
        counts[name] = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
    return counts


def _model_statistics(
    frame: pd.DataFrame, spec: PoolingSpec, rule: DisclosureRule
) -> tuple[list[dict], list[dict]]:
    countries, withheld = [], []
    missing = [c for c in spec.columns if c not in frame.columns]
    for country, rows in frame.groupby("country", sort=True):
        if missing:
            withheld.append({"country": country, "reason": f"no column(s) {missing}"})
            continue
        try:
            stats = country_statistics(rows, spec)
        except InsufficientDataError as error:
            withheld.append({"country": country, "reason": str(error)})
            continue
        problem = disclosure_problem(stats, rule, dominance_share(rows, spec, rule.dominance_n))
        if problem:
            withheld.append({"country": country, "reason": problem})
        else:
            countries.append({**stats.to_dict(), "country_fit": country_fit(rows, spec)})
    return countries, withheld


def country_fit(rows: pd.DataFrame, spec: PoolingSpec) -> dict | None:
    """The country's own estimate of the model, clustered by firm (for the centre's
    meta-analysis), or None when it has too few firms, every regressor drops, or the
    cluster-robust covariance is singular (as many terms as firms, or more: some
    combinations of the terms then show a standard error of zero)."""
    try:
        fit = fe_ols(rows, spec.outcome, list(spec.regressors), [*spec.absorb, *spec.crossing],
                     spec.unit)  # fmt: skip
    except InsufficientDataError:
        return None
    se = fit.std_errors.to_numpy()
    if fit.n_clusters <= len(se) or not (se > 0).all():
        return None
    correlation = fit.cov.to_numpy() / np.outer(se, se)
    if np.linalg.eigvalsh(correlation).min() < SINGULAR:
        return None
    return {"terms": list(fit.params.index), "estimate": fit.params.tolist(),
            "cov": fit.cov.to_numpy().tolist(), "df_t": fit.df_t, "vcov": fit.vcov,
            "n_obs": fit.n_obs, "n_clusters": fit.n_clusters}  # fmt: skip


def _write_manifest(folder, producer, catalog, publication_id, run_id, economies, rule,
                    trend_origin) -> None:  # fmt: skip
    catalog_entry = None
    if catalog is not None:
        path = Path(catalog)
        name = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("name", path.stem)
        catalog_entry = {"name": name, "file": path.name, "sha256": sha256(path)}
    files = {
        str(p.relative_to(folder)): sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {
        "package_format": PACKAGE_FORMAT,
        "producer": producer,
        "pedw_version": pedw.__version__,
        "statistics_format": FORMAT_VERSION,
        "contracts": contract_digests(),
        "catalog": catalog_entry,
        "publication_id": publication_id,
        "run_id": run_id,
        "economies": economies,
        "trend_origin": trend_origin,
        "disclosure_rule": {k: getattr(rule, k) for k in rule.__dataclass_fields__},
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def _refuse_firm_ids(folder: Path, firm_ids: set[str]) -> None:
    """Last guard: no firm identifier in the bytes of any JSON file of the package (Parquet
    values were checked by check_public_release)."""
    for path in folder.rglob("*.json"):
        found = firm_ids & set(re.findall(r"[A-Za-z0-9_-]{3,}", path.read_text(encoding="utf-8")))
        if found:
            raise PackageError(f"{path.name} holds firm identifier(s) {sorted(found)[:3]}")


def write_round_two(
    warehouse: str | Path,
    request: str | Path,
    out: str | Path,
    rule: DisclosureRule | None = None,
    trend_origin: int | None = None,
) -> int:
    """An office's answer to the centre's round-two request: for each model and each of
    this office's countries the request pools, the sum over its firms of the score outer
    products at the pooled coefficients (k x k). Returns the number of matrices written.

    Refuses a request for a country this office did not release under `rule` (fewer
    clusters than the rule's minimum) rather than answer it."""
    rule = rule or DisclosureRule()
    wanted = json.loads(Path(request).read_text(encoding="utf-8"))
    con = connect_read_only(warehouse)
    try:
        panel = con.execute("SELECT * FROM marts.enterprise_panel").df()
    finally:
        con.close()
    frame = model_frame(panel, trend_origin)
    answer: dict[str, list[dict]] = {}
    for model, item in sorted(wanted.items()):
        spec = PoolingSpec.from_dict(item["spec"])
        at = pd.Series(item["at"], index=item["terms"], dtype=float)
        mine = frame[frame[spec.country].isin(item["countries"])]
        for country, rows in mine.groupby(spec.country, sort=True):
            meat = cluster_meat(rows, spec, at)
            if meat.n_clusters < rule.min_contributors:
                raise PackageError(
                    f"{model}: the request pools {country}, which has fewer than "
                    f"{rule.min_contributors} firms: not answered"
                )
            answer.setdefault(model, []).append(meat.to_dict())
    Path(out).write_text(json.dumps(answer, indent=1), encoding="utf-8")
    return sum(len(v) for v in answer.values())


# --- The centre ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    path: Path
    manifest: dict

    @property
    def economies(self) -> list[str]:
        return self.manifest["economies"]

    def statistics(self, model: str) -> list[CountryStatistics]:
        return [CountryStatistics.from_dict(c) for c in self._model(model)["countries"]]

    def country_fits(self, model: str) -> dict[str, dict]:
        """Each released country's own fit (clustered by firm), where it has one."""
        return {c["country"]: c["country_fit"] for c in self._model(model)["countries"]
                if c.get("country_fit")}  # fmt: skip

    def _model(self, model: str) -> dict:
        return json.loads((self.path / "statistics" / f"{model}.json").read_text("utf-8"))


def compatible(version: str) -> bool:
    """Packages of the same major and minor pedw version pool (same estimators and specs)."""
    return version.split(".")[:2] == pedw.__version__.split(".")[:2]


def verify_package(path: str | Path) -> Package:
    """The package at `path`, or PackageError with one line: no manifest, a file missing,
    added or changed since the manifest was written, an incompatible version or format."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise PackageError(f"{path}: no {MANIFEST}: not a pedw package")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as error:
        raise PackageError(f"{path}: {MANIFEST} cannot be read ({error})") from None
    present = {str(p.relative_to(path)) for p in path.rglob("*")
               if p.is_file() and p.name != MANIFEST}  # fmt: skip
    if present - set(listed):
        raise PackageError(f"{path}: {sorted(present - set(listed))[0]} is not in the manifest")
    for name, digest in sorted(listed.items()):
        if name not in present:
            raise PackageError(f"{path}: {name} listed in the manifest is missing")
        if sha256(path / name) != digest:
            raise PackageError(f"{path}: {name} does not match its SHA-256 in the manifest")
    if manifest.get("package_format") != PACKAGE_FORMAT:
        raise PackageError(f"{path}: package format {manifest.get('package_format')!r}, "
                           f"this pedw reads {PACKAGE_FORMAT}")  # fmt: skip
    if not compatible(str(manifest.get("pedw_version", ""))) or (
        manifest.get("statistics_format") != FORMAT_VERSION
    ):
        raise PackageError(
            f"{path}: written by pedw {manifest.get('pedw_version')} (statistics format "
            f"{manifest.get('statistics_format')}), incompatible with pedw {pedw.__version__}"
        )
    return Package(path, manifest)


def load_packages(paths: list[str | Path]) -> list[Package]:
    """Verify every package and refuse a set whose economies overlap or whose contracts or
    trend origins differ (their statistics would not pool into one model)."""
    packages = [verify_package(p) for p in paths]
    check_package_set(packages)
    return packages


def check_package_set(packages: list[Package]) -> None:
    """PackageError (one line) when two packages share an economy, or a package's contracts
    or trend origin differ from the first's."""
    seen: dict[str, Path] = {}
    for package in packages:
        for economy in package.economies:
            if economy in seen:
                raise PackageError(f"{package.path}: economy {economy} is also in {seen[economy]}")
            seen[economy] = package.path
    for package in packages[1:]:
        for key in ("contracts", "trend_origin"):
            if package.manifest[key] != packages[0].manifest[key]:
                raise PackageError(f"{package.path}: {key} differ from {packages[0].path}'s")
