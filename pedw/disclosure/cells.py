"""Primary and secondary suppression of the SME-gap cells, measure by measure.

A cell's gap is the mean of its class minus the mean of the large firms of the same country
and year, so every cell is linked to the large-firm cell it shares with the other classes,
and to the same class in other years. Primary rules look at the contributors of both means;
the secondary rule stops differencing: two published years of a class whose contributors (of
the class or of its large comparison group) differ by fewer than `min_contributors` firms
could isolate those firms, so the later year is suppressed when the attack would succeed
(docs/disclosure.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pedw.disclosure.cellkey import cell_noise
from pedw.disclosure.rules import DisclosureRule

# measure -> (gap column, its standard error, log column of the panel, contributor prefix)
MEASURES = {
    "productivity": ("productivity_gap", "productivity_gap_se", "log_labour_productivity", "lp"),
    "wage": ("wage_gap", "wage_gap_se", "log_mean_wage", "wage"),
}
VARIABLE = {"lp": "labour productivity", "wage": "wage bill"}
PUBLISHED, PRIMARY, SECONDARY = "published", "primary", "secondary"


def primary_reasons(cells: pd.DataFrame, prefix: str, rule: DisclosureRule) -> pd.Series:
    """The first primary rule each cell breaks for one measure ('' when none)."""
    reasons = pd.Series("", index=cells.index, dtype=object)
    checks = []
    for side, label in (("", "its size class"), ("large_", "the large firms it is compared with")):
        contributors = cells[f"{side}{prefix}_contributors"].fillna(0)
        top1 = cells[f"{side}{prefix}_top1_share"].fillna(1.0)
        top = cells[f"{side}{prefix}_top{rule.dominance_n}_share"].fillna(1.0)
        checks.append((contributors < rule.min_contributors,
                       f"fewer than {rule.min_contributors} firms contribute to {label}"))  # fmt: skip
        checks.append((top > rule.dominance_k,
                       f"{label}: its {rule.dominance_n} largest contributors hold more than "
                       f"{rule.dominance_k:.0%} of the {VARIABLE[prefix]}"))  # fmt: skip
        if rule.p_percent is not None:
            rest = 1.0 - cells[f"{side}{prefix}_top2_share"].fillna(1.0)
            checks.append((rest < rule.p_percent / 100 * top1,
                           f"{label}: the p% rule (p = {rule.p_percent:g})"))  # fmt: skip
    for broken, reason in reversed(checks):  # the first rule listed wins
        reasons = reasons.mask(broken.to_numpy(), reason)
    return reasons


def contributor_values(panel: pd.DataFrame, log_column: str) -> dict[tuple, pd.Series]:
    """(country, year, size_class) -> the `log_column` value of each firm feeding that cell."""
    feeding = panel.loc[
        panel[log_column].notna(), ["country", "year", "size_class", "firm_id", log_column]
    ]
    return {
        key: group.set_index("firm_id")[log_column]
        for key, group in feeding.groupby(["country", "year", "size_class"], sort=False)
    }


def differencing_error(before: pd.Series, after: pd.Series) -> tuple[int, float]:
    """Firms that entered or left between two published years of a group, and how far from
    the truth an adversary who assumes the firms in both years did not change would place
    them (the summed change of those firms, per moved firm): (moved, error)."""
    common = before.index.intersection(after.index)
    entered, left = len(after) - len(common), len(before) - len(common)
    moved = entered + left
    if moved == 0:
        return 0, float("inf")
    drift = float(after.loc[common].sum() - before.loc[common].sum())
    return moved, abs(drift) / max(entered, left)


def protect_cells(cells: pd.DataFrame, panel: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """`cells` with `<measure>_status` (published, primary, secondary), `<measure>_reason`
    and `<measure>_changed` (contributors of the class or of its large comparison group that
    entered or left since the class's last published year).

    Two published years whose contributors differ by 1 to `min_contributors - 1` firms let an
    adversary difference them; the later year is suppressed when that attack would place the
    moved firms within `protection` of their true value (the firms present in both years
    barely changed relative to the large firms they are compared with, so their change does
    not mask the moved ones)."""
    result = cells.sort_values(["country", "year", "size_class"]).reset_index(drop=True)
    empty = pd.Series(dtype=float)
    for measure, (_gap, _se, log_column, prefix) in MEASURES.items():
        reasons = primary_reasons(result, prefix, rule)
        status = np.where(reasons != "", PRIMARY, PUBLISHED).astype(object)
        changed = np.full(len(result), np.nan)
        values = contributor_values(panel, log_column)
        last: dict[tuple, tuple] = {}  # (country, class) -> (year, class values, large values)
        keys = zip(result["country"], result["year"], result["size_class"], strict=True)
        for i, (country, year, size) in enumerate(keys):  # one step per cell, not per row
            if status[i] != PUBLISHED:
                continue
            mine = values.get((country, year, size), empty)
            large = values.get((country, year, "large"), empty)
            before = last.get((country, size))
            if before is not None:
                attacks = [
                    # The intruder sees gaps: n x gap is the class's values less the large
                    # mean, so what moves all firms of a country-year alike cancels out of
                    # the attack, and the error is the common firms' drift *relative* to
                    # the large firms (a raw drift overstated it: a year's shock hid nothing).
                    differencing_error(before[1] - before[2].mean(), mine - large.mean()),
                    differencing_error(before[2], large),
                ]
                changed[i] = sum(moved for moved, _ in attacks)
                exposed = [
                    (moved, error)
                    for moved, error in attacks
                    if 0 < moved < rule.min_contributors and error < rule.protection
                ]
                if exposed:
                    status[i] = SECONDARY
                    reasons.iloc[i] = (
                        f"differs from the published {before[0]} by fewer than "
                        f"{rule.min_contributors} contributing firms, which differencing the "
                        f"two years would place "
                        f"within {rule.protection:g} of their value"
                    )
                    continue
            last[(country, size)] = (year, mine, large)
        result[f"{measure}_status"] = status
        result[f"{measure}_reason"] = reasons.to_numpy()
        result[f"{measure}_changed"] = changed
    return result


KEYS = ["country", "year", "size_class"]


def contributions(panel: pd.DataFrame, log_column: str, keys: list[str] = KEYS) -> pd.DataFrame:
    """The firm-years feeding a mean of `log_column` (the value and, in a weighted survey,
    the firm's weight; 1 in an economy surveyed without weights), for the cell-key method."""
    frame = panel[list(dict.fromkeys([*keys, "firm_id", "year"]))].copy()
    frame["value"] = panel[log_column].to_numpy()
    if "sampling_weight" in panel.columns:
        weighted = panel.groupby("country")["sampling_weight"].transform(lambda w: w.notna().any())
        frame["weight"] = panel["sampling_weight"].where(weighted, 1.0).to_numpy()
    return frame[frame["value"].notna()].reset_index(drop=True)


def cell_perturbation(panel: pd.DataFrame, salt: str, rule: DisclosureRule) -> pd.DataFrame:
    """Per cell and measure, the noise of its released gap and standard error: the perturbed
    mean of the class less the perturbed mean of its large firms (each mean's noise looked up
    by its own contributors' cell key, so the large firms' noise is one and the same in the
    three gaps of a country-year), and the two means' standard-error draws."""
    out = None
    for measure, (_gap, _se, log_column, _prefix) in MEASURES.items():
        noise = cell_noise(contributions(panel, log_column), KEYS, measure, salt,
                           rule.noise_bound)  # fmt: skip
        mean = noise.set_index(KEYS)
        large = noise[noise["size_class"] == "large"].set_index(["country", "year"])
        pairs = mean.join(large[["noise", "se_noise", "noise_var"]], on=["country", "year"],
                          rsuffix="_large").reset_index()  # fmt: skip
        pairs = pairs[pairs["size_class"] != "large"]
        pairs[f"{measure}_noise"] = pairs["noise"] - pairs["noise_large"]
        pairs[f"{measure}_se_noise"] = pairs["se_noise"] + pairs["se_noise_large"]
        pairs[f"{measure}_noise_var"] = pairs["noise_var"] + pairs["noise_var_large"]
        pairs = pairs[[*KEYS, f"{measure}_noise", f"{measure}_se_noise", f"{measure}_noise_var"]]
        out = pairs if out is None else out.merge(pairs, on=KEYS, how="outer")
    return out


def released_cells(
    protected: pd.DataFrame, rule: DisclosureRule, perturbation: pd.DataFrame
) -> pd.DataFrame:
    """What may leave the warehouse: published values with their cell-key noise
    (`cell_perturbation`; standard errors with their own draw and the noise's variance),
    rounded as shown, contributor counts of published cells; every
    value, count and share of a suppressed cell blank."""
    noise = protected[KEYS].merge(perturbation.astype({"year": protected["year"].dtype}),
                                  on=KEYS, how="left")  # fmt: skip
    rows = protected[KEYS].copy()
    for measure, (gap, se, _log, prefix) in MEASURES.items():
        shown = (protected[f"{measure}_status"] == PUBLISHED).to_numpy()
        value = protected[gap] + noise[f"{measure}_noise"].to_numpy()
        error = np.sqrt(
            (protected[se] + noise[f"{measure}_se_noise"].to_numpy()) ** 2
            + noise[f"{measure}_noise_var"].to_numpy()
        )
        rows[gap] = value.round(rule.gap_decimals).where(shown)
        rows[se] = error.round(rule.gap_decimals).where(shown)
        rows[f"{measure}_contributors"] = (
            protected[f"{prefix}_contributors"].astype("Int64").where(shown)
        )
        rows[f"{measure}_status"] = protected[f"{measure}_status"]
        rows[f"{measure}_reason"] = protected[f"{measure}_reason"]
    return rows
