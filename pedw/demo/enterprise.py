"""Firm-year demo panel in an Enterprise-Survey-style CSV layout, with SCORE and a shock."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pedw.demo import truth
from pedw.demo.national import NationalDraw

FIRM_SECTIONS = ["C", "F", "G", "H", "I", "J", "M", "N"]
SECTION_WEIGHTS = [0.30, 0.08, 0.25, 0.07, 0.12, 0.05, 0.07, 0.06]
SIZE_NAMES = ["micro", "small", "medium", "large"]
SIZE_WEIGHTS = [0.45, 0.30, 0.17, 0.08]
SIZE_BOUNDS = [(1, 9), (10, 49), (50, 249), (250, 3000)]
SCORE_COUNTRY_SHARE = 0.4


def _rescale(effects: np.ndarray, variance: float) -> np.ndarray:
    """Centre draws and scale them so their sample variance is exactly `variance`."""
    centred = effects - effects.mean()
    return centred * np.sqrt(variance / centred.var())


def draw_enterprise(
    rng: np.random.Generator,
    national: NationalDraw,
    n_firms: int,
    score_effects: str = "common",
) -> tuple[pd.DataFrame, dict]:
    """Draw `n_firms` firms over the firm waves; return the CSV frame and realised truths.

    `score_effects` is "common" (every cohort gains the same path) or "heterogeneous"
    (cohort-specific, growing effects: see truth.SCORE_HETEROGENEOUS_SLOPE).
    """
    countries = national.countries
    n_countries = len(countries)
    years = np.arange(truth.FIRM_FIRST_YEAR, truth.FIRM_LAST_YEAR + 1)
    n_years = len(years)

    weights = rng.uniform(0.5, 1.5, n_countries)
    country = rng.choice(n_countries, n_firms, p=weights / weights.sum())
    sector = rng.choice(len(FIRM_SECTIONS), n_firms, p=SECTION_WEIGHTS)
    size = rng.choice(4, n_firms, p=SIZE_WEIGHTS)
    low = np.array([b[0] for b in SIZE_BOUNDS])[size]
    high = np.array([b[1] for b in SIZE_BOUNDS])[size]
    # Log-uniform inside the class.
    base_employees = np.clip(np.exp(rng.uniform(np.log(low), np.log(high + 1))), low, high)

    training = (rng.random(n_firms) < 0.25 + 0.15 * (size >= 2)).astype(np.int8)
    formal = (rng.random(n_firms) < 0.5 + 0.1 * size).astype(np.int8)
    exporter = (rng.random(n_firms) < 0.05 + 0.08 * size).astype(np.int8)
    female_share = rng.beta(2, 3, n_firms)

    components = truth.VARIANCE_COMPONENTS
    country_effect = _rescale(rng.normal(size=n_countries), components["country"])
    cell_effect = rng.normal(size=(n_countries, len(FIRM_SECTIONS)))
    cell_effect -= cell_effect.mean(axis=1, keepdims=True)
    cell_effect = _rescale(cell_effect, components["sector_within_country"])
    firm_effect = rng.normal(0, np.sqrt(truth.FIRM_EFFECT_VARIANCE), n_firms)
    wage_country = 0.5 * np.log(20000) + np.log(0.45) + rng.normal(0, 0.1, n_countries)

    # SCORE: SMEs in a subset of countries, lower-productivity firms more likely to enrol.
    score_countries = rng.random(n_countries) < SCORE_COUNTRY_SHARE
    eligible = (size <= 2) & score_countries[country]
    enrol_weight = np.where(firm_effect < 0, 1.5, 0.5)
    participant = eligible & (rng.random(n_firms) < truth.SCORE_SHARE_OF_SMES * enrol_weight)
    cohort = np.where(participant, rng.choice(truth.SCORE_COHORTS, n_firms), 0)

    # Shock in SHOCK_YEAR; recovery year drawn from the true discrete-time hazard.
    shocked = rng.random(n_firms) < truth.SHOCK_SHARE
    hz = truth.RECOVERY_HAZARD_LOGIT
    logit = (
        hz["const"] + hz["training"] * training + hz["exporter"] * exporter + hz["formal"] * formal
    )
    hazard = 1 / (1 + np.exp(-logit))
    recovery_year = np.full(n_firms, 9999)
    for year in range(truth.SHOCK_YEAR + 1, truth.FIRM_LAST_YEAR + 1):
        recovers = shocked & (recovery_year == 9999) & (rng.random(n_firms) < hazard)
        recovery_year[recovers] = year

    # Firm-year grid (vectorised over firms x years).
    year_grid = np.broadcast_to(years, (n_firms, n_years))
    t = year_grid - truth.FIRM_FIRST_YEAR
    year_index = np.searchsorted(national.years, years)
    hc = national.human_capital[country][:, year_index]
    gap = np.zeros((n_firms, n_years))
    for k, name in enumerate(SIZE_NAMES[:3]):
        g = truth.SME_GAP[name]
        gap[size == k] = g["level"] + g["trend"] * t[size == k]
    event_time = np.where(participant[:, None], year_grid - cohort[:, None], -1)
    if score_effects == "heterogeneous":
        slopes = pd.Series(truth.SCORE_HETEROGENEOUS_SLOPE).reindex(cohort).fillna(0).to_numpy()
        score_effect = np.where(event_time >= 0, slopes[:, None] * (event_time + 1), 0.0)
    else:
        effect_by_event_time = np.array([truth.score_effect(e) for e in range(4)])
        score_effect = np.where(
            event_time >= 0, effect_by_event_time[np.clip(event_time, 0, 3)], 0.0
        )
    hit = shocked[:, None] & (year_grid >= truth.SHOCK_YEAR) & (year_grid < recovery_year[:, None])
    drivers = truth.FIRM_DRIVERS
    log_lp = (
        np.log(20000)
        + country_effect[country][:, None]
        + cell_effect[country, sector][:, None]
        + gap
        + drivers["training"] * training[:, None]
        + drivers["formal"] * formal[:, None]
        + drivers["exporter"] * exporter[:, None]
        + drivers["female_share"] * female_share[:, None]
        + truth.NATIONAL_DRIVER_IN_FIRMS["human_capital"] * (hc - 2.5)
        + score_effect
        - truth.SHOCK_PRODUCTIVITY_DROP * hit
        + truth.YEAR_TREND * t
        + firm_effect[:, None]
        + rng.normal(0, np.sqrt(truth.FIRM_YEAR_NOISE_VARIANCE), (n_firms, n_years))
    )
    # Whole persons; constant across waves except while a shock lasts.
    employees = np.maximum(
        1, np.rint(np.rint(base_employees)[:, None] * np.exp(-truth.SHOCK_EMPLOYMENT_DROP * hit))
    )
    value_added = np.exp(log_lp) * employees
    sales = value_added / rng.uniform(0.3, 0.5, n_firms)[:, None]
    log_wage = (
        wage_country[country][:, None]
        + truth.FIRM_WAGE_ELASTICITY * log_lp
        + truth.FIRM_WAGE_TRAINING * training[:, None]
        + rng.normal(0, 0.05, (n_firms, n_years))
    )

    observed = rng.random((n_firms, n_years)) >= 0.05  # survey non-response
    firm_ids = (
        pd.Series(np.array(countries)[country])
        + "-"
        + pd.Series(np.arange(n_firms)).astype(str).str.zfill(7)
    ).to_numpy()
    frame = pd.DataFrame(
        {
            "firm_id": np.repeat(firm_ids, n_years),
            "country": np.repeat(np.array(countries)[country], n_years),
            "sector": np.repeat(np.array(FIRM_SECTIONS)[sector], n_years),
            "year": year_grid.ravel(),
            "employees": employees.ravel().astype(np.int64),
            "sales": np.round(sales.ravel(), 0),
            "value_added": np.round(value_added.ravel(), 0),
            "wage_bill": np.round((np.exp(log_wage) * employees).ravel(), 0),
            "training": np.repeat(training, n_years),
            "formal": np.repeat(formal, n_years),
            "female_share": np.round(np.repeat(female_share, n_years), 4),
            "exporter": np.repeat(exporter, n_years),
            "shock": (shocked[:, None] & (year_grid == truth.SHOCK_YEAR)).ravel().astype(np.int8),
            "score_participant": np.repeat(participant.astype(np.int8), n_years),
            "score_start_year": np.repeat(np.where(participant, cohort, np.nan), n_years),
        }
    )
    frame.loc[rng.random(len(frame)) < 0.02, "female_share"] = np.nan
    frame = frame.loc[observed.ravel()].reset_index(drop=True)

    treated_post = (event_time >= 0) & observed
    realised = {
        "n_firms": int(n_firms),
        "firm_years": len(frame),
        "score_countries": [c for c, s in zip(countries, score_countries, strict=True) if s],
        "score_participants": int(participant.sum()),
        "score_effects": score_effects,
        "score_att": float(score_effect[treated_post].mean()) if treated_post.any() else None,
        "shocked_firms": int(shocked.sum()),
        "recovered_by_last_year": int((recovery_year < 9999).sum()),
    }
    return frame, realised
