"""Ground truth of the demo data-generating process (docs/demo_data.md explains each number).

The generator draws from these parameters; the model tests check that estimates recover them.
"""

from __future__ import annotations

SEED = 20261129
FIRST_YEAR, LAST_YEAR = 2000, 2023
FIRM_FIRST_YEAR, FIRM_LAST_YEAR = 2016, 2023

# National level, country i and year t (two-way fixed effects hold by construction):
#   log y_it = a_i + g_t + 0.35 log k_it + 0.40 hc_it + 0.003 open_it + 0 * hours_it + e_it
NATIONAL_PRODUCTION = {
    "log_capital_per_worker": 0.35,
    "human_capital": 0.40,
    "trade_openness": 0.003,
    "annual_hours": 0.0,
}
# Decent-work outcome_it = c_i + d_t + b * log y_it + u_it (pass-through of productivity).
NATIONAL_PASS_THROUGH = {
    "informality_rate": -15.0,  # percentage points per log point of output per worker
    "labour_income_share": 4.0,  # percentage points per log point
    "log_mean_real_earnings": 0.80,  # elasticity
    "working_poverty_rate": -10.0,  # percentage points per log point
    "fatal_injury_rate": -3.0,  # cases per 100,000 workers per log point
}

# The outcomes' country-year errors u_it are AR(1) within a country with this autocorrelation
# (stationary, same variance as iid noise): clustering by country matters, iid errors
# understate the uncertainty (tests/test_coverage.py).
NATIONAL_ERROR_AR1 = 0.7

# Sector level, country i, sector s, year t:
#   log earnings_ist = c_is + d_t + 0.6 log productivity_ist + u_ist
#   injury rate_ist  = c_is + d_t - 2.0 log productivity_ist + u_ist
SECTOR_PASS_THROUGH = {"log_mean_earnings": 0.60, "fatal_injury_rate": -2.0}

# Enterprise level, firm f in sector s of country c, year t:
#   log labour productivity = mu + u_c + v_cs + size gap(t) + drivers + 0.30 (hc_ct - 2.5)
#                             + SCORE effect + shock + 0.02 (t - 2016) + a_f + e_ft
# Realised country and sector-within-country effects are rescaled so that their
# sample variances equal these values exactly; a_f + e_ft is the firm-level residual.
VARIANCE_COMPONENTS = {"country": 0.15, "sector_within_country": 0.05, "firm": 0.30}
FIRM_EFFECT_VARIANCE = 0.298  # a_f; e_ft has the rest of the firm-level residual (0.002)
FIRM_YEAR_NOISE_VARIANCE = 0.002
FIRM_DRIVERS = {"training": 0.10, "formal": 0.15, "exporter": 0.12, "female_share": -0.05}
NATIONAL_DRIVER_IN_FIRMS = {"human_capital": 0.30}
YEAR_TREND = 0.02
# SME gap against large firms, in log points: gap(t) = level + trend * (t - 2016).
SME_GAP = {
    "micro": {"level": -0.70, "trend": -0.012},
    "small": {"level": -0.45, "trend": -0.010},
    "medium": {"level": -0.20, "trend": -0.008},
}
# Firm mean wage: log wage = w_c + 0.5 log labour productivity + 0.04 training + e.
FIRM_WAGE_ELASTICITY = 0.50
FIRM_WAGE_TRAINING = 0.04

# SCORE: staggered participation of SMEs; effect on log labour productivity by years since start.
SCORE_COHORTS = (2018, 2019, 2020, 2021)
SCORE_EFFECT_BY_EVENT_TIME = {0: 0.03, 1: 0.06, 2: 0.09, 3: 0.12}  # 0.12 from year 3 on
SCORE_SHARE_OF_SMES = 0.15

# Resilience: a 2020 shock cuts log productivity by 0.25 and log employment by 0.15 (so
# log sales by 0.40) until the firm recovers. Each year after the shock a firm that has
# not recovered does so with probability logistic(-0.6 + 0.9 training + 0.6 exporter + 0.4 formal).
SHOCK_YEAR = 2020
SHOCK_SHARE = 0.35
SHOCK_PRODUCTIVITY_DROP = 0.25
SHOCK_EMPLOYMENT_DROP = 0.15
RECOVERY_HAZARD_LOGIT = {"const": -0.6, "training": 0.9, "exporter": 0.6, "formal": 0.4}


# `pedw demo-data --score-effects heterogeneous`: effects differ by cohort and grow every
# year, effect(g, e) = slope_g * (e + 1) for e >= 0. Early cohorts gain most: a classic TWFE
# DiD then uses their growing effects as controls for later cohorts and is visibly biased,
# while the interaction-weighted estimator recovers each cohort's path.
SCORE_HETEROGENEOUS_SLOPE = {2018: 0.05, 2019: 0.035, 2020: 0.02, 2021: 0.01}
SCORE_EFFECT_KINDS = ("common", "heterogeneous")


def score_effect(event_time: int, cohort: int | None = None, kind: str = "common") -> float:
    """True SCORE effect on log labour productivity `event_time` years after the start."""
    if event_time < 0:
        return 0.0
    if kind == "heterogeneous":
        return SCORE_HETEROGENEOUS_SLOPE[cohort] * (event_time + 1)
    return SCORE_EFFECT_BY_EVENT_TIME[min(event_time, 3)]


# SCORE monitoring: every participant takes module M1 plus one or two of M2-M5; each KPI is
# measured at baseline and about a year later. The follow-up is the baseline times
# exp(effect + noise): these are the true mean log changes by module (0 where not listed).
SCORE_KPI_EFFECTS = {
    "M1": {"cooperation_score": 0.15, "productivity": 0.04, "absenteeism": -0.10},
    "M2": {"defect_rate": -0.30, "productivity": 0.06},
    "M3": {"productivity": 0.08},
    "M4": {"staff_turnover": -0.25, "absenteeism": -0.15, "monthly_wage": 0.03},
    "M5": {"accident_rate": -0.40, "absenteeism": -0.05},
}
SCORE_KPI_NOISE_SD = 0.10  # sd of the log change (0.05 for the 1-5 cooperation score)
SCORE_KPI_NOT_MEASURED_SHARE = 0.03  # follow-up cells published as "n/a"
