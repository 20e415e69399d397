"""Country-year demo data: ILOSTAT indicators, PWT drivers and WDI country metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pedw.demo import truth
from pedw.demo.countries import DEMO_COUNTRIES


@dataclass(frozen=True)
class NationalDraw:
    """Latent country-year arrays (countries x years) the sector and enterprise draws build on."""

    countries: list[str]
    years: np.ndarray
    log_output_per_worker: np.ndarray
    human_capital: np.ndarray
    employment_thousands: np.ndarray
    outcomes: dict[str, np.ndarray]  # decent-work outcomes as drawn (before rounding, gaps)


def ar1(innovations: np.ndarray, rho: float) -> np.ndarray:
    """Stationary AR(1) series along each row, with the innovations' variance, from iid draws."""
    series = np.array(innovations, dtype=float, copy=True)
    scale = np.sqrt(1 - rho**2)
    for j in range(1, series.shape[1]):  # over years (24), not rows of data
        series[:, j] = rho * series[:, j - 1] + scale * innovations[:, j]
    return series


def draw_national(
    rng: np.random.Generator, countries: Sequence[str] | None = None
) -> tuple[NationalDraw, dict[str, pd.DataFrame]]:
    """Draw the national panel and return it with one ILOSTAT-layout frame per indicator:
    for every demo economy, or for `countries` only (a smaller demo; other draws then)."""
    countries = list(DEMO_COUNTRIES) if countries is None else list(countries)
    unknown = sorted(set(countries) - set(DEMO_COUNTRIES))
    if unknown:
        raise ValueError(f"not demo economies: {', '.join(unknown)} (see pedw/demo/countries.py)")
    years = np.arange(truth.FIRST_YEAR, truth.LAST_YEAR + 1)
    n, t = len(countries), len(years)
    trend = (years - truth.FIRST_YEAR)[None, :]

    hc = rng.uniform(1.5, 3.0, (n, 1)) + 0.012 * trend + rng.normal(0, 0.02, (n, t))
    log_k = rng.uniform(9.0, 11.5, (n, 1)) + rng.uniform(0.01, 0.05, (n, 1)) * trend
    log_k = log_k + rng.normal(0, 0.05, (n, t))
    hours = rng.uniform(1800, 2300, (n, 1)) + rng.normal(0, 25, (n, t))
    openness = rng.uniform(30, 100, (n, 1)) + rng.normal(0, 5, (n, t))
    country_effect = rng.normal(5.5, 0.3, (n, 1))
    year_effect = 0.005 * trend + rng.normal(0, 0.01, (1, t))
    beta = truth.NATIONAL_PRODUCTION
    log_y = (
        country_effect
        + year_effect
        + beta["log_capital_per_worker"] * log_k
        + beta["human_capital"] * hc
        + beta["trade_openness"] * openness
        + beta["annual_hours"] * hours
        + rng.normal(0, 0.03, (n, t))
    )
    employment = np.exp(rng.uniform(7, 11, (n, 1))) * np.exp(0.015 * trend)

    dev = log_y - log_y.mean(axis=1, keepdims=True)  # keeps levels inside their ranges
    pass_through = truth.NATIONAL_PASS_THROUGH

    def outcome(level_low, level_high, slope, noise, year_slope):
        level = rng.uniform(level_low, level_high, (n, 1))
        errors = ar1(rng.normal(0, noise, (n, t)), truth.NATIONAL_ERROR_AR1)
        return level + slope * dev + year_slope * trend + errors

    informality = outcome(20, 88, pass_through["informality_rate"], 0.5, -0.10)
    labour_share = outcome(35, 60, pass_through["labour_income_share"], 0.3, 0.02)
    poverty = outcome(5, 40, pass_through["working_poverty_rate"], 0.4, -0.15)
    injuries = outcome(3, 20, pass_through["fatal_injury_rate"], 0.15, -0.02)
    log_earnings = (
        0.2 * log_y.mean(axis=1, keepdims=True)
        + np.log(0.045)
        + rng.normal(0, 0.1, (n, 1))
        + pass_through["log_mean_real_earnings"] * log_y
        + 0.003 * trend
        + rng.normal(0, 0.015, (n, t))
    )

    draw = NationalDraw(
        countries, years, log_y, hc, employment,
        outcomes={"informality_rate": informality, "labour_income_share": labour_share,
                  "working_poverty_rate": poverty, "fatal_injury_rate": injuries},
    )  # fmt: skip
    ilostat = {
        "GDP_211P_NOC_NB": _ilostat_frame(
            rng,
            countries,
            years,
            np.exp(log_y),
            "GDP_211P_NOC_NB",
            source="XA:2198",
            coverage=1.0,
            decimals=2,
            status="I",
        ),
        "EMP_2EMP_SEX_AGE_NB": _by_sex(
            rng,
            countries,
            years,
            employment,
            "EMP_2EMP_SEX_AGE_NB",
            "AGE_YTHADULT_YGE15",
            male_share=0.58,
            decimals=3,
        ),
        "SDG_0831_SEX_ECO_RT": _by_sex(
            rng,
            countries,
            years,
            informality,
            "SDG_0831_SEX_ECO_RT",
            "ECO_AGNAG_TOTAL",
            male_share=None,
            decimals=3,
            coverage=0.85,
            source="BA:15715",
        ),
        "SDG_1041_NOC_RT": _ilostat_frame(
            rng,
            countries,
            years,
            labour_share,
            "SDG_1041_NOC_RT",
            source="XA:2198",
            coverage=1.0,
            decimals=3,
            status="I",
        ),
        "SDG_0111_SEX_AGE_RT": _ilostat_frame(
            rng,
            countries,
            years,
            poverty,
            "SDG_0111_SEX_AGE_RT",
            source="XA:2198",
            coverage=0.9,
            decimals=3,
            sex="SEX_T",
            classif1="AGE_YTHADULT_YGE15",
        ),
        "EAR_4MTH_SEX_ECO_CUR_NB": _ilostat_frame(
            rng,
            countries,
            years,
            np.exp(log_earnings),
            "EAR_4MTH_SEX_ECO_CUR_NB",
            source="BA:15715",
            coverage=0.9,
            decimals=2,
            sex="SEX_T",
            classif1="ECO_AGGREGATE_TOTAL",
            classif2="CUR_TYPE_PPP",
            first_year=2005,
        ),
        "SDG_0881_SEX_MIG_RT": _ilostat_frame(
            rng,
            countries,
            years,
            injuries,
            "SDG_0881_SEX_MIG_RT",
            source="AD:1234",
            coverage=0.75,
            decimals=2,
            sex="SEX_T",
            classif1="MIG_STATUS_TOTAL",
        ),
    }
    ilostat["GDP_211P_NOC_NB"] = pd.concat(
        [ilostat["GDP_211P_NOC_NB"], _ilo_aggregates(np.exp(log_y), employment, years)],
        ignore_index=True,
    )
    pwt = _pwt_frame(countries, years, log_y, employment, hours, hc, log_k, openness)
    return draw, {"ilostat": ilostat, "pwt": pwt, "country_metadata": _country_metadata(countries)}


def _ilostat_frame(
    rng,
    countries,
    years,
    values,
    indicator,
    *,
    source,
    coverage,
    decimals,
    sex=None,
    classif1=None,
    classif2=None,
    status="",
    first_year=None,
):
    """Long ILOSTAT bulk rows (one per country-year) with random gaps and break flags."""
    n, t = values.shape
    frame = pd.DataFrame(
        {
            "ref_area": np.repeat(countries, t),
            "indicator": indicator,
            "source": source,
            "sex": sex,
            "classif1": classif1,
            "classif2": classif2,
            "time": np.tile(years, n),
            "obs_value": np.round(values.ravel(), decimals),
            "obs_status": status,
            "note_classif": "",
            "note_indicator": "",
            "note_source": "R1:3513_S3:8",
        }
    )
    keep = rng.random(len(frame)) < coverage
    if first_year is not None:
        keep &= frame["time"].to_numpy() >= first_year
    breaks = rng.random(len(frame)) < 0.01
    frame.loc[breaks, "obs_status"] = "B"
    frame = frame.loc[keep]
    return frame.drop(
        columns=[
            c
            for c, v in (("sex", sex), ("classif1", classif1), ("classif2", classif2))
            if v is None
        ]
    )


def _by_sex(
    rng,
    countries,
    years,
    total,
    indicator,
    classif1,
    *,
    male_share,
    decimals,
    coverage=1.0,
    source="XA:2198",
):
    """Total, male and female rows; male/female are shares of the total or offsets of a rate."""
    frames = []
    keep = rng.random(total.shape) < coverage
    for sex in ("SEX_T", "SEX_M", "SEX_F"):
        if sex == "SEX_T":
            values = total
        elif male_share is not None:
            values = total * (male_share if sex == "SEX_M" else 1 - male_share)
        else:
            values = np.clip(total + (-3.0 if sex == "SEX_M" else 4.0), 0, 100)
        frame = _ilostat_frame(
            rng,
            countries,
            years,
            np.where(keep, values, np.nan),
            indicator,
            source=source,
            coverage=1.0,
            decimals=decimals,
            sex=sex,
            classif1=classif1,
        )
        frames.append(frame.dropna(subset=["obs_value"]))
    return pd.concat(frames, ignore_index=True)


def _ilo_aggregates(output_per_worker, employment, years):
    """World (X01) aggregate rows, as ILOSTAT files carry them beside countries."""
    world = (output_per_worker * employment).sum(axis=0) / employment.sum(axis=0)
    return pd.DataFrame(
        {
            "ref_area": "X01",
            "indicator": "GDP_211P_NOC_NB",
            "source": "XA:2198",
            "time": years,
            "obs_value": np.round(world, 2),
            "obs_status": "I",
            "note_classif": "",
            "note_indicator": "",
            "note_source": "",
        }
    )


def _pwt_frame(countries, years, log_y, employment, hours, hc, log_k, openness):
    """Penn World Table 10 CSV layout (subset of its 52 columns, same names and units)."""
    import pycountry

    n, t = log_y.shape
    emp_millions = employment / 1000.0
    return pd.DataFrame(
        {
            "countrycode": np.repeat(countries, t),
            "country": np.repeat([pycountry.countries.get(alpha_3=c).name for c in countries], t),
            "currency_unit": "Demo currency",
            "year": np.tile(years, n),
            "rgdpo": np.round((np.exp(log_y) * emp_millions).ravel(), 3),
            "pop": np.round((emp_millions * 2.3).ravel(), 4),
            "emp": np.round(emp_millions.ravel(), 5),
            "avh": np.round(hours.ravel(), 2),
            "hc": np.round(hc.ravel(), 5),
            "rnna": np.round((np.exp(log_k) * emp_millions).ravel(), 3),
            "labsh": 0.5,
            "csh_x": np.round((openness / 200).ravel(), 5),
            "csh_m": np.round((-openness / 200).ravel(), 5),
            "i_outlier": "Regular",
        }
    )


def _country_metadata(countries: Sequence[str]) -> pd.DataFrame:
    """WDI Metadata_Country layout, with one aggregate (empty Region) as WDI has them."""
    import pycountry

    rows = [
        {
            "Country Code": code,
            "Region": region,
            "IncomeGroup": income,
            "SpecialNotes": "",
            "TableName": pycountry.countries.get(alpha_3=code).name,
        }
        for code, (region, income) in DEMO_COUNTRIES.items()
        if code in countries
    ]
    rows.append(
        {
            "Country Code": "WLD",
            "Region": "",
            "IncomeGroup": "",
            "SpecialNotes": "",
            "TableName": "World",
        }
    )
    return pd.DataFrame(rows)
