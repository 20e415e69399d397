"""The intruder suite (issue #31): an adversary who holds only public releases tries to recover
a single firm's value, on a small planted demo. Each attack runs first on the unprotected
values (to show it is real: it recovers the firm exactly) and then on what disclosure control
releases, where it must not place any firm within the protection of docs/disclosure.md
(`DisclosureRule.protection`, 0.1 log units).

The demo: `generate_demo_data` with 1,500 firms, the 996 observed every year kept, their 40
economies folded into 5 so that its cells are small but publishable (10-94 firms). Releases
are built by `disclose`, the function the `disclosure/firm_figures` asset runs, with one fixed store secret; a second publication is
the same panel with planted changes (revised values, late responses).
"""

from __future__ import annotations

import re
from itertools import pairwise

import duckdb
import numpy as np
import pandas as pd
import pytest

from pedw.demo.generate import generate_demo_data
from pedw.disclosure.cellkey import perturbation_table
from pedw.disclosure.cells import cell_perturbation
from pedw.disclosure.report import disclose
from pedw.disclosure.rules import DisclosureRule
from pedw.disclosure.trends import trend_perturbation
from pedw.models.enterprise import sme_gap_cells, sme_gap_trend_by_country
from pedw.models.score import score_impact
from pedw.public_release import PUBLIC_TABLES
from pedw.reference import size_class_sql

RULE = DisclosureRule()
SALT = "intruder-suite-" + "5" * 49  # the store's secret: fixed, as in a real store
ECONOMIES = 5
KEYS = ["country", "year", "size_class"]
# Of many independent attacks, the share the noise leaves within the protection by chance
# (docs/disclosure.md, "Consistent perturbation": about 5% at noise_bound 2; the intruder
# cannot tell which they are). The suite allows twice that before it calls the noise broken.
CHANCE = 0.10


def build_panel(root) -> pd.DataFrame:
    """marts.enterprise_panel's firm columns from the demo firm file (the mart's SQL without
    the national and sector context, which disclosure does not read)."""
    sql = f"""
        WITH firms AS (SELECT * FROM read_csv('{root}/enterprise/firms.csv')),
        baseline AS (SELECT firm_id, arg_min(employees, year) AS employees0
                     FROM firms GROUP BY firm_id)
        SELECT f.firm_id, f.country, f.sector, f.year, {size_class_sql("b.employees0")} AS size_class,
               f.employees, f.value_added, f.wage_bill,
               f.value_added / f.employees AS labour_productivity,
               CASE WHEN f.value_added > 0 THEN ln(f.value_added / f.employees) END
                   AS log_labour_productivity,
               CASE WHEN f.wage_bill > 0 THEN ln(f.wage_bill / f.employees) END AS log_mean_wage,
               CASE WHEN f.sales > 0 THEN ln(f.sales) END AS log_sales,
               ln(f.employees) AS log_employees, f.training, f.formal, f.female_share,
               f.exporter, f.shock, f.score_participant, f.score_start_year,
               f.year - f.score_start_year AS score_event_time
        FROM firms f JOIN baseline b USING (firm_id) ORDER BY f.country, f.firm_id, f.year"""
    panel = duckdb.sql(sql).df()
    codes = sorted(panel["country"].unique())
    panel["country"] = panel["country"].map({c: codes[i % ECONOMIES] for i, c in enumerate(codes)})
    return panel


def release(panel: pd.DataFrame, estimates: pd.DataFrame | None = None):
    """One publication of `panel`: what the disclosure/firm_figures asset releases."""
    if estimates is None:
        estimates = pd.DataFrame(columns=["model_id", "level", "outcome", "term"])
    return disclose(panel, sme_gap_cells(panel), sme_gap_trend_by_country(panel), estimates,
                    RULE, SALT)  # fmt: skip


def with_log_value(panel: pd.DataFrame, rows: pd.Index, delta: float) -> pd.DataFrame:
    """`panel` with the value added of `rows` revised by `delta` log units (the log columns
    follow, as the mart derives them)."""
    revised = panel.copy()
    revised.loc[rows, "value_added"] *= np.exp(delta)
    revised.loc[rows, "labour_productivity"] *= np.exp(delta)
    revised.loc[rows, "log_labour_productivity"] += delta
    return revised


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("intruder_demo")
    generate_demo_data(root, n_firms=1_500, with_catalog=False)
    panel = build_panel(root)
    # A balanced panel (the 996 firms observed every year), so that the planted
    # changes below are the only ones between two years.
    years = panel.groupby("firm_id")["year"].transform("nunique")
    panel = panel[years == panel["year"].nunique()].reset_index(drop=True)
    # Planted non-response: in every series of a class, one firm misses 2017, 2019 and 2021,
    # so consecutive years differ by one firm (the year-over-year and interpolation attacks).
    feeding = panel[panel["log_labour_productivity"].notna() & (panel["size_class"] != "large")]
    missing = [rows.index[0] for (_c, year, _s), rows in feeding.groupby(KEYS)
               if year in (2017, 2019, 2021)]  # fmt: skip
    panel = panel.drop(index=missing).reset_index(drop=True)
    return panel, release(panel)


def published(figures) -> pd.DataFrame:
    cells = figures.cells
    return cells[cells["productivity_status"] == "published"].set_index(KEYS)


def close(errors: list[float]) -> list[float]:
    return [e for e in errors if abs(e) < RULE.protection]


def test_the_perturbation_table_is_symmetric_bounded_and_wider_than_the_protection():
    """What docs/disclosure.md publishes: p in (-1, 1), mean 0, and one firm moved by at most
    noise_bound; two independent draws differ by less than the protection with probability
    about protection / noise_bound."""
    table = perturbation_table()
    assert table["perturbation"].mean() == pytest.approx(0.0, abs=1e-12)
    assert table["perturbation"].abs().max() < 1
    p = table["perturbation"].to_numpy()
    within = np.mean(np.abs(RULE.noise_bound * (p[:, None] - p[None, :])) < RULE.protection)
    assert within < RULE.protection / RULE.noise_bound * 1.1


# --- differencing two publications ------------------------------------------------------------


@pytest.fixture(scope="module")
def revised(demo):
    """A later publication where one firm of every published class cell had its value added
    revised up by 0.693 log units (doubled: the issue's case)."""
    panel, first = demo
    shown = published(first).reset_index()
    shown = shown[shown["size_class"] != "large"]
    rows = []
    for country, year, size in shown[KEYS].itertuples(index=False):
        cell = panel[(panel["country"] == country) & (panel["year"] == year)
                     & (panel["size_class"] == size) & panel["log_labour_productivity"].notna()]  # fmt: skip
        rows.append(cell.index[len(cell) // 2])
    second = with_log_value(panel, pd.Index(rows), np.log(2))
    return panel, first, second, release(second), pd.Index(rows)


@pytest.fixture(scope="module")
def revision_attack(revised):
    """The intruder sees a cell's gap move between two publications with the same count of
    contributors: n x (new - old) is the revised firm's change. Errors against the true
    change (0.693), on unprotected values and on released ones."""
    panel, first, second, second_release, rows = revised
    true = np.log(2)
    raw = [sme_gap_cells(p).set_index(KEYS)["productivity_gap"] for p in (panel, second)]
    a, b = published(first), published(second_release)
    errors, exact = [], []
    for key in (tuple(panel.loc[r, KEYS]) for r in rows):
        if key not in a.index or key not in b.index:
            continue
        n = a.loc[key, "productivity_contributors"]
        if n != b.loc[key, "productivity_contributors"]:
            continue
        exact.append(n * (raw[1][key] - raw[0][key]) - true)
        errors.append(n * (b.loc[key, "productivity_gap"] - a.loc[key, "productivity_gap"]) - true)
    return np.array(errors), np.array(exact)


def test_differencing_a_revised_value_between_two_publications(revision_attack):
    """On unprotected values the attack recovers the revision exactly. Released, it is the
    change plus noise: the same contributors with a new value are a new cell key, so the two
    releases' noises are independent draws and the error is spread over +-2 noise_bound."""
    errors, exact = revision_attack
    assert len(errors) >= 40
    assert np.abs(exact).max() < 1e-9  # the attack is real
    hits = close(errors)
    print(f"revised value: {len(hits)} of {len(errors)} within {RULE.protection}, "
          f"median |error| {np.median(np.abs(errors)):.2f}")  # fmt: skip
    assert len(hits) <= CHANCE * len(errors), hits
    assert np.median(np.abs(errors)) > 5 * RULE.protection


@pytest.fixture(scope="module")
def late(demo):
    """An earlier publication without late responses: in the first two economies one large
    firm of every year is missing; elsewhere one firm of every class cell."""
    panel, full = demo
    countries = sorted(panel["country"].unique())
    late_rows = []
    for (country, _year, size), cell in panel[panel["log_labour_productivity"].notna()].groupby(
        KEYS
    ):
        if (size == "large") == (country in countries[:2]):
            late_rows.append(cell.index[len(cell) // 3])
    early = panel.drop(index=late_rows)
    return panel, early, release(early), full, pd.Index(late_rows)


@pytest.fixture(scope="module")
def late_attack(late):
    """A class cell with one contributor more (counts are published): (n+1) g1 - n g0 is the
    late firm's value less the large mean, exactly, on unprotected values. A late large firm
    raises the large mean by (its value - the mean) / (n_L + 1), so the three gaps of its
    country-year fall together; the large count is not published, the intruder is granted it
    (the issue's 'when the count is known')."""
    panel, early, first, second, rows = late
    a, b = published(first), published(second)
    raw = [sme_gap_cells(p).set_index(KEYS) for p in (early, panel)]

    def moved(before, after, keys):
        return np.mean([after.loc[k, "productivity_gap"] - before.loc[k, "productivity_gap"]
                        for k in keys])  # fmt: skip

    errors, exact = [], []
    for row in rows:
        country, year, size = panel.loc[row, KEYS]
        value = panel.loc[row, "log_labour_productivity"]
        same_year = early[(early["country"] == country) & (early["year"] == year)]
        large = same_year.loc[same_year["size_class"] == "large", "log_labour_productivity"]
        if size != "large":
            key = (country, year, size)
            if key not in a.index or key not in b.index:
                continue
            n = a.loc[key, "productivity_contributors"]
            truth = value - large.mean()
            exact.append((n + 1) * raw[1].loc[key, "productivity_gap"]
                         - n * raw[0].loc[key, "productivity_gap"] - truth)  # fmt: skip
            errors.append((n + 1) * b.loc[key, "productivity_gap"]
                          - n * a.loc[key, "productivity_gap"] - truth)  # fmt: skip
        else:
            keys = [(country, year, s) for s in ("micro", "small", "medium")]
            keys = [k for k in keys if k in a.index and k in b.index]
            if not keys:
                continue
            n, truth = large.notna().sum(), value - large.mean()
            exact.append(-(n + 1) * moved(raw[0], raw[1], keys) - truth)
            errors.append(-(n + 1) * moved(a, b, keys) - truth)
    return np.array(errors), np.array(exact)


def test_differencing_a_late_response_between_two_publications(late_attack):
    """Exact on unprotected values; released, the two cells have different contributors,
    hence independent noises."""
    errors, exact = late_attack
    assert len(errors) >= 40
    assert np.abs(exact).max() < 1e-9  # the attack is real
    hits = close(errors)
    print(f"late response: {len(hits)} of {len(errors)} within {RULE.protection}, "
          f"median |error| {np.median(np.abs(errors)):.2f}")  # fmt: skip
    assert len(hits) <= CHANCE * len(errors), hits
    assert np.median(np.abs(errors)) > 5 * RULE.protection


def test_the_noise_is_unbiased_and_small_beside_the_sampling_error(demo):
    """The noise's effect on estimates (docs/disclosure.md): zero on average (the table is
    symmetric and cell keys uniform), a spread of noise_bound / sqrt(3) x sqrt(1/n^2 + 1/n_L^2)
    log units on a gap (n and n_L its class's and its large firms' contributors), within
    noise_bound x (1/n + 1/n_L), and under half the gap's own standard error."""
    panel, first = demo
    raw = sme_gap_cells(panel).set_index(KEYS)
    shown = published(first)
    noise = shown["productivity_gap"] - raw.loc[shown.index, "productivity_gap"]
    n, n_large = (raw.loc[shown.index, c] for c in ("lp_contributors", "large_lp_contributors"))
    expected = np.sqrt((RULE.noise_bound**2 / 3 * (1 / n**2 + 1 / n_large**2)).mean())
    ratio = noise.std() / raw.loc[shown.index, "productivity_gap_se"].mean()
    print(f"noise on {len(noise)} gaps: mean {noise.mean():+.4f}, sd {noise.std():.4f} "
          f"(expected {expected:.4f}), max {noise.abs().max():.3f}, "
          f"sd / mean standard error {ratio:.2f}")  # fmt: skip
    assert abs(noise.mean()) < 3 * noise.std() / np.sqrt(len(noise))
    assert noise.std() == pytest.approx(expected, rel=0.25)
    assert (noise.abs() <= RULE.noise_bound * (1 / n + 1 / n_large) + 0.0005).all()
    assert ratio < 0.5


def test_the_same_contributors_get_the_same_noise_in_every_publication(demo, revised):
    """Consistency and reproducibility: the revision touched value added only, so every wage
    gap published twice rests on the same contributors with the same values and is released
    with the same noise (publishing again gives nothing to average); and the noise of the
    same panel, its rows in another order, is the same to the last bit."""
    panel, first = demo
    _, _, _, again, _ = revised
    wages = [f.cells.set_index(KEYS) for f in (first, again)]
    both = wages[0].index[wages[0]["wage_status"] == "published"].intersection(
        wages[1].index[wages[1]["wage_status"] == "published"])  # fmt: skip
    assert len(both) >= 40
    pd.testing.assert_series_equal(wages[0].loc[both, "wage_gap"], wages[1].loc[both, "wage_gap"])
    raw = sme_gap_cells(panel).set_index(KEYS)["wage_gap"]
    assert (wages[0].loc[both, "wage_gap"] - raw.loc[both]).abs().max() > RULE.protection / 10
    shuffled = panel.sample(frac=1.0, random_state=3).reset_index(drop=True)
    for function in (cell_perturbation, trend_perturbation):
        keys = KEYS if function is cell_perturbation else ["country", "outcome", "size_class"]
        ordered = [function(p, SALT, RULE).sort_values(keys).reset_index(drop=True)
                   for p in (panel, shuffled)]  # fmt: skip
        pd.testing.assert_frame_equal(*ordered)


@pytest.mark.xfail(
    strict=True,
    reason="noise cannot promise every single attack misses: two independent draws land "
    "within 0.1 of each other about 5% of the time (0.1 / noise_bound), and the intruder "
    "cannot tell which attacks those are; docs/disclosure.md states this limit",
)
def test_no_differencing_attack_places_any_firm_within_the_protection(revision_attack, late_attack):
    """The strict reading of issue #31 ("recovers no firm value within 0.1"), kept to show
    the limit: of about 180 attacks, a few land within 0.1 by chance."""
    errors = np.r_[revision_attack[0], late_attack[0]]
    assert not close(list(errors))


# --- one publication: differencing years, interpolation ---------------------------------------


def class_values(panel: pd.DataFrame) -> dict[tuple, pd.Series]:
    """(country, year, size_class) -> the log productivity of each contributing firm."""
    feeding = panel[panel["log_labour_productivity"].notna()]
    return {key: g.set_index("firm_id")["log_labour_productivity"]
            for key, g in feeding.groupby(KEYS)}  # fmt: skip


def one_firm_moves(values, country, size, before, after):
    """The firm that entered (+1) or left (-1) between two years of a class when exactly one
    did and the rest stayed, and its value less the large mean of the year it is in."""
    a, b = values.get((country, before, size)), values.get((country, after, size))
    if a is None or b is None:
        return None
    entered, left = b.index.difference(a.index), a.index.difference(b.index)
    if len(entered) + len(left) != 1:
        return None
    if len(entered):
        return 1, b[entered[0]] - values[(country, after, "large")].mean()
    return -1, a[left[0]] - values[(country, before, "large")].mean()


def test_differencing_two_published_years_places_no_firm(demo):
    """Two consecutive published years of a class whose counts differ by one: the intruder
    takes n1 g1 - n0 g0 as the firm that entered (or n0 g0 - n1 g1 as the one that left),
    assuming the others did not move relative to the large firms. Evaluated where exactly
    one firm did enter or leave. On unprotected gaps the year-over-year rule already leaves
    only pairs whose other firms drifted by 0.1 or more per moved firm; the noise adds its
    own error on top."""
    panel, first = demo
    values, raw = class_values(panel), sme_gap_cells(panel).set_index(KEYS)
    shown = published(first).reset_index().sort_values(KEYS)
    errors, unprotected = [], []
    for (country, size), rows in shown.groupby(["country", "size_class"]):
        seen = list(rows[["year", "productivity_gap", "productivity_contributors"]]
                    .itertuples(index=False))  # fmt: skip
        for (y0, g0, n0), (y1, g1, n1) in pairwise(seen):
            if (
                abs(n1 - n0) != 1
                or (moved := one_firm_moves(values, country, size, y0, y1)) is None
            ):
                continue
            sign, truth = moved
            if sign != n1 - n0:
                continue
            errors.append(sign * (n1 * g1 - n0 * g0) - truth)
            r0, r1 = (
                raw.loc[(country, y0, size), "productivity_gap"],
                raw.loc[(country, y1, size), "productivity_gap"],
            )
            unprotected.append(sign * (n1 * r1 - n0 * r0) - truth)
    print(f"year over year: {len(close(errors))} of {len(errors)} within {RULE.protection}, "
          f"median |error| {np.median(np.abs(errors)):.2f} (unprotected gaps: "
          f"{len(close(unprotected))} within, median {np.median(np.abs(unprotected)):.2f})")  # fmt: skip
    assert len(errors) >= 10
    assert not close(unprotected)  # the year-over-year rule's promise
    assert len(close(errors)) <= CHANCE * len(errors) + 1


def test_interpolating_a_suppressed_year_then_differencing_places_no_firm(demo):
    """A suppressed year is guessed as the mean of the class's published years either side
    (for the group's mean this often works: docs/disclosure.md states it as a limit, since
    suppression and noise protect single firms, not a group's mean), and then differenced
    with its published neighbour where exactly one firm moved; the intruder is even granted
    the hidden count."""
    panel, first = demo
    values = class_values(panel)
    cells = first.cells.set_index(KEYS)
    truth_gaps = sme_gap_cells(panel).set_index(KEYS)["productivity_gap"]
    errors, group = [], []
    for (country, year, size), cell in cells.iterrows():
        before, after = (country, year - 1, size), (country, year + 1, size)
        if cell["productivity_status"] == "published" or size == "large":
            continue
        if not all(k in cells.index and cells.loc[k, "productivity_status"] == "published"
                   for k in (before, after)):  # fmt: skip
            continue
        guess = (cells.loc[before, "productivity_gap"] + cells.loc[after, "productivity_gap"]) / 2
        group.append(guess - truth_gaps[(country, year, size)])
        moved = one_firm_moves(values, country, size, year - 1, year)
        if moved is None:
            continue
        sign, truth = moved
        n0, n1 = cells.loc[before, "productivity_contributors"], len(values[(country, year, size)])
        errors.append(sign * (n1 * guess - n0 * cells.loc[before, "productivity_gap"]) - truth)
    print(f"interpolation: group means {len(close(group))} of {len(group)} within "
          f"{RULE.protection} (median |error| {np.median(np.abs(group)):.3f}); single firms "
          f"{len(close(errors))} of {len(errors)} (median |error| "
          f"{np.median(np.abs(errors)) if errors else float('nan'):.2f})")  # fmt: skip
    assert group, "the demo should suppress some cells between published years"
    assert len(close(errors)) <= CHANCE * len(errors) + 1


# --- model terms and reasons ------------------------------------------------------------------

MODEL = "score_event_study_log_labour_productivity"


def public_estimates(panel: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """The public extract's models.estimates (pedw.public_release's own query) for `panel`,
    and its effect terms (firms.effect_terms: counts of published terms only)."""
    from pedw.disclosure.effects import effect_units, protect_effects
    from pedw.disclosure.estimates import (
        estimate_perturbation,
        releasable_estimates,
        released_estimates,
    )
    from pedw.disclosure.terms import protect_terms, released_terms, term_support
    from pedw.store import offline_connection

    con = offline_connection()
    try:
        for schema in ("models", "disclosure"):
            con.execute(f"CREATE SCHEMA {schema}")
        effects = protect_effects(effect_units(panel, estimates), RULE)
        terms = protect_terms(term_support(panel, estimates), RULE)
        releasable = releasable_estimates(estimates, effects, terms)
        noise = estimate_perturbation(panel, releasable, SALT, RULE)
        tables = {
            "models.estimates": estimates.assign(run_id="r"),
            "disclosure.effects": effects,
            "disclosure.effect_terms": released_terms(terms),
            "disclosure.estimates": released_estimates(releasable, noise, RULE)
            .assign(run_id="r"),
        }  # fmt: skip
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
        query = PUBLIC_TABLES["models.estimates"].replace("{decimals}", str(RULE.gap_decimals))
        return con.execute(query).df(), tables["disclosure.effect_terms"]
    finally:
        con.close()


@pytest.fixture(scope="module")
def one_firm_term(demo):
    """The issue's case: the SCORE event study's event-time-5 term planted on one treated
    firm (the others' event-time-5 years dropped), and a second publication where that
    firm's productivity in that year is 0.5 log units higher."""
    panel, _ = demo
    late = panel[panel["score_event_time"] == 5]
    firm = sorted(late["firm_id"])[0]
    planted = panel.drop(index=late.index[late["firm_id"] != firm]).reset_index(drop=True)
    year5 = planted.index[(planted["firm_id"] == firm) & (planted["score_event_time"] == 5)]
    moved = with_log_value(planted, year5, 0.5)
    fits = [score_impact(p) for p in (planted, moved)]
    return (
        planted,
        moved,
        fits,
        [public_estimates(p, f) for p, f in zip((planted, moved), fits, strict=True)],
    )


def test_a_term_on_one_firm_is_withheld_and_every_published_term_rests_on_enough(one_firm_term):
    planted, _moved, fits, publics = one_firm_term
    term = [
        f.set_index(["model_id", "term"]).loc[(MODEL, "event_time:5"), "estimate"] for f in fits
    ]
    assert term[1] - term[0] == pytest.approx(0.5, abs=1e-6)  # the attack is real
    treated = planted[planted["score_start_year"].notna()]
    for public, _terms in publics:
        rows = public[public["model_id"] == MODEL]
        assert "event_time:5" not in set(rows["term"]) and "att_post" in set(rows["term"])
        for term_name in rows["term"]:
            if term_name.startswith("event_time:"):
                e = int(term_name.split(":")[1])
                cell = treated[(treated["score_event_time"] == e)
                               & treated["log_labour_productivity"].notna()]  # fmt: skip
                assert cell["firm_id"].nunique() >= RULE.min_treated, term_name
                assert cell["country"].nunique() >= RULE.min_countries, term_name


def test_differencing_the_pooled_att_does_not_recover_the_withheld_firm(one_firm_term):
    """The withheld term's firm still moves the pooled ATT by 0.5 / (post-period treated
    firm-years). The intruder counts those from the published event-time terms (the
    withheld one's count is blank: it guesses 1) and scales the ATT's move back up: without
    the released estimates' cell-key noise it found 0.438 against 0.5."""
    _planted, _moved, _fits, publics = one_firm_term
    att = [p.set_index(["model_id", "term"]).loc[(MODEL, "att_post"), "estimate"]
           for p, _terms in publics]  # fmt: skip
    terms = publics[0][1]
    terms = terms[(terms["model_id"] == MODEL) & (terms["status"] == "published")]
    post = terms["term"].str.extract(r"^event_time:(-?\d+)$")[0].astype(float) >= 0
    n_post = int(terms.loc[post, "treated_firms"].sum()) + 1  # the withheld term: one firm
    recovered = n_post * (att[1] - att[0])
    print(f"pooled ATT: recovered {recovered:.3f} against 0.5 ({n_post} firm-years)")
    assert abs(recovered - 0.5) >= RULE.protection


def test_released_estimates_carry_bounded_noise_and_stay_reproducible(one_firm_term):
    """Each released firm-level estimate is the fit's plus its term's draw (within
    noise_bound x the largest firm's share of the firm-years it rests on, summed over its
    sides), its standard error is at least the noise's spread, and the same panel gives the
    same release."""
    from pedw.disclosure.estimates import estimate_perturbation

    planted, _moved, fits, publics = one_firm_term
    public = publics[0][0].set_index(["model_id", "term"])
    fit = fits[0].set_index(["model_id", "term"])
    noise = estimate_perturbation(planted, fits[0], SALT, RULE).set_index(["model_id", "term"])
    att = (MODEL, "att_post")
    assert noise.loc[att, "noise"] != 0 and abs(noise.loc[att, "noise"]) <= RULE.noise_bound
    assert public.loc[att, "estimate"] == round(
        fit.loc[att, "estimate"] + noise.loc[att, "noise"], 3
    )
    assert public.loc[att, "std_error"] >= round(noise.loc[att, "noise_var"] ** 0.5, 3)
    assert public[["wild_p_value", "fit"]].isna().all().all()  # would give the fit back
    again = estimate_perturbation(planted.sample(frac=1, random_state=7), fits[0], SALT, RULE)
    pd.testing.assert_frame_equal(
        again.set_index(["model_id", "term"]).loc[noise.index], noise, check_exact=False, rtol=1e-12
    )


def test_no_released_reason_tells_how_many_firms_a_figure_rests_on(demo, one_firm_term):
    """Reasons name the rule and its threshold; with years and thresholds taken out no
    number is left, and a suppressed figure's counts are blank."""
    _, first = demo
    planted, _m, fits, _p = one_firm_term
    from pedw.disclosure.terms import protect_terms, released_terms, term_support

    terms = released_terms(protect_terms(term_support(planted, fits[0]), RULE))
    reasons = set(first.audit["reason"].dropna()) | set(terms["reason"].dropna())
    thresholds = {str(v) for v in (RULE.min_contributors, RULE.min_treated, RULE.min_countries,
                                   f"{RULE.protection:g}", f"{RULE.dominance_k:.0%}")}  # fmt: skip
    for reason in reasons:
        stripped = re.sub(r"\b(19|20)\d\d\b", "", reason)
        for value in sorted(thresholds, key=len, reverse=True):
            stripped = stripped.replace(value, "")
        assert not re.search(r"\d", stripped), reason
    assert any("fewer than" in r for r in reasons)
    withheld = terms[terms["status"] != "published"]
    assert len(withheld) and withheld["treated_firms"].isna().all()
    hidden = first.cells[first.cells["productivity_status"] != "published"]
    assert len(hidden) and hidden["productivity_contributors"].isna().all()


def test_the_store_secret_is_drawn_once_and_kept(tmp_path):
    """The first disclosure run on a store draws its secret; every later one reads it (the
    firms' keys stay the same from release to release)."""
    from pedw.disclosure.cellkey import SALT_FILE, cell_key_salt

    first = cell_key_salt(tmp_path)
    assert len(first) == 64 and cell_key_salt(tmp_path) == first
    assert (tmp_path / SALT_FILE).stat().st_mode & 0o777 == 0o600
    assert [p.name for p in (tmp_path / SALT_FILE).parent.iterdir()] == [SALT_FILE.name]
    assert cell_key_salt(tmp_path / "other") != first  # another store, other keys
