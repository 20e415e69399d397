"""Country-sector-year demo data in the ILOSTAT bulk layout by economic activity (ISIC Rev.4)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pedw.demo import truth
from pedw.demo.national import NationalDraw
from pedw.reference import ISIC4_SECTIONS

SECTIONS = list(ISIC4_SECTIONS)
# Relative log productivity of each section and its yearly employment-share drift (logit scale).
RELATIVE_PRODUCTIVITY = dict(
    zip(
        SECTIONS,
        [
            -1.0,
            1.2,
            0.3,
            1.3,
            0.5,
            0.0,
            -0.2,
            0.2,
            -0.4,
            0.9,
            1.1,
            1.4,
            0.6,
            -0.1,
            0.3,
            0.1,
            0.1,
            -0.3,
            -0.5,
            -1.3,
            0.8,
        ],
        strict=True,
    )
)
SHARE_DRIFT = dict(
    zip(
        SECTIONS,
        [
            -0.05,
            0.0,
            0.01,
            0.0,
            0.0,
            0.015,
            0.02,
            0.015,
            0.02,
            0.03,
            0.02,
            0.02,
            0.025,
            0.02,
            0.0,
            0.01,
            0.015,
            0.01,
            0.005,
            0.0,
            0.0,
        ],
        strict=True,
    )
)
BASE_SHARE_LOGIT = dict(
    zip(
        SECTIONS,
        [
            3.0,
            0.0,
            2.0,
            -1.0,
            -1.0,
            1.2,
            2.0,
            0.8,
            0.8,
            -0.3,
            -0.4,
            -1.0,
            -0.3,
            0.0,
            0.6,
            0.8,
            0.4,
            -0.6,
            0.5,
            0.0,
            -4.0,
        ],
        strict=True,
    )
)


def draw_sector(rng: np.random.Generator, national: NationalDraw) -> dict[str, pd.DataFrame]:
    """Employment, value added, earnings and injury rates by section, one frame per indicator."""
    n, t, s = len(national.countries), len(national.years), len(SECTIONS)
    trend = (national.years - truth.FIRST_YEAR)[None, :, None]
    rel = np.array([RELATIVE_PRODUCTIVITY[k] for k in SECTIONS])[None, None, :]
    drift = np.array([SHARE_DRIFT[k] for k in SECTIONS])[None, None, :]
    base = np.array([BASE_SHARE_LOGIT[k] for k in SECTIONS])[None, None, :]

    logits = base + rng.normal(0, 0.4, (n, 1, s)) + drift * trend + rng.normal(0, 0.03, (n, t, s))
    shares = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    employment = shares * national.employment_thousands[:, :, None]
    growth = rng.uniform(0.0, 0.03, (1, 1, s))
    log_p = (
        national.log_output_per_worker[:, :, None]
        + rel
        + rng.normal(0, 0.2, (n, 1, s))
        + growth * trend
        - 0.015 * trend
        + rng.normal(0, 0.03, (n, t, s))
    )
    value_added = np.exp(log_p) * employment * 1000 / 1e6  # millions of 2017 PPP $

    beta = truth.SECTOR_PASS_THROUGH
    mean_log_p = log_p.mean(axis=1, keepdims=True)
    log_earnings = (
        np.log(0.03)
        + 0.4 * mean_log_p
        + rng.normal(0, 0.1, (n, 1, s))
        + 0.003 * trend
        + beta["log_mean_earnings"] * log_p
        + rng.normal(0, 0.03, (n, t, s))
    )
    injury_base = (
        rng.uniform(3, 20, (n, 1, s)) + 6.0 * np.isin(SECTIONS, ["A", "B", "F"])[None, None, :]
    )
    injuries = (
        injury_base
        + beta["fatal_injury_rate"] * (log_p - mean_log_p)
        - 0.02 * trend
        + rng.normal(0, 0.3, (n, t, s))
    )

    def frame(values, indicator, decimals, classif2=None, coverage=1.0, with_total=False):
        rows = pd.DataFrame(
            {
                "ref_area": np.repeat(national.countries, t * s),
                "indicator": indicator,
                "source": "XA:2198",
                "sex": "SEX_T",
                "classif1": np.tile([f"ECO_ISIC4_{k}" for k in SECTIONS], n * t),
                "classif2": classif2,
                "time": np.tile(np.repeat(national.years, s), n),
                "obs_value": np.round(values.ravel(), decimals),
                "obs_status": "",
                "note_classif": "",
                "note_indicator": "",
                "note_source": "",
            }
        )
        rows = rows.loc[rng.random(len(rows)) < coverage]
        if with_total:
            total = pd.DataFrame(
                {
                    "ref_area": np.repeat(national.countries, t),
                    "indicator": indicator,
                    "source": "XA:2198",
                    "sex": "SEX_T",
                    "classif1": "ECO_ISIC4_TOTAL",
                    "classif2": classif2,
                    "time": np.tile(national.years, n),
                    "obs_value": np.round(values.sum(axis=2).ravel(), decimals),
                    "obs_status": "",
                    "note_classif": "",
                    "note_indicator": "",
                    "note_source": "",
                }
            )
            rows = pd.concat([rows, total], ignore_index=True)
        return rows if classif2 is not None else rows.drop(columns="classif2")

    return {
        "EMP_TEMP_SEX_ECO_NB": frame(employment, "EMP_TEMP_SEX_ECO_NB", 4, with_total=True),
        "GVA_CONS_ECO_NB": frame(value_added, "GVA_CONS_ECO_NB", 4, with_total=True),
        "EAR_4MTH_SEX_ECO_CUR_NB": frame(
            np.exp(log_earnings),
            "EAR_4MTH_SEX_ECO_CUR_NB",
            2,
            classif2="CUR_TYPE_PPP",
            coverage=0.9,
        ),
        "INJ_FATL_ECO_RT": frame(injuries, "INJ_FATL_ECO_RT", 3, coverage=0.8),
    }
