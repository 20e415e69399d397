"""The centre: pool verified packages into one DuckDB file (Dagster-free; the `pedw_package`
catalog format and central assets of docs/federated.md will call these functions).

* `federated.pooled_estimates`: every exact model pooled from every package's statistics
  (CRV1 where the statistics or the offices' second-round meats allow it, else iid with the
  reason in `inference_note`);
* `federated.country_estimates`: each country's own estimate of each model, from its
  statistics alone (iid), and `federated.meta_estimates`: their DerSimonian-Laird pool;
* `federated.packages`: what each package declared; `firms.*` and `models.estimates`: the
  packages' public firm tables stacked, with the producer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as st

from pedw.federated.package import Package, load_packages
from pedw.federated.sufficient import (
    ClusterMeat,
    CountryStatistics,
    meta_analysis,
    pool,
    pooled_coefficients,
)
from pedw.models.absorb import InsufficientDataError
from pedw.store import offline_connection

STACKED = ("firms.effects", "firms.effect_terms", "firms.sme_gap_cells", "firms.sme_gap_trend",
           "firms.disclosure_outcomes", "models.estimates")  # fmt: skip


def _statistics(packages: Sequence[Package]) -> dict[str, list[CountryStatistics]]:
    models: dict[str, list[CountryStatistics]] = {}
    for package in packages:
        for path in sorted((package.path / "statistics").glob("*.json")):
            models.setdefault(path.stem, []).extend(package.statistics(path.stem))
    return models


def _rows(fit, model: str, note: str, **extra) -> list[dict]:
    table = fit.table()
    return [
        {"model_id": model, "term": r.term, "estimate": r.estimate, "std_error": r.std_error,
         "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value, "n_obs": fit.n_obs,
         "n_clusters": fit.n_clusters, "df_t": fit.df_t, "vcov": fit.vcov,
         "inference_note": note, **extra}
        for r in table.itertuples()
    ]  # fmt: skip


def round_two_coefficients(packages: Sequence[Package]) -> dict[str, pd.Series]:
    """What the centre sends back for the second round: the pooled coefficients of every
    model whose clusters are nested in the countries (each office answers with
    pedw.federated.sufficient.cluster_meat at them)."""
    return coefficients_for_round_two(_statistics(packages))


def coefficients_for_round_two(
    statistics: dict[str, list[CountryStatistics]],
) -> dict[str, pd.Series]:
    """round_two_coefficients from the statistics by model (as the central warehouse holds
    them)."""
    return {
        model: pooled_coefficients(stats)
        for model, stats in sorted(statistics.items())
        if stats and stats[0].spec.cluster not in (None, stats[0].spec.country)
    }


def write_round_two_request(packages: Sequence[Package], out: str | Path) -> int:
    """The coefficients file the centre sends the offices: per firm-clustered model its
    spec, the pooled coefficients (every kept term) and the countries pooled. Returns the
    number of models in it."""
    return write_request(_statistics(packages), out)


def write_request(statistics: dict[str, list[CountryStatistics]], out: str | Path) -> int:
    """write_round_two_request from the statistics by model."""
    request = {
        model: {"spec": statistics[model][0].spec.to_dict(), "terms": list(at.index),
                "at": at.tolist(), "countries": sorted(s.country for s in statistics[model])}
        for model, at in coefficients_for_round_two(statistics).items()
    }  # fmt: skip
    Path(out).write_text(json.dumps(request, indent=1), encoding="utf-8")
    return len(request)


def read_round_two_answers(paths: Sequence[str | Path]) -> dict[str, list[ClusterMeat]]:
    """The offices' answers (pedw.federated.package.write_round_two), merged by model."""
    meats: dict[str, list[ClusterMeat]] = {}
    for path in paths:
        answer = json.loads(Path(path).read_text(encoding="utf-8"))
        for model, items in answer.items():
            meats.setdefault(model, []).extend(ClusterMeat.from_dict(m) for m in items)
    return meats


def pooled_estimates(
    packages: Sequence[Package], meats: dict[str, list[ClusterMeat]] | None = None
) -> pd.DataFrame:
    """One row per model and term, pooled from every package's statistics."""
    return pool_models(_statistics(packages), meats)


def pool_models(
    statistics: dict[str, list[CountryStatistics]],
    meats: dict[str, list[ClusterMeat]] | None = None,
    stale_answers_ok: bool = False,
) -> pd.DataFrame:
    """One row per model and term, pooled from the statistics by model. With
    `stale_answers_ok`, round-two answers that are not at this pool's coefficients (or miss
    a country) leave the model at iid with the reason, instead of raising ValueError (the
    central pipeline: a package added after the answers were computed)."""
    rows = []
    for model, stats in sorted(statistics.items()):
        if not stats:
            continue
        spec = stats[0].spec
        countries = ",".join(sorted(s.country for s in stats))
        try:
            if spec.cluster not in (None, spec.country) and not (meats or {}).get(model):
                fit = pool(stats, vcov="iid")
                note = f"iid: CRV1 by {spec.cluster} awaits the offices' second round"
            else:
                try:
                    fit, note = pool(stats, (meats or {}).get(model)), ""
                except ValueError as error:
                    if not stale_answers_ok or isinstance(error, InsufficientDataError):
                        raise
                    fit = pool(stats, vcov="iid")
                    note = f"iid: the round-two answers do not fit this pool ({error})"
        except InsufficientDataError as error:
            rows.append({"model_id": model, "inference_note": f"not pooled: {error}"})
            continue
        rows += _rows(fit, model, note, countries=countries)
    return pd.DataFrame(rows)


def country_estimates(packages: Sequence[Package], level: float = 0.95) -> pd.DataFrame:
    """Each country's own fit of each model as its office sent it (CRV1 by firm; a
    country's design can leave a term out, e.g. a size class it has no firm of)."""
    fits = [
        (path.stem, country, fit)
        for package in packages
        for path in sorted((package.path / "statistics").glob("*.json"))
        for country, fit in sorted(package.country_fits(path.stem).items())
    ]
    return estimates_by_country(fits, level)


def estimates_by_country(
    fits: Sequence[tuple[str, str, dict]], level: float = 0.95
) -> pd.DataFrame:
    """One row per (model, country, term) of the countries' own fits (`country_fit` of the
    statistics files), with t intervals at `level`."""
    rows = []
    for model, country, fit in fits:
        se = np.sqrt(np.diag(np.asarray(fit["cov"], dtype=float)))
        t = st.t.ppf(0.5 + level / 2, fit["df_t"])
        for term, estimate, error in zip(fit["terms"], fit["estimate"], se, strict=True):
            rows.append({
                "model_id": model, "country": country, "term": term,
                "estimate": estimate, "std_error": error,
                "ci_low": estimate - t * error, "ci_high": estimate + t * error,
                "p_value": 2 * st.t.sf(abs(estimate / error), fit["df_t"]),
                "n_obs": fit["n_obs"], "n_clusters": fit["n_clusters"],
                "df_t": fit["df_t"], "vcov": fit["vcov"],
            })  # fmt: skip
    return pd.DataFrame(rows)


def meta_estimates(countries: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """DerSimonian-Laird pool of the per-country estimates, per model and term."""
    rows = []
    if countries.empty:
        return pd.DataFrame(rows)
    for (model, term), group in countries.groupby(["model_id", "term"], sort=True):
        group = group[np.isfinite(group["std_error"]) & (group["std_error"] > 0)]
        if len(group) < 2:
            continue
        m = meta_analysis(group["estimate"], group["std_error"], level)
        p = 2 * st.norm.sf(abs(m.estimate / m.std_error))
        rows.append({"model_id": model, "term": term, "estimate": m.estimate,
                     "std_error": m.std_error, "ci_low": m.ci_low, "ci_high": m.ci_high,
                     "p_value": p, "tau2": m.tau2, "q": m.q, "i2": m.i2, "countries": m.k})  # fmt: skip
    return pd.DataFrame(rows)


def write_centre(
    paths: Sequence[str | Path],
    out: str | Path,
    meats: dict[str, list[ClusterMeat]] | None = None,
) -> dict[str, int]:
    """Verify the packages (load_packages refuses a bad set in one line) and write the
    central DuckDB file `out`; returns the rows of each table."""
    packages = load_packages(list(paths))
    pooled = pooled_estimates(packages, meats)
    countries = country_estimates(packages)
    meta = meta_estimates(countries)
    declared = pd.DataFrame(
        [{"producer": p.manifest["producer"], "publication_id": p.manifest["publication_id"],
          "pedw_version": p.manifest["pedw_version"], "economies": json.dumps(p.economies),
          "path": str(p.path)} for p in packages]
    )  # fmt: skip
    out = Path(out)
    building = out.with_name(f".{out.name}.building")
    building.unlink(missing_ok=True)
    con = offline_connection(str(building))
    counts = {}
    try:
        con.execute("CREATE SCHEMA federated")
        for name, frame in (("packages", declared), ("pooled_estimates", pooled),
                            ("country_estimates", countries), ("meta_estimates", meta)):  # fmt: skip
            con.register("_frame", frame)
            con.execute(f"CREATE TABLE federated.{name} AS SELECT * FROM _frame")
            con.unregister("_frame")
            counts[f"federated.{name}"] = len(frame)
        for table in STACKED:
            parts = [
                f"SELECT '{p.manifest['producer'].replace(chr(39), chr(39) * 2)}' AS producer, *"
                f" FROM read_parquet('{p.path / 'public' / table}.parquet')"
                for p in packages
                if (p.path / "public" / f"{table}.parquet").is_file()
            ]
            if not parts:
                continue
            schema = table.split(".")[0]
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(f"CREATE TABLE {table} AS " + " UNION ALL BY NAME ".join(parts))
            counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    building.replace(out)
    return counts
