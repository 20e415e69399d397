"""Write the demo files in the real sources' layouts, a catalog for them, and truth.json."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from pedw.demo import truth
from pedw.demo.enterprise import draw_enterprise
from pedw.demo.national import draw_national
from pedw.demo.score import draw_score_monitoring, write_score_workbook
from pedw.demo.sector import draw_sector

DEFAULT_FIRMS = 50_000


def write_ilostat_csv(frame: pd.DataFrame, path: Path) -> None:
    """ILOSTAT bulk 'code' layout: UTF-8 with BOM, gzip-compressed when the name ends in .gz."""
    text = "\ufeff" + frame.to_csv(index=False, lineterminator="\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        # mtime=0 and no file name in the header: the same data gives the same bytes.
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed,
        ):
            packed.write(text.encode("utf-8"))
    else:
        path.write_text(text, encoding="utf-8", newline="")


def write_wdi_metadata(frame: pd.DataFrame, path: Path) -> None:
    """WDI Metadata_Country layout: BOM, every field quoted, CRLF, a trailing comma on each line."""
    lines = [",".join(f'"{c}"' for c in frame.columns) + ","]
    lines += [",".join(f'"{v}"' for v in row) + "," for row in frame.astype(str).to_numpy()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))


def write_enterprise_csv(frame: pd.DataFrame, path: Path) -> None:
    """Plain firm-level CSV written through Arrow (fast at millions of rows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(
        table.schema.get_field_index("score_start_year"),
        "score_start_year",
        pa.compute.cast(table["score_start_year"], pa.int32()),
    )
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))


def demo_catalog(name: str = "demo") -> dict:
    """The catalog of the files written by :func:`generate_demo_data` (paths relative to it)."""
    return {
        "name": name,
        "description": "Deterministic demo data in the layouts of ILOSTAT, PWT, WDI and a firm panel.",
        "synthetic": True,  # briefs built from it say so on every page
        "sources": [
            {
                "name": "ilostat_national",
                "level": "national",
                "format": "ilostat_csv",
                "path": "ilostat/national/*.csv.gz",
                "contract": "ilostat_observations",
            },
            {
                "name": "pwt",
                "level": "national",
                "format": "pwt",
                "path": "pwt/pwt_demo.csv",
                "contract": "pwt_drivers",
                "options": {"price_year": 2017},  # synthetic: the units of PWT 10.x
            },
            {
                "name": "wdi_country_metadata",
                "level": "national",
                "format": "wdi_country_metadata",
                "path": "wdi/Metadata_Country_demo.csv",
                "contract": "country_metadata",
            },
            {
                "name": "ilostat_sector",
                "level": "sector",
                "format": "ilostat_csv",
                "path": "ilostat/sector/*.csv.gz",
                "contract": "ilostat_observations",
            },
            {
                "name": "enterprise_panel",
                "level": "enterprise",
                "format": "enterprise_csv",
                "path": "enterprise/firms.csv",
                "contract": "enterprise_firms",
            },
            {
                "name": "score_monitoring",
                "level": "enterprise",
                "format": "score_monitoring",
                "path": "score/score_monitoring.xlsx",
                "contract": "score_monitoring",
            },
        ],
    }


def generate_demo_data(
    out_dir: str | Path,
    n_firms: int = DEFAULT_FIRMS,
    seed: int = truth.SEED,
    with_catalog: bool = True,
    score_effects: str = "common",
    survey_sample: bool = False,
    countries: Sequence[str] | None = None,
) -> dict:
    """Generate every demo file under `out_dir`; return the realised ground truth.

    With `survey_sample`, the firm file holds an unequal-probability sample of the firms with
    its sampling weights, strata and PSUs (pedw.demo.survey_sample), as an enterprise survey
    publishes it; the SCORE workbook and the truth stay those of every firm. With `countries`
    (demo economies' ISO3 codes), only those economies are drawn: a smaller demo for tests of
    operations (kills, full disks, deployments), whose claims do not depend on its size."""
    import yaml

    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    national, national_frames = draw_national(rng, countries)
    sector_frames = draw_sector(rng, national)
    firms, realised = draw_enterprise(rng, national, n_firms, score_effects)
    score_enterprises, score_kpis = draw_score_monitoring(rng, firms)

    for code, frame in national_frames["ilostat"].items():
        write_ilostat_csv(frame, out / "ilostat" / "national" / f"{code}_A.csv.gz")
    for code, frame in sector_frames.items():
        write_ilostat_csv(frame, out / "ilostat" / "sector" / f"{code}_A.csv.gz")
    pwt_path = out / "pwt" / "pwt_demo.csv"
    pwt_path.parent.mkdir(parents=True, exist_ok=True)
    pwt_path.write_text("\ufeff" + national_frames["pwt"].to_csv(index=False), encoding="utf-8")
    write_wdi_metadata(
        national_frames["country_metadata"], out / "wdi" / "Metadata_Country_demo.csv"
    )
    if survey_sample:
        from pedw.demo.survey_sample import draw_survey_sample, population_indicators

        sample = draw_survey_sample(firms, np.random.default_rng([seed, 1]))
        write_enterprise_csv(sample.drop(columns="size_class"), out / "enterprise" / "firms.csv")
    else:
        write_enterprise_csv(firms, out / "enterprise" / "firms.csv")
    write_score_workbook(
        score_enterprises, score_kpis, out / "score" / "score_monitoring.xlsx", rng
    )

    ground_truth = {
        "seed": seed,
        "national_production": truth.NATIONAL_PRODUCTION,
        "national_pass_through": truth.NATIONAL_PASS_THROUGH,
        "sector_pass_through": truth.SECTOR_PASS_THROUGH,
        "variance_components": truth.VARIANCE_COMPONENTS,
        "firm_drivers": truth.FIRM_DRIVERS,
        "national_driver_in_firms": truth.NATIONAL_DRIVER_IN_FIRMS,
        "firm_wage_elasticity": truth.FIRM_WAGE_ELASTICITY,
        "sme_gap": truth.SME_GAP,
        "score_effect_by_event_time": truth.SCORE_EFFECT_BY_EVENT_TIME,
        "score_effects": score_effects,
        # The population's firm indicators per country-year: what the weighted means and
        # shares of marts.firm_indicators estimate from the sample.
        "survey_sample": {
            "firm_years": len(sample),
            "population_indicators": population_indicators(firms),
        }
        if survey_sample
        else False,
        "score_heterogeneous_slope": truth.SCORE_HETEROGENEOUS_SLOPE,
        "national_error_ar1": truth.NATIONAL_ERROR_AR1,
        "score_kpi_effects": truth.SCORE_KPI_EFFECTS,
        "recovery_hazard_logit": truth.RECOVERY_HAZARD_LOGIT,
        "shock": {
            "year": truth.SHOCK_YEAR,
            "productivity_drop": truth.SHOCK_PRODUCTIVITY_DROP,
            "employment_drop": truth.SHOCK_EMPLOYMENT_DROP,
        },
        "realised": realised,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth.json").write_text(json.dumps(ground_truth, indent=2))
    if with_catalog:
        (out / "catalog.yml").write_text(yaml.safe_dump(demo_catalog(), sort_keys=False))
    return ground_truth
