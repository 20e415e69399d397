"""An enterprise-survey sample of the demo's firm population with unequal inclusion
probabilities, and the sampling weights, strata and PSUs that undo them.

Business registers stratify by size class and turnover, and surveys oversample the large:
here every large firm is taken, and within the other classes firms with the higher half of
turnover (of their country, year and class) are taken more often than the rest. Turnover
moves with productivity, so the sample's unweighted SME means are too high, most for micro
firms: the unweighted gap against large firms is biased towards zero, and the weighted,
design-based gap (pedw.models.survey) recovers the population's gap. Firms are drawn as a
simple random sample of each stratum (at least two firms): each firm is its own PSU, its
weight the stratum's firms over its sampled firms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pedw.demo.enterprise import SIZE_BOUNDS, SIZE_NAMES

# Inclusion probability per size class: (upper half of turnover, lower half).
INCLUSION = {"large": (1.0, 1.0), "medium": (0.6, 0.3), "small": (0.4, 0.1), "micro": (0.25, 0.04)}


def size_classes(employees: pd.Series) -> pd.Series:
    """The demo's size class of each firm-year (the SIZE_BOUNDS of pedw.demo.enterprise)."""
    upper = [high for _, high in SIZE_BOUNDS]
    index = np.searchsorted(upper, employees.to_numpy(), side="left")
    return pd.Series(np.array(SIZE_NAMES)[np.minimum(index, len(SIZE_NAMES) - 1)], employees.index)


def draw_survey_sample(
    firms: pd.DataFrame, rng: np.random.Generator, inclusion: dict = INCLUSION
) -> pd.DataFrame:
    """The sampled firm-years of `firms` (the demo's firm frame), with `size_class`,
    `sampling_weight` (N_h / n_h), `stratum` (country, year, class and
    turnover half) and `psu` (the firm)."""
    frame = firms.assign(size_class=size_classes(firms["employees"]))
    cell = [frame["country"], frame["year"], frame["size_class"]]
    upper = frame["sales"] >= frame.groupby(cell)["sales"].transform("median")
    rates = pd.DataFrame(inclusion, index=["upper", "lower"]).T
    probability = np.where(
        upper,
        rates["upper"].reindex(frame["size_class"]).to_numpy(),
        rates["lower"].reindex(frame["size_class"]).to_numpy(),
    )
    stratum = (frame["country"] + ":" + frame["year"].astype(str) + ":" + frame["size_class"]
               + ":" + np.where(upper, "upper", "lower"))  # fmt: skip
    # Stratified simple random samples: n_h = the rate times N_h, at least 2 (a variance).
    population = stratum.map(stratum.value_counts())
    wanted = np.minimum(population, np.maximum(2, np.rint(probability * population)))
    order = pd.Series(rng.random(len(frame)), frame.index).groupby(stratum).rank(method="first")
    taken = (order <= wanted).to_numpy()
    frame = frame.assign(sampling_weight=(population / wanted).to_numpy(), stratum=stratum,
                         psu=frame["firm_id"])  # fmt: skip
    return frame.loc[taken].reset_index(drop=True)


def population_indicators(firms: pd.DataFrame) -> list[dict]:
    """The population's value of each firm indicator of marts.firm_indicators, per country
    and year, over every firm of the demo (what a weighted sample estimates): mean log labour
    productivity and log mean wage (firms with value added, or wage bill, above 0), and the
    shares of SMEs (the year's size class), formal, training and exporting firms."""
    frame = pd.DataFrame(
        {
            "country": firms["country"],
            "year": firms["year"],
            "log_labour_productivity": np.log(
                (firms["value_added"] / firms["employees"]).where(firms["value_added"] > 0)
            ),
            "log_mean_wage": np.log(
                (firms["wage_bill"] / firms["employees"]).where(firms["wage_bill"] > 0)
            ),
            "sme": (size_classes(firms["employees"]) != "large").astype(float),
            "formal": firms["formal"].astype(float),
            "training": firms["training"].astype(float),
            "exporter": firms["exporter"].astype(float),
        }
    )
    means = frame.groupby(["country", "year"]).mean().reset_index()
    long = means.melt(["country", "year"], var_name="indicator", value_name="value")
    return [
        {"country": c, "year": int(y), "indicator": i, "value": float(v)}
        for c, y, i, v in long.itertuples(index=False)
    ]
