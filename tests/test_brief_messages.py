"""Key-message templates: every sign combination reads true, medians state their group size and
need five economies, nominal changes and changes under the threshold are not judged, and a
brief prints only claims that pass every check."""

from __future__ import annotations

import itertools
import math
import re

import pandas as pd
import pytest

from pedw.briefs.content import BRIEF_SERIES, staleness
from pedw.briefs.document import BriefContent
from pedw.briefs.messages import (
    MIN_GROUP,
    MIN_POINTS,
    claims_frame,
    growth_sentence,
    judge_change,
    key_messages,
    level_sentence,
    scorecard_sentence,
    structure_claims,
)
from pedw.briefs.verdict_rules import publication_year, recent

RATES = [2.0, 1.2, 0.4, 0.0, -0.4, -1.2, -2.0]


def _signed(text: str) -> float:
    """The rate a clause states: "grew by 0.4% a year" -> 0.4, "fell by ..." -> -0.4."""
    if "about unchanged" in text:
        return 0.0
    number = float(re.search(r"by (\d+\.\d)% a year", text).group(1))
    return number if "grew" in text else -number


@pytest.mark.parametrize(("own", "peer"), list(itertools.product(RATES, RATES)))
def test_growth_sentence_holds_for_every_sign_combination(own, peer):
    text = growth_sentence(own, 2011, 2021, peer, 12, "Sub-Saharan Africa")
    head, _, tail = text.partition(", ")
    assert _signed(head) == own
    assert "the median of the 12 other economies of Sub-Saharan Africa with data" in tail
    # The comparison word agrees with the numbers as printed.
    # Rates less than half a percentage point apart are never ranked.
    if "about as fast as" in tail:
        assert own > 0 and peer > 0 and abs(own - peer) < MIN_POINTS
    elif "faster than" in tail:
        assert own > peer > 0 and own - peer >= MIN_POINTS
    elif "slower than" in tail:
        assert 0 < own < peer and peer - own >= MIN_POINTS
    elif "about the same fall" in tail:
        assert own < 0 and peer < 0 and abs(own - peer) < MIN_POINTS
    elif "steeper fall" in tail:
        assert own < peer < 0 and peer - own >= MIN_POINTS
    elif "milder fall" in tail:
        assert peer < own < 0 and own - peer >= MIN_POINTS
    else:  # opposite signs or one unchanged: both stated, no ranking word
        assert tail.startswith("while ") and _signed(tail) == peer
        assert own * peer <= 0
    # Never "fell ... slower than the median (+0.4% a year)".
    assert not (own < 0 and "slower than" in text)


def test_a_median_of_fewer_than_five_economies_is_not_compared_with():
    assert growth_sentence(1.0, 2011, 2021, 2.0, MIN_GROUP - 1, "South Asia") == (
        "It grew by 1.0% a year between 2011 and 2021."
    )
    assert level_sentence("India", 20_000, "2017 PPP $ per worker", 2021, 20_000, 4, "South Asia") == (
        "Output per worker in India was 20,000 (2017 PPP $ per worker) in 2021."
    )  # fmt: skip
    text = level_sentence("Kenya", 11_000, "2017 PPP $ per worker", 2021, 10_000, 40, "SSA")
    assert text.endswith(
        "10.0% above the median of the 40 other economies of SSA with data (10,000)."
    )
    same = level_sentence("Kenya", 10_001, "2017 PPP $ per worker", 2021, 10_000, 40, "SSA")
    assert "within 2% of the median of the 40 other economies" in same and "0.0%" not in same
    close = level_sentence("Kenya", 10_190, "2017 PPP $ per worker", 2021, 10_000, 40, "SSA")
    assert ", within 2% of the median" in close and "above" not in close
    # From twice the median up, a ratio ("675.0% above" read as precise; GAB, ZAF).
    rich = level_sentence("Gabon", 77_500, "2017 PPP $ per worker", 2021, 10_000, 46, "SSA")
    assert rich.endswith(", 7.8 times the median of the 46 other economies of SSA with data "
                         "(10,000).")  # fmt: skip
    assert "19 times the median" in level_sentence("X", 190_000, "$", 2021, 10_000, 46, "SSA")
    assert "99.0% above" in level_sentence("X", 19_900, "$", 2021, 10_000, 46, "SSA")


def test_growth_rates_within_half_a_point_are_not_ranked():
    # 4.6% against 4.4% a year is no evidence of faster growth.
    text = growth_sentence(4.6, 2013, 2023, 4.4, 12, "Europe")
    assert "about as fast as the median" in text and "faster" not in text
    assert "faster than" in growth_sentence(5.0, 2013, 2023, 4.4, 12, "Europe")
    fell = growth_sentence(-1.2, 2013, 2023, -1.0, 12, "Europe")
    assert "about the same fall as" in fell and "steeper" not in fell


@pytest.mark.parametrize(
    ("change", "since", "unit", "better", "expected"),
    [
        (-1.2, 30.0, "percent of labour force", "lower", True),
        (1.2, 30.0, "percent of labour force", "lower", False),
        (0.4, 30.0, "percent of labour force", "lower", None),  # under 0.5 points
        (-0.4, 30.0, "percent of labour force", "lower", None),
        (1.2, 50.0, "percent of GDP", "higher", True),
        (-1.2, 50.0, "percent of GDP", "higher", False),
        (30.0, 1000.0, "2017 PPP $ per month", "higher", True),  # 3%
        (-30.0, 1000.0, "2017 PPP $ per month", "higher", False),
        (10.0, 1000.0, "2017 PPP $ per month", "higher", None),  # 1%: under 2%
        (-1.8, 535.5, "current US$ per month", "higher", None),  # nominal: never judged
        (300.0, 535.5, "current US$ per month", "higher", None),
        (0.0, 5.0, "cases per 100,000 workers", "lower", None),
        (0.5, 30.0, "percent of labour force", "lower", None),  # +0.5 is not beyond 0.5
        (0.54, 30.0, "percent of labour force", "lower", None),  # printed +0.5
        (0.56, 30.0, "percent of labour force", "lower", False),  # printed +0.6
        (-0.04, 42.2, "percent of GDP", "higher", None),  # printed -0.0
        (math.nan, math.nan, "percent of youth", "lower", None),
    ],
)
def test_changes_are_judged_only_in_real_terms_beyond_the_threshold(
    change, since, unit, better, expected
):
    assert judge_change(change, since, unit, better) is expected


def _row(**kw) -> dict:
    row = {"variable": "unemployment_rate", "label": "Unemployment", "unit": "percent of labour force",
           "better": "lower", "year": 2022, "value": 9.2, "observed": True, "change": -2.0,
           "since": 2017, "since_value": 11.2, "flags": [], "peer_median": math.nan, "peer_n": 0,
           "status": "observed", "source": "BA:1", "since_source": "BA:1", "breaks": 0,
           "unreliable": False, "plausible": True, "newest_year": 2023, "change_note": None}  # fmt: skip
    row.update(kw)
    return row


def test_scorecard_sentences():
    assert scorecard_sentence(_row()) == (
        "Unemployment fell from 11.2 to 9.2 (percent of labour force) between 2017 and 2022: better."
    )
    assert scorecard_sentence(_row(change=2.0, since_value=7.2)).endswith(": worse.")
    small = scorecard_sentence(_row(change=-0.3, since_value=9.5))
    assert "better" not in small and "0.5 percentage points or less" in small
    usd = _row(variable="mean_monthly_earnings_usd", label="Mean monthly earnings",
               unit="current US$ per month", better="higher", value=533.7, since_value=535.5,
               change=-1.8)  # fmt: skip
    assert "better" not in scorecard_sentence(usd) and "worse" not in scorecard_sentence(usd)
    modelled = scorecard_sentence(_row(observed=False))
    assert "(ILO modelled estimates)" in modelled


def test_a_brief_prints_only_claims_that_pass_every_check():
    content = BriefContent(country="XKX", country_name="Kosovo", region="Europe", income_group=None,
                           latest_year=None)  # fmt: skip
    content.scorecard = [
        _row(
            variable="mean_monthly_earnings_usd",
            label="Mean monthly earnings",
            unit="current US$ per month",
            better="higher",
            value=533.7,
            since_value=535.5,
            change=-1.8,
        ),
        _row(),
        _row(
            variable="youth_neet_rate",
            label="Youth NEET",
            unit="percent of youth",
            value=20.0,
            since_value=30.0,
            change=-10.0,
            observed=False,
            flags=["projected"],
        ),
    ]
    printed = key_messages(content)
    # The projection is held back; the nominal change is stated, unjudged, and ranks last.
    assert printed == [scorecard_sentence(_row()), scorecard_sentence(content.scorecard[0])]
    claims = claims_frame(content, "pub1").set_index("variable")
    assert len(claims) == 3 and claims["printed"].sum() == 2
    assert "verdict_in_real_terms=pass" in claims.loc["mean_monthly_earnings_usd", "checks"]
    assert "not_projected=fail" in claims.loc["youth_neet_rate", "checks"]
    assert not claims.loc["youth_neet_rate", "passed"]
    assert claims.loc["unemployment_rate", "years"] == "2017-2022"


def test_a_cross_country_result_is_a_finding_only_when_its_interval_excludes_zero():
    import pandas as pd

    from pedw.briefs.findings import cross_country_findings

    def estimate(low: float, high: float) -> dict:
        return {"model_id": "national_pass_through_informality_rate",
                "term": "log_output_per_worker", "level": "national", "estimate": (low + high) / 2,
                "ci_low": low, "ci_high": high, "n_obs": 868, "n_groups": 111,
                "specification": "twfe"}  # fmt: skip

    for (low, high), clear in [((-2.0, 1.5), False), ((-2.0, -0.5), True), ((0.1, 0.4), True)]:
        findings, withheld = cross_country_findings(
            pd.DataFrame([estimate(low, high)]), pd.DataFrame()
        )
        assert findings[0]["excludes_zero"] is clear and not withheld
        assert not findings[0]["firms"]
        assert findings[0]["basis"] == "868 observations, 111 economies"
    # A 10% higher output per worker: the coefficient times log(1.1), interval on that scale.
    assert findings[0]["text"] == (
        "a 10% higher output per worker goes with informality +0.02 percentage points"
    )
    assert findings[0]["interval"] == "95% interval +0.01 to +0.04"


def test_a_firm_level_result_withheld_by_disclosure_control_stays_withheld():
    import pandas as pd

    from pedw.briefs.findings import cross_country_findings

    estimates = pd.DataFrame([{
        "model_id": "score_event_study_log_labour_productivity", "term": "att_post",
        "level": "enterprise", "estimate": 0.08, "ci_low": 0.06, "ci_high": 0.1, "n_obs": 900,
        "n_groups": 12, "specification": "sun-abraham"}])  # fmt: skip
    effects = pd.DataFrame([{
        "model_id": "score_event_study_log_labour_productivity", "status": "primary",
        "reason": "fewer than 10 treated firms", "treated_firms": 4, "treated_countries": 1,
        "control_firms": 300}])  # fmt: skip
    findings, withheld = cross_country_findings(estimates, effects)
    assert findings == []
    assert withheld == [
        "The result on the SCORE programme is withheld by disclosure control: fewer than 10 "
        "treated firms."
    ]
    # No disclosure decision at all: never published, not even as withheld.
    assert cross_country_findings(estimates, effects.iloc[:0]) == ([], [])


def test_peer_growth_is_the_median_of_each_peers_own_growth_not_the_growth_of_the_median():
    from pedw.briefs.content import peer_growth

    levels = {"A": (100, 200), "B": (200, 220), "C": (300, 310), "D": (400, 300),
              "E": (500, 505), "OWN": (50, 60)}  # fmt: skip
    rows = [{"ref_area": c, "region": "R", "year": y, "output_per_worker": v}
            for c, pair in levels.items() for y, v in zip((2010, 2020), pair, strict=True)]  # fmt: skip
    rows.append({"ref_area": "F", "region": "R", "year": 2020, "output_per_worker": 900.0})
    panel = pd.DataFrame(rows)  # F has no 2010 value: not in the balanced set
    median, count = peer_growth(panel, "region", "R", "output_per_worker", "OWN", 2010, 2020)
    own_growth = sorted(100 * ((b / a) ** 0.1 - 1) for c, (a, b) in levels.items() if c != "OWN")
    assert count == 5
    assert median == pytest.approx(own_growth[2], abs=1e-12)  # C's: +0.33% a year
    # The growth of the median level (300 -> 300 with F left out) would say 0.0%.
    assert round(median, 1) == 0.3
    # From A's side its peers are B, C, D, E and OWN: A's own doubling is never among them.
    assert peer_growth(panel, "region", "R", "output_per_worker", "A", 2010, 2020)[1] == 5
    few = panel[panel["ref_area"].isin(["A", "B", "OWN"])]
    assert math.isnan(peer_growth(few, "region", "R", "output_per_worker", "OWN", 2010, 2020)[0])


def test_sentences_judge_the_figures_as_printed():
    """No "+0.5 (worse)", no "fell from 42.2 to 42.2", no "rose from 4.5 to 5.0 ... within
    0.5" (GIN, TGO, DEU in the editor's review)."""
    half = _row(value=5.0, since_value=4.5, change=0.5)
    assert scorecard_sentence(half) == (
        "Unemployment changed little, from 4.5 to 5.0 (percent of labour force) between 2017 "
        "and 2022: a change of 0.5 percentage points or less, too small to call."
    )
    same = _row(variable="labour_income_share", label="Labour income share", unit="percent of GDP",
                better="higher", value=42.24, since_value=42.16, change=0.0)  # fmt: skip
    assert scorecard_sentence(same) == (
        "Labour income share was unchanged at 42.2 (percent of GDP) between 2017 and 2022."
    )


def test_no_verdict_across_a_break_on_an_unreliable_value_or_an_implausible_move():
    broken = _row(since=None, change=math.nan, since_value=math.nan,
                  change_note="not comparable over time (break in series / change of source)")  # fmt: skip
    assert scorecard_sentence(broken) == (
        "Unemployment was 9.2 (percent of labour force) in 2022; not comparable over time "
        "(break in series / change of source)."
    )
    unreliable = scorecard_sentence(_row(unreliable=True, value=1.3, since_value=8.2, change=-6.9))
    assert unreliable.endswith("flags as unreliable (not judged).") and "better" not in unreliable
    jump = scorecard_sentence(_row(plausible=False, value=10.1, since_value=48.2, change=-38.1))
    assert jump.endswith("(not judged).") and "worse" not in jump and "better" not in jump


@pytest.mark.parametrize(
    ("check", "row"),
    [
        ("not_projected", {"status": "projected"}),
        ("comparable", {"since_source": "BX:2228"}),  # IND: NSS 2012 against PLFS 2022
        ("comparable", {"breaks": 1}),  # a B flag or a suspected break between the ends
        ("recent", {"year": 2008, "since": 2003, "newest_year": 2024}),  # SSD, SYR
        ("recent", {"since": 2005}),  # a change over 17 years
        ("not_unreliable", {"unreliable": True}),  # COK: a value flagged U
        ("plausible", {"plausible": False}),  # VEN: 48.2 -> 10.1
    ],
)
def test_a_claim_failing_a_check_is_kept_out(check, row):
    content = BriefContent(country="XKX", country_name="Kosovo", region="Europe", income_group=None,
                           latest_year=None)  # fmt: skip
    content.scorecard = [_row(), _row(variable="youth_neet_rate", label="Youth NEET", **row)]
    printed = key_messages(content)
    claims = claims_frame(content, "pub1").set_index("variable")
    assert f"{check}=fail" in claims.loc["youth_neet_rate", "checks"]
    assert not claims.loc["youth_neet_rate", "printed"]
    assert f"{check}=pass" in claims.loc["unemployment_rate", "checks"]
    assert printed == [scorecard_sentence(_row())]


def test_productivity_messages_older_than_the_maximum_age_are_kept_out():
    content = BriefContent(country="ABW", country_name="Aruba", region="Latin America & Caribbean",
                           income_group=None, latest_year=2011)  # fmt: skip
    content.headline = {"output_per_worker": 50000.0, "unit": "2017 PPP $ per worker",
                        "year": 2011, "growth_per_year": 1.0, "growth_from": 2001,
                        "flags": [], "newest_year": 2024, "region_median": 30000.0,
                        "region_median_n": 3}  # fmt: skip
    assert key_messages(content) == []
    checks = claims_frame(content, "pub1")["checks"]
    assert list(checks.str.contains("recent=fail")) == [True, True]
    assert checks.str.contains("group_of_5_or_more=pass").all()  # no median named under 5
    content.headline["newest_year"] = 2021
    assert len(key_messages(content)) == 2
    content.headline["status"] = "projected"
    assert key_messages(content) == []


def test_a_brief_whose_every_figure_is_too_old_carries_a_staleness_banner():
    """ABW as the real catalog has it: earnings 2010 (ILOSTAT's earnings file ends in 2020),
    unemployment 2011 and NEET 2010 (those series reach 2023), no output per worker. Measured
    against each variable's own newest year the earnings figure was 10 years old, within the
    maximum, and no banner fired; against the publication's year (2023) every figure is 12 or
    more years old."""
    panel = pd.DataFrame({"ref_area": ["ABW", "ABW", "DEU", "DEU"], "year": [2010, 2011, 2020, 2023],
                          "unemployment_rate": [10.6, 8.9, 3.6, 3.1],
                          "youth_neet_rate": [16.56, math.nan, 8.6, 8.9],
                          "mean_monthly_earnings_usd": [1683.24, math.nan, 4000.0, math.nan],
                          "output_per_worker": [math.nan, math.nan, math.nan, math.nan]})  # fmt: skip
    clock = publication_year(panel, BRIEF_SERIES)
    assert clock == 2023
    content = BriefContent(country="ABW", country_name="Aruba", region=None, income_group=None,
                           latest_year=None)  # fmt: skip
    content.scorecard = [
        _row(year=2011, value=8.9, since=None, change=math.nan),
        _row(variable="youth_neet_rate", year=2010, value=16.6, since=None, change=math.nan),
        _row(variable="mean_monthly_earnings_usd", unit="current US$ per month", year=2010,
             value=1683.2, since=None, change=math.nan),
    ]  # fmt: skip
    assert staleness(content, clock) == {"newest_figure": 2011, "years_behind": 12,
                                         "publication_year": 2023, "max_age": 10}  # fmt: skip
    content.scorecard[0]["year"] = 2013  # ten years behind 2023: not older than the maximum
    assert staleness(content, clock) is None
    # A productivity headline within the maximum age is enough to keep the banner off.
    content.scorecard[0]["year"] = 2011
    content.headline = {"year": 2019}
    assert staleness(content, clock) is None
    assert staleness(content, None) is None  # no headline series in the panel: no clock


def test_the_publication_year_is_the_newest_year_of_any_headline_series_in_any_economy():
    panel = pd.DataFrame({"ref_area": ["A", "B", "C"], "year": [2019, 2024, 2026],
                          "unemployment_rate": [5.0, math.nan, math.nan],
                          "labour_income_share": [50.0, 52.0, math.nan],  # C's 2026: a blanked projection
                          "gdp_per_capita_ppp": [1.0, 1.0, 1.0]})  # not a headline series  # fmt: skip
    assert publication_year(panel, BRIEF_SERIES) == 2024
    assert publication_year(panel, ["unemployment_rate"]) == 2019
    assert publication_year(panel.iloc[:0], BRIEF_SERIES) is None
    assert recent(2014, 2024) and not recent(2013, 2024) and recent(2000, None)


def _decomposition(start: int, end: int, total: float, within: float, fragile=False) -> dict:
    return {"start_year": start, "end_year": end, "total_change_growth_pct": total,
            "within_sector_growth_pct": within, "fragile": fragile}  # fmt: skip


def test_a_structural_change_message_rests_on_a_recent_steady_period_in_step_with_the_headline():
    """The whole period (28 years) and periods ending more than MAX_AGE years before the
    publication's year are never key messages; neither is a fragile period, nor one whose
    aggregate growth contradicts the brief's own output per worker. The latest period that
    passes is chosen, and the message names the sector accounts' unit."""
    series = pd.DataFrame({"level": ["sector", "sector", "national"],
                           "variable": ["value_added", "employment", "value_added"],
                           "unit": ["constant 2015 local currency", "persons", "2017 PPP $"]})  # fmt: skip
    headline = pd.DataFrame({"year": [2005, 2010, 2015], "country": [100.0, 110.0, 121.0]})

    def content(periods, whole):
        return BriefContent(
            country="KEN", country_name="Kenya", region=None, income_group=None,
            latest_year=2021, publication_year=2024, series=series, productivity=headline,
            shift_share=pd.DataFrame(periods), shift_share_whole=pd.DataFrame([whole]),
        )  # fmt: skip

    whole = _decomposition(1990, 2018, 80.0, 50.0)
    (claim,) = structure_claims(content(
        [_decomposition(2005, 2010, 10.0, 6.0), _decomposition(2010, 2015, 10.5, 4.0)], whole
    ))  # fmt: skip
    assert claim.passed and claim.years == [2010, 2015]
    assert claim.text.startswith("Between 2010 and 2015 (a period 9 years old), output per "
                                 "worker in the sector "
                                 "accounts (value added in constant 2015 local currency) "
                                 "changed by +10.5%: +4.0 points from growth within sectors "
                                 "and +6.5 points")  # fmt: skip
    # The latest period fragile: the one before it ends in 2010, 14 years before 2024.
    (claim,) = structure_claims(content(
        [_decomposition(2005, 2010, 10.0, 6.0), _decomposition(2010, 2015, 10.5, 4.0, True)],
        whole,
    ))  # fmt: skip
    assert not claim.passed and claim.checks["recent"] is False
    assert claim.checks["decomposition_not_fragile"] and claim.years == [1990, 2018]
    # The sector accounts fall by 14% where the headline grows 10%: kept out (on record, as
    # the one period that is not fragile).
    fragile_whole = {**whole, "fragile": True}
    (claim,) = structure_claims(content([_decomposition(2010, 2015, -14.0, -9.0)], fragile_whole))
    assert claim.checks == {"decomposition_not_fragile": True, "recent": True,
                            "in_step_with_headline": False}  # fmt: skip
    # Within a point a year of the headline (+1.9% against +1.92% a year): in step.
    (claim,) = structure_claims(content([_decomposition(2010, 2015, 6.0, 3.0)], whole))
    assert claim.passed
    # A fall of 100% or more in the sector accounts (a broken series) is never in step.
    (claim,) = structure_claims(content([_decomposition(2010, 2015, -100.0, -60.0)], fragile_whole))
    assert claim.checks["in_step_with_headline"] is False


def test_a_figure_more_than_five_years_old_says_so_in_words():
    """MAX_AGE allows a key message on a figure up to 10 years old; beyond DATED_AGE (5) the
    sentence tells the reader how old it is instead of leaving the year to be noticed."""
    old = _row(year=2014, since=2009, since_value=11.2, newest_year=2024)
    assert scorecard_sentence(old) == (
        "Unemployment fell from 11.2 to 9.2 (percent of labour force) between 2009 and 2014 "
        "(the latest figure, 10 years old): better."
    )
    level = _row(year=2014, since=None, change=math.nan, newest_year=2024, observed=False)
    assert scorecard_sentence(level) == (
        "Unemployment was 9.2 (percent of labour force) in 2014 (the latest figure, 10 years "
        "old; ILO modelled estimates)."
    )
    assert "years old" not in scorecard_sentence(_row(year=2019, newest_year=2024))
    text = level_sentence("Yemen", 5_000, "2017 PPP $ per worker", 2016, math.nan, 0, None,
                          newest=2024)  # fmt: skip
    assert (
        text
        == "Output per worker in Yemen was 5,000 (2017 PPP $ per worker) in 2016 (the latest figure, 8 years old)."
    )


def test_the_scorecard_csv_holds_the_figures_as_the_page_prints_them():
    """One decimal like the page (UKR's 50.21 printed 50.2), years and counts as integers
    (not "2016.0")."""
    from pedw.briefs.render import data_files

    content = BriefContent(country="UKR", country_name="Ukraine", region=None,
                           income_group=None, latest_year=2021)  # fmt: skip
    content.scorecard = [
        _row(value=50.21, change=5.35, since=2016, peer_median=52.666, peer_n=46),
        _row(variable="youth_neet_rate", value=16.5, change=math.nan, since=None, peer_n=0),
    ]
    card = data_files(content, {})["UKR_scorecard.csv"]
    assert card["value"].tolist() == [50.2, 16.5]
    assert card["peer_median"].iloc[0] == 52.7 and math.isnan(card["peer_median"].iloc[1])
    assert card["change"].iloc[0] == float(f"{5.35:.1f}")
    lines = card.to_csv(index=False).splitlines()
    assert lines[1].endswith(",2016,5.3,52.7,46") and ",16.5,,," in lines[2]
