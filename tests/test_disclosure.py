"""Disclosure control against the attacks an adversary holding only public outputs would try:
contributors that are not rows, dominance of the aggregated variable, differencing over years,
bracketing by a published trend, treated units behind an effect, precision in the PDF."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess

import duckdb
import numpy as np
import pandas as pd
import pytest

from pedw.disclosure.audit import PublishedTrend, feasible_intervals
from pedw.disclosure.effects import protect_effects
from pedw.disclosure.report import disclose
from pedw.disclosure.rules import DisclosureRule
from pedw.models.enterprise import sme_gap_cells, sme_gap_trend_by_country
from pedw.warehouse import connect_read_only

RULE = DisclosureRule()
SALT = "test-salt-" + "0" * 54  # the store's cell-key secret, fixed for these panels


def firms(country: str, size: str, years: list[int], ids: list[str], lp: np.ndarray,
          employees: float = 20.0) -> pd.DataFrame:  # fmt: skip
    """Firm-years of one cell group: log productivity `lp` per firm (NaN: value added <= 0)."""
    rows = []
    for year in years:
        for firm, value in zip(ids, lp, strict=True):
            va = np.exp(value) * employees if np.isfinite(value) else -1.0
            rows.append({"country": country, "year": year, "size_class": size, "firm_id": firm,
                         "sector": "C", "employees": employees, "value_added": va,
                         "labour_productivity": va / employees,
                         "log_labour_productivity": value if np.isfinite(value) else np.nan,
                         "wage_bill": 0.4 * abs(va), "log_mean_wage": np.log(0.4 * abs(va) / employees),
                         "training": 0, "formal": 1, "female_share": 0.3, "exporter": 0,
                         "shock": 0, "score_participant": 0, "score_start_year": np.nan,
                         "score_event_time": np.nan})  # fmt: skip
    return pd.DataFrame(rows)


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(n)]


def released(panel: pd.DataFrame, rule: DisclosureRule = RULE):
    estimates = pd.DataFrame(columns=["model_id", "level", "outcome", "term"])
    trend = sme_gap_trend_by_country(panel, min_firms=1)
    return disclose(panel, sme_gap_cells(panel), trend, estimates, rule, SALT)


def test_a_cell_of_46_firms_with_3_contributors_is_suppressed():
    rng = np.random.default_rng(1)
    small = np.r_[rng.normal(9.5, 0.3, 3), np.full(43, np.nan)]  # 43 firms with no value added
    panel = pd.concat([firms("AAA", "large", [2020], ids("L", 30), rng.normal(10, 0.3, 30)),
                       firms("AAA", "small", [2020], ids("S", 46), small)])  # fmt: skip
    cells = sme_gap_cells(panel).set_index("size_class")
    assert cells.loc["small", "firms"] == 46 and cells.loc["small", "lp_contributors"] == 3
    by_hand = np.sqrt(np.var(small[:3], ddof=1) / 3 + panel.query("size_class == 'large'")[
        "log_labour_productivity"].var() / 30)  # fmt: skip
    assert cells.loc["small", "productivity_gap_se"] == pytest.approx(by_hand, rel=1e-12)
    cell = released(panel).cells.set_index("size_class").loc["small"]
    assert cell["productivity_status"] == "primary"
    assert cell["productivity_reason"] == "fewer than 10 firms contribute to its size class"
    assert np.isnan(cell["productivity_gap"]) and pd.isna(cell["productivity_contributors"])


def test_dominance_is_measured_on_the_variable_being_aggregated():
    rng = np.random.default_rng(2)
    small = rng.normal(9.0, 0.1, 15)
    small[0] = 14.0  # one firm with about 150 times the others' productivity
    panel = pd.concat([firms("AAA", "large", [2020], ids("L", 30), rng.normal(10, 0.3, 30)),
                       firms("AAA", "small", [2020], ids("S", 15), small)])  # fmt: skip
    audit = released(panel).audit
    cell = audit[(audit["figure"] == "sme_gap_cell") & (audit["size_class"] == "small")]
    productivity = cell[cell["measure"] == "productivity"].iloc[0]
    assert productivity["status"] == "primary" and productivity["dominance_share"] > 0.85
    assert (
        "largest contributors hold more than 85% of the labour productivity"
        in productivity["reason"]
    )


def test_differencing_two_years_cannot_isolate_a_large_firm_that_left():
    """The issue's attack: one large firm leaves; the common change of the three gaps that
    share the large-firm mean would give away its productivity relative to the rest."""
    rng = np.random.default_rng(3)
    large = rng.normal(10, 0.4, 25)
    frames = [firms("AAA", "large", [2019], ids("L", 25), large),
              firms("AAA", "large", [2020], ids("L", 24), large[:24])]  # fmt: skip
    for size, mean in (("micro", 8.5), ("small", 9.0), ("medium", 9.5)):
        frames.append(
            firms("AAA", size, [2019, 2020], ids(size[:2], 15), rng.normal(mean, 0.3, 15))
        )
    panel = pd.concat(frames, ignore_index=True)
    cells = released(panel).cells
    # Unprotected, the attack works: the mean change of the three gaps is the change of the
    # large mean, which is the leaving firm's distance from the rest / 24.
    raw = sme_gap_cells(panel).pivot_table(
        index="year", columns="size_class", values="productivity_gap"
    )
    recovered = 25 * (raw.loc[2020] - raw.loc[2019]).mean() + large[:24].mean()
    assert recovered == pytest.approx(large[24], abs=1e-9)
    by_year = cells.set_index(["year", "size_class"])
    assert (by_year.loc[2019, "productivity_status"] == "published").all()
    assert (by_year.loc[2020, "productivity_status"] == "secondary").all()
    assert by_year.loc[2020, "productivity_gap"].isna().all()
    assert (
        by_year.loc[2020, "productivity_reason"]
        .str.contains("differs from the published 2019")
        .all()
    )


def test_differencing_sees_gaps_so_a_shock_common_to_the_country_year_hides_nothing():
    """The intruder's case (UGA small, 20 then 19 firms): every firm of the country, large
    ones included, moves by +0.3 in the second year. The common firms' raw change is large,
    but it cancels out of the gaps the intruder differences: n0 x g0 - n1 x g1 is the leaving
    firm's value less the large mean, exactly. The second year must be suppressed."""
    rng = np.random.default_rng(7)
    large, small = rng.normal(10, 0.4, 25), rng.normal(9.0, 0.3, 20)
    panel = pd.concat(
        [firms("UGA", "large", [2016], ids("L", 25), large),
         firms("UGA", "large", [2017], ids("L", 25), large + 0.3),
         firms("UGA", "small", [2016], ids("S", 20), small),
         firms("UGA", "small", [2017], ids("S", 19), small[:19] + 0.3)],
        ignore_index=True,
    )  # fmt: skip
    raw = sme_gap_cells(panel).set_index("year")
    recovered = 20 * raw.loc[2016, "productivity_gap"] - 19 * raw.loc[2017, "productivity_gap"]
    assert recovered == pytest.approx(small[19] - large.mean(), abs=1e-9)  # the attack works
    cells = released(panel).cells.set_index("year")
    assert cells.loc[2016, "productivity_status"] == "published"
    assert cells.loc[2017, "productivity_status"] == "secondary"
    assert pd.isna(cells.loc[2017, "productivity_gap"])


def test_a_trend_that_would_bracket_a_suppressed_year_is_suppressed():
    rng = np.random.default_rng(4)
    years = list(range(2014, 2022))
    small = rng.normal(9.3, 0.3, 200)
    dominated = small.copy()
    dominated[0] = 16.6  # in 2021 one small firm holds nearly all the class's productivity
    frames = [firms("AAA", "large", years, ids("L", 200), rng.normal(10, 0.3, 200)),
              firms("AAA", "small", years[:-1], ids("S", 200), small),
              firms("AAA", "small", years[-1:], ids("S", 200), dominated)]  # fmt: skip
    panel = pd.concat(frames, ignore_index=True)
    figures = released(panel)
    cell = figures.cells.set_index(["year", "size_class"]).loc[(2021, "small")]
    assert cell["productivity_status"] == "primary"
    # What the trend would let an adversary learn of the suppressed 2021 cell.
    raw_trend = sme_gap_trend_by_country(panel, min_firms=1).query(
        "outcome == 'log_labour_productivity' and size_class == 'small'").iloc[0]  # fmt: skip
    published = figures.cells.query("size_class == 'small' and productivity_status == 'published'")
    known = {
        int(y): (v, 0.0005)
        for y, v in zip(published["year"], published["productivity_gap"], strict=True)
    }
    trend = PublishedTrend(raw_trend.trend_per_year, raw_trend.trend_se, raw_trend.gap_first_year,
                           raw_trend.gap_first_year_se, int(raw_trend.trend_origin_year))  # fmt: skip
    low, high = feasible_intervals(years, [200.0] * 8, known, trend)[2021]
    assert (high - low) / 2 < RULE.protection  # the trend would bracket it
    row = figures.trends.query(
        "outcome == 'log_labour_productivity' and size_class == 'small'"
    ).iloc[0]
    assert row["status"] == "secondary" and np.isnan(row["trend_per_year"])
    audit = figures.audit.query("figure == 'sme_gap_cell' and measure == 'productivity' and year == 2021 "
                                "and size_class == 'small'").iloc[0]  # fmt: skip
    assert audit["half_width"] >= RULE.protection


def test_a_trend_dominated_by_one_firm_over_its_years_is_suppressed():
    rng = np.random.default_rng(5)
    years = list(range(2016, 2022))
    small = rng.normal(9.0, 0.2, 30)
    small[0] = 15.0  # one firm holds nearly all the class's productivity in every year
    panel = pd.concat([firms("AAA", "large", years, ids("L", 30), rng.normal(10, 0.3, 30)),
                       firms("AAA", "small", years, ids("S", 30), small)], ignore_index=True)  # fmt: skip
    trend = released(panel).trends.query("outcome == 'log_labour_productivity'").iloc[0]
    assert trend["status"] == "primary" and np.isnan(trend["trend_per_year"])
    assert "largest contributors hold more than 85% of the labour productivity" in trend["reason"]


def test_an_effect_needs_enough_treated_firms_countries_and_controls():
    units = pd.DataFrame({"model_id": ["score_a", "score_b", "score_c", "cross"],
                          "treated_firms": [5, 360, 40, 900], "control_firms": [900, 900, 4, None],
                          "treated_countries": [2, 12, 5, 20]})  # fmt: skip
    decided = protect_effects(units, RULE).set_index("model_id")
    assert decided.loc["score_a", "reason"] == "fewer than 10 treated firms"
    assert decided.loc["score_b", "status"] == "published"
    assert decided.loc["score_c", "reason"] == "fewer than 10 control firms"
    assert decided.loc["cross", "status"] == "published"


def test_a_term_resting_on_one_firm_is_withheld_though_its_model_rests_on_many():
    """The intruder's case: a SCORE event study on 30 treated firms in 5 economies, whose
    event-time-5 term is estimated from the one firm observed that long after it started."""
    panel = pd.concat(
        [firms(f"C{i % 5}", "small", list(range(2013, 2019)), [f"T{i:02d}"], np.array([9.0]))
         for i in range(30)]
        + [firms("C0", "small", list(range(2013, 2021)), ["LONG"], np.array([9.0])),
           firms("C1", "small", list(range(2013, 2021)), ids("N", 40), np.full(40, 9.0))],
        ignore_index=True,
    )  # fmt: skip
    panel["log_sales"], panel["log_employees"] = panel["log_labour_productivity"] + 4, np.log(20)
    treated = ~panel["firm_id"].str.startswith("N")
    panel.loc[treated, ["score_participant", "score_start_year"]] = [1, 2015]
    model = "score_event_study_log_labour_productivity"
    estimates = pd.DataFrame({"model_id": model, "level": "enterprise",
                              "outcome": "log_labour_productivity",
                              "term": ["att_post", "event_time:0", "event_time:3", "event_time:5"]})  # fmt: skip
    decided = disclose(panel, sme_gap_cells(panel), sme_gap_trend_by_country(panel, min_firms=1),
                       estimates, RULE, SALT)  # fmt: skip
    effect = decided.effects.set_index("model_id").loc[model]
    assert (effect["status"], effect["treated_firms"], effect["treated_countries"]) == (
        "published", 31, 5)  # fmt: skip
    terms = decided.terms.set_index("term")
    assert "att_post" not in terms.index  # estimated from every treated firm
    assert terms.loc["event_time:0", "status"] == "published"
    assert terms.loc["event_time:0", "treated_firms"] == 31
    assert terms.loc["event_time:3", "treated_firms"] == 31  # observed to 2018: event time 3
    withheld = terms.loc["event_time:5"]
    assert withheld["status"] == "primary" and pd.isna(withheld["treated_firms"])
    assert withheld["reason"] == "this term rests on fewer than 10 treated firms"
    audit = decided.audit.set_index(["figure", "term"]).loc[("model_term", "event_time:5")]
    assert audit["contributors"] == 1  # kept for the statistical office, never released


# --- the same attacks on a whole published demo (many small cells) ---------------------------


@pytest.fixture(scope="module")
def warehouse(pipeline):
    settings, _ = pipeline
    con = connect_read_only(settings.warehouse_path)
    yield settings, con
    con.close()


def test_differencing_published_years_never_places_a_firm_within_protection(warehouse):
    """The adversary takes two published years of a class, assumes the firms present in both
    did not change relative to the large firms (what gaps show), and solves for the firms
    that entered or left (in the class or in the large-firm group it is compared with)."""
    _, con = warehouse
    panel = con.execute("SELECT country, year, size_class, firm_id, log_labour_productivity AS v "
                        "FROM marts.enterprise_panel WHERE v IS NOT NULL").df()  # fmt: skip
    groups = {key: dict(zip(g["firm_id"], g["v"], strict=True))
              for key, g in panel.groupby(["country", "year", "size_class"])}  # fmt: skip
    shown = con.execute("SELECT country, year, size_class FROM disclosure.sme_gap_cells "
                        "WHERE productivity_status = 'published' ORDER BY ALL").fetchall()  # fmt: skip
    attacks, close = 0, []
    last: dict = {}

    def seen(country, year, group):
        """What the intruder can difference: a class's values less the large mean (its
        gaps), or the large firms' own values (the shift common to the three gaps)."""
        values = groups[(country, year, group)]
        if group == "large":
            return values
        large = groups[(country, year, "large")]
        base = sum(large.values()) / len(large)
        return {firm: v - base for firm, v in values.items()}

    for country, year, size in shown:
        earlier = last.get((country, size))
        for group in (size, "large") if earlier is not None else ():
            a, b = seen(country, earlier, group), seen(country, year, group)
            both = a.keys() & b.keys()
            entered, left = len(b.keys() - both), len(a.keys() - both)
            if 0 < entered + left < RULE.min_contributors:
                attacks += 1
                error = abs(sum(b[f] - a[f] for f in both)) / max(entered, left)
                if error < RULE.protection:
                    close.append((country, size, group, earlier, year, error))
        last[(country, size)] = year
    assert attacks > 20 and not close, close
    suppressed = con.execute("SELECT count(*) FILTER (WHERE productivity_status = 'primary'), "
                             "count(*) FILTER (WHERE productivity_status = 'secondary'), count(*) "
                             "FROM disclosure.sme_gap_cells").fetchone()  # fmt: skip
    assert suppressed[0] > 0 and suppressed[1] > 0  # the demo has both kinds


def trend_bracketing(cells: pd.DataFrame, trends: pd.DataFrame, truth: dict, origin: int):
    """The adversary's LP over public values only (released cells to their rounding, released
    trends, the published contributor counts as weights, a withheld year's count guessed as
    the published mean): (attacked cells, those bracketed within the protection)."""
    attacked, recovered = 0, []
    trends = trends[(trends["status"] == "published") & (trends["outcome"] == "log_labour_productivity")]  # fmt: skip
    for t in trends.itertuples():
        rows = cells[(cells["country"] == t.country) & (cells["size_class"] == t.size_class)]
        if (rows["productivity_status"] == "published").all():
            continue
        shown = rows[rows["productivity_status"] == "published"]
        known = {
            int(y): (v, 0.0005)
            for y, v in zip(shown["year"], shown["productivity_gap"], strict=True)
        }
        guess = float(shown["productivity_contributors"].mean()) if len(shown) else 1.0
        weights = rows["productivity_contributors"].astype(float).fillna(guess).tolist()
        trend = PublishedTrend(
            t.trend_per_year, t.trend_se, t.gap_first_year, t.gap_first_year_se, origin
        )
        years = [int(y) for y in rows["year"]]
        for year, (low, high) in feasible_intervals(years, weights, known, trend).items():
            attacked += 1
            actual = truth[(t.country, year, t.size_class)]
            if (high - low) / 2 < RULE.protection and low <= actual <= high:
                recovered.append((t.country, t.size_class, year, low, high, actual))
    return attacked, recovered


@pytest.fixture(scope="module")
def gap_truth(warehouse) -> tuple[dict, int]:
    """The true productivity gap of every cell, and the trends' origin year."""
    _, con = warehouse
    truth = {
        (c, y, s): g
        for c, y, s, g in con.execute(
            "SELECT country, year, size_class, productivity_gap FROM models.sme_gap_cells"
        ).fetchall()
    }
    return truth, con.execute("SELECT min(year) FROM marts.enterprise_panel").fetchone()[0]


def test_published_trends_leave_every_suppressed_cell_its_protection(warehouse, gap_truth):
    """The pipeline's release (its store's own random secret): no suppressed cell ends in an
    interval narrower than the protection that also holds its true value."""
    _, con = warehouse
    attacked, recovered = trend_bracketing(
        con.execute("SELECT * FROM disclosure.sme_gap_cells").df(),
        con.execute("SELECT * FROM disclosure.sme_gap_trend").df(),
        *gap_truth,
    )
    assert attacked > 0, "the demo should publish some trends beside a suppressed cell"
    assert not recovered, recovered


def test_the_trend_audit_holds_for_a_secret_that_broke_it(warehouse, gap_truth):
    """The same attack on the demo released under a fixed secret for which the audit with
    the true weights alone (and the noise's variance left out of its standard errors) let
    it bracket BGD's 2017 micro-firm gap within +-0.045 (true -0.851, interval -0.938 to
    -0.849); the guessed weights and the released values close it."""
    from pedw.disclosure.cells import cell_perturbation, protect_cells, released_cells
    from pedw.disclosure.trends import protect_trends, released_trends, trend_perturbation

    _, con = warehouse
    panel = con.execute("SELECT * FROM marts.enterprise_panel").df()
    salt = hashlib.sha256(b"salt1").hexdigest()
    protected = protect_cells(con.execute("SELECT * FROM models.sme_gap_cells").df(), panel, RULE)
    cells = released_cells(protected, RULE, cell_perturbation(panel, salt, RULE))
    noise = trend_perturbation(panel, salt, RULE)
    trends = protect_trends(con.execute("SELECT * FROM models.sme_gap_trend").df(), protected,
                            RULE, cells, noise)  # fmt: skip
    attacked, recovered = trend_bracketing(cells, released_trends(trends, RULE, noise), *gap_truth)
    assert attacked > 0
    assert not recovered, recovered


def test_no_released_reason_tells_how_many_firms_a_figure_rests_on(warehouse):
    """Reasons state the rule broken, never a count below it: once years and the rule's own
    thresholds are taken out, no number is left in any released reason."""
    _, con = warehouse
    reasons = {r[0] for r in con.execute(
        "SELECT productivity_reason FROM disclosure.sme_gap_cells UNION "
        "SELECT wage_reason FROM disclosure.sme_gap_cells UNION "
        "SELECT reason FROM disclosure.sme_gap_trend UNION SELECT reason FROM disclosure.effects "
        "UNION SELECT reason FROM disclosure.effect_terms UNION SELECT reason FROM disclosure.audit"
    ).fetchall() if r[0]}  # fmt: skip
    assert any("differs from the published" in r for r in reasons)  # the demo has both kinds
    allowed = {str(RULE.min_contributors), f"{RULE.dominance_k:.0%}", str(RULE.dominance_n),
               f"{RULE.protection:g}", str(RULE.min_treated), str(RULE.min_countries)}  # fmt: skip
    for reason in reasons:
        left = re.sub(r"\b(19|20)\d\d\b", "", reason)
        for number in sorted(allowed, key=len, reverse=True):
            left = left.replace(number, "")
        assert not re.search(r"\d", left), reason


def test_published_terms_rest_on_enough_treated_firms_counted_from_the_panel(warehouse):
    """Every firm-level event-time term in the public extract, recounted from the microdata."""
    settings, con = warehouse
    public = duckdb.connect(str(settings.public_dir / "public.duckdb"), read_only=True)
    try:
        terms = public.execute(
            "SELECT model_id, outcome, term, estimate FROM models.estimates "
            "WHERE level = 'enterprise'"
        ).fetchall()
    finally:
        public.close()
    checked = 0
    for _model, outcome, term, estimate in terms:
        assert estimate == round(estimate, RULE.gap_decimals)  # rounded like the cells
        match = re.fullmatch(r"event_time:(-?\d+)", term)
        if not match:
            continue
        firms_behind = con.execute(
            f"SELECT count(DISTINCT firm_id) FROM marts.enterprise_panel WHERE "
            f"year - score_start_year = {int(match[1])} AND {outcome} IS NOT NULL"
        ).fetchone()[0]
        assert firms_behind >= RULE.min_treated, term
        checked += 1
    assert checked > 5


def test_effects_state_treated_units_not_rows(warehouse):
    settings, con = warehouse
    effects = dict(con.execute("SELECT model_id, treated_firms FROM disclosure.effects").fetchall())
    truth = con.execute("SELECT count(DISTINCT firm_id) FROM marts.enterprise_panel "
                        "WHERE score_participant = 1 AND log_labour_productivity IS NOT NULL").fetchone()[0]  # fmt: skip
    assert effects["score_event_study_log_labour_productivity"] == truth
    # The firm-level results are stated in the cross-country annex, with their units.
    page = (settings.briefs_dir / "cross_country.html").read_text()
    assert f"{truth:,} treated firms in " in page
    assert "n = " not in page


@pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfimages") is None,
                    reason="poppler-utils is not installed")  # fmt: skip
def test_the_pdf_carries_no_more_digits_than_its_tables(warehouse):
    settings, _ = warehouse
    pdf = settings.briefs_dir / "KEN.pdf"
    text = subprocess.run(
        ["pdftotext", pdf, "-"], capture_output=True, text=True, check=True
    ).stdout
    assert not re.findall(r"\d\.\d{3,}", text)  # the tables show at most two decimals
    images = subprocess.run(
        ["pdfimages", "-list", pdf], capture_output=True, text=True, check=True
    ).stdout
    html = (settings.briefs_dir / "KEN.html").read_text()
    pictures = [line for line in images.splitlines()[2:] if line.split()[2] == "image"]
    assert len(pictures) == html.count("<figure ")  # charts are pictures, not paths
