"""The 182 briefs of the shared real catalog read as a labour statistician would sign them:
the latest observed value, no projection as a fact, medians with their group size, no verdict
on nominal changes, no fragile decomposition as a headline, no internal names in the text.

The real catalog is built once for the session (tests/conftest.py, real_run: minutes)."""

from __future__ import annotations

import html as html_text
import re
from pathlib import Path

import pandas as pd
import pypdf
import pytest
from brief_checks import key_messages

from pedw.warehouse import connect_read_only

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_briefs(real_run):
    """(warehouse connection, briefs folder) of the real catalog, built once a session."""
    settings, summary = real_run
    assert summary.success, summary.failures + summary.blocked
    con = connect_read_only(settings.warehouse_path)
    yield con, settings.warehouse_path.parent / "briefs"
    con.close()


def _pages(folder: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("???.html"))}


def test_the_latest_value_shown_is_the_last_observed_one(real_briefs):
    con, folder = real_briefs
    expected = con.execute("""
        SELECT ref_area, variable,
               coalesce(max(year) FILTER (WHERE status = 'observed'),
                        max(year) FILTER (WHERE status = 'modelled')) AS year
        FROM marts.series_choice WHERE chosen GROUP BY ALL""").df()
    expected = expected.set_index(["ref_area", "variable"])["year"]
    cards = [
        pd.read_csv(path).assign(country=path.name[:3])
        for path in sorted(folder.glob("???_scorecard.csv"))
    ]
    shown = pd.concat(cards, ignore_index=True)
    assert shown["country"].nunique() >= 180
    wanted = expected.reindex(pd.MultiIndex.from_frame(shown[["country", "variable"]]))
    stale = shown[wanted.to_numpy() != shown["year"].to_numpy()]
    assert stale.empty, stale[["country", "variable", "year"]].head(10)
    # Brazil's unemployment and youth NEET follow the continuous PNAD to 2022 (the older
    # survey, with more years, stops in 2011); India's NEET is not stuck in 2012.
    card = shown.set_index(["country", "variable"])["year"]
    assert card[("BRA", "unemployment_rate")] == 2022 and card[("BRA", "youth_neet_rate")] == 2022
    assert card[("IND", "youth_neet_rate")] > 2012
    # No value shown is a projection (the labour income share's 2025-2026 are).
    projected = con.execute(
        "SELECT ref_area, variable, year FROM marts.series_choice "
        "WHERE chosen AND status = 'projected'"
    ).df()
    hit = shown.merge(projected, left_on=["country", "variable", "year"],
                      right_on=["ref_area", "variable", "year"])  # fmt: skip
    assert len(projected) > 500 and hit.empty


def test_every_printed_claim_passes_its_checks(real_briefs):
    con, folder = real_briefs
    claims = con.execute("SELECT * FROM briefs.claims ORDER BY country, position").df()
    printed = claims[claims["printed"]]
    assert printed["country"].nunique() >= 180
    assert printed["passed"].all() and not printed["checks"].str.contains("=fail").any()
    # What was held back, and why, is on record. A structural-change message rests on a
    # period that is not fragile, recent (ends 2014 or later for a publication of 2024, spans
    # at most 10 years) and in step with the brief's own output per worker: of the ETD's
    # periods only 2010-2015 can be, never 1990-2018 (the editor's review: 40 of 46 printed
    # messages were older or longer, and Kenya's -14.0% over 1990-2018 contradicted its chart).
    structure = claims[claims["kind"] == "structural_change"].set_index("country")
    printed_structure = structure[structure["printed"]]
    assert len(structure) == 51 and len(printed_structure) >= 15
    assert (printed_structure["years"] == "2010-2015").all()
    assert printed_structure.loc["KEN", "text"].startswith(
        "Between 2010 and 2015 (a period 9 years old), output per worker in the sector accounts "
        "(value added in "
        "constant 2015 local currency) changed by +11.6%"
    )
    held = structure[~structure["printed"]]
    # Every period of Rwanda's decomposition is driven by real estate's few workers.
    assert "decomposition_not_fragile=fail" in held.loc["RWA", "checks"]
    # Nigeria's 2010-2015 sector accounts move apart from its output per worker.
    assert held.loc["NGA", "years"] == "2010-2015"
    assert held.loc["NGA", "checks"].endswith("recent=pass, in_step_with_headline=fail")
    assert (held["checks"].str.contains("=fail")).all()
    # Each brief prints exactly its printed claims, in order.
    pages = _pages(folder)
    for country, rows in printed.groupby("country", sort=False):
        shown = [html_text.unescape(m) for m in key_messages(pages[country])]
        assert shown == rows["text"].tolist(), country
    # 0 key messages on projected values; medians of five or more, with their size.
    projected = con.execute(
        "SELECT ref_area || ':' || variable || ':' || year FROM marts.series_choice "
        "WHERE chosen AND status = 'projected'"
    ).fetchall()
    projected = {r[0] for r in projected}
    for row in printed.itertuples():
        for year in str(row.years).split("-"):
            if year:
                assert f"{row.country}:{row.variable}:{year}" not in projected, row.text
    compared = printed[printed["comparison_group"] != ""]
    assert len(compared) > 100 and (compared["group_size"] >= 5).all()


def test_no_verdict_across_a_break_a_change_of_source_or_on_old_or_unreliable_figures(real_briefs):
    """The editor's review: every printed "better"/"worse" compares two values of one source
    with no B flag between them, over at most ten years, on no U-flagged value, and the
    verdict is beyond 0.5 points as printed. India's unemployment is compared on the PLFS."""
    con, _ = real_briefs
    chosen = con.execute(
        "SELECT ref_area, variable, year, source, obs_status FROM marts.series_choice "
        "WHERE chosen AND status <> 'projected'"
    ).df()
    claims = con.execute("SELECT * FROM briefs.claims WHERE printed AND kind = 'scorecard'").df()
    judged = claims[claims["text"].str.contains(r": (?:better|worse)\.$")]
    assert len(judged) > 150
    for row in judged.itertuples():
        start, end = (int(y) for y in row.years.split("-"))
        assert 3 <= end - start <= 10, row.text
        span = chosen[(chosen["ref_area"] == row.country) & (chosen["variable"] == row.variable)
                      & chosen["year"].between(start, end)]  # fmt: skip
        assert span["source"].nunique() == 1, row.text
        assert not span["obs_status"].isin(["B", "U"]).any(), row.text
        before, after = (float(v) for v in row.values.split("; "))
        assert abs(round(after, 1) - round(before, 1)) > 0.5 + 1e-9 or "percent" not in row.text
    ind = claims[(claims["country"] == "IND") & (claims["variable"] == "unemployment_rate")]
    assert not ind["years"].str.startswith("2012").any()
    assert not claims["text"].str.contains(r"from (\d+\.\d) to \1 ").any()  # "42.2 to 42.2"


def test_reader_text_states_group_sizes_and_judges_only_real_changes(real_briefs):
    con, folder = real_briefs
    fragile = {
        (r[0], f"{r[1]}-{r[2]}")
        for r in con.execute(
            "SELECT ref_area, start_year, end_year FROM models.shift_share WHERE fragile"
        ).fetchall()
    }
    assert fragile, "the ETD should give fragile periods (Rwanda, Burkina Faso)"
    caveats = 0
    for country, page in _pages(folder).items():
        messages = [html_text.unescape(m) for m in key_messages(page)]
        for text in messages:
            if "median" in text:
                sizes = re.findall(r"the median of the (\d+) other economies", text)
                assert sizes and all(int(n) >= 5 for n in sizes), text
            if "current US$" in text or "US dollars" in text:
                assert not re.search(r"\b(better|worse)\b", text), text
            assert "0.0% above" not in text and "0.0% below" not in text, text
            assert not ("fell by" in text and "slower than" in text), text
            period = re.match(
                r"Between (\d{4}) and (\d{4})( \([^)]*\))?, output per worker in the sector", text
            )
            if period:
                assert (country, f"{period[1]}-{period[2]}") not in fragile, text
        if any(c == country for c, _ in fragile):
            assert 'id="shift-share-caveat"' in page, country
            caveats += 1
            # The caveat says why: which effect a tiny sector drives, and its share.
            caveat = re.search(r'id="shift-share-caveat">(.*?)</p>', page, re.S)[1]
            assert re.search(r"is driven by ISIC section \S+, which had \d\.\d\d% of", caveat)
            assert "of employment has noisy value added per worker" in caveat, country
        assert "PROVENANCE" not in page and "flagged missing" not in page, country
    assert caveats >= 2


def _pictures(page) -> int:
    """How many pictures (the charts) a PDF page draws."""
    objects = (page["/Resources"].get_object().get("/XObject") or {}).values()
    return sum(x.get_object()["/Subtype"] == "/Image" for x in objects)


def test_twenty_pdfs_put_the_first_chart_on_page_one_and_end_with_content(real_briefs):
    _, folder = real_briefs
    pages = sorted(folder.glob("???.html"))[::9][:20]  # 20 briefs across the alphabet
    assert len(pages) == 20
    for path in pages:
        reader = pypdf.PdfReader(path.with_suffix(".pdf"))
        if 'id="figure-productivity"' in path.read_text(encoding="utf-8"):
            assert _pictures(reader.pages[0]) >= 1, path.name
        # The last page holds more than the technical note (the footer).
        last = reader.pages[-1].extract_text()
        assert last.split("Technical note.")[0].strip(), (path.name, last[:300])


def test_one_annex_linked_from_every_brief_and_no_word_on_firms(real_briefs):
    """The real files hold no firm data: no brief says anything about firms; each brief's data
    quality section is its own; the one cross-country annex is linked from all of them."""
    con, folder = real_briefs
    pages = _pages(folder)
    annex = con.execute(
        "SELECT count(*), min(html), min(pdf) FROM briefs.index WHERE country = 'cross_country'"
    ).fetchone()
    assert annex == (1, "briefs/cross_country.html", "briefs/cross_country.pdf")
    assert (folder / "cross_country.html").is_file() and (folder / "cross_country.pdf").is_file()
    qualities = set()
    for country, page in pages.items():
        assert '<a href="cross_country.html">cross-country annex</a>' in page, country
        text = re.sub(r'src="data:[^"]+"', "", page).lower()
        assert "firm" not in text, (country, text[max(0, text.find("firm") - 200) :][:400])
        qualities.add(page[page.index('<section id="quality">') : page.index('id="sources"')])
    assert len(qualities) == len(pages)
    # Its results: a finding only when the interval excludes zero.
    document = html_text.unescape((folder / "cross_country.html").read_text(encoding="utf-8"))
    excluding = con.execute(
        "SELECT count(*) FROM models.estimates WHERE term = 'log_output_per_worker' "
        "AND model_id LIKE 'national_pass_through_%' AND (ci_low > 0 OR ci_high < 0)"
    ).fetchone()[0]
    assert document.count("Finding: ") == excluding
    assert "firms" not in document.split("Technical note")[0]


def test_sources_cite_their_own_release_and_the_annex_says_what_its_models_compare(real_briefs):
    """Each indicator cited with the release of its own file (the edition the file states
    where it states one); one quality row per source as cited; no current-price value called
    a units change; and an annex whose sentences follow the models' design, name modelled
    inputs and list every estimated model it does not report."""
    con, folder = real_briefs
    page = html_text.unescape((folder / "NGA.html").read_text(encoding="utf-8"))
    assert "ILO, ILOSTAT (release ILO modelled estimates, Nov. 2022 (downloaded 2023-10-18)), " \
        "indicator GDP_211P_NOC_NB" in page  # fmt: skip
    assert re.search(r"\(release ILO modelled estimates, Nov\. 2025[^;]*\), indicator "
                     r"SDG_1041_NOC_RT;", page)  # fmt: skip
    assert "SDG_1041 of 2026-08-12" not in page and "download date)), indicator GDP" not in page
    assert "(1 years)" not in page and "(1 year)" in page  # NGA: informality in 2022 only
    for country, text in _pages(folder).items():
        quality = text[text.index('<section id="quality">') : text.index('id="sources"')]
        rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">[\d,]+</td>", quality)
        sources = [r for r in rows if " data)" in r]
        assert len(sources) == len(set(sources)), (country, sources)
        assert "unit jump" not in quality, country
    units = con.execute(
        "SELECT count(*) FROM quality.quarantine q JOIN raw.sector_observations r "
        "USING (source_file, source_line) WHERE q.rule = 'unit_jump' "
        "AND r.indicator = 'ETD_VA_CUR'"
    ).fetchone()[0]
    assert units == 0  # inflation is not a units change
    annex = html_text.unescape((folder / "cross_country.html").read_text(encoding="utf-8"))
    body = annex.split("Technical note")[0]
    assert "across the economies in the warehouse, a 10%" not in body
    assert body.count("within economies over time") == 2  # two pass-through results, with FE
    assert re.search(r"Both labour income share \(\d+% of the values in its sample\) and "
                     r"output per worker \(100% of the values in its sample\) are mostly "
                     r"modelled estimates", body)  # fmt: skip
    reported = {m for m in re.findall(r"<code>([a-z_]+)</code>", annex.split("Models:")[1]
                                      .split("Estimated, not reported")[0])}  # fmt: skip
    estimated = {
        r[0] for r in con.execute("SELECT DISTINCT model_id FROM models.estimates").fetchall()
    }
    unreported = estimated - reported
    assert len(unreported) == 3  # production function and two long-difference checks
    for model in unreported:
        assert f"<code>{model}</code>" in annex.split("Estimated, not reported")[1]
    assert "3 more estimated models are not reported" in body


def test_only_economies_with_productivity_and_decent_work_series_get_a_brief(real_briefs):
    """182 briefs (195 under the former rule of any three headline series): Aruba and 12 more
    small economies have no output per worker in ILOSTAT's modelled estimates, and their
    briefs were empty productivity sections over a scorecard. Every economy of the panel
    without a brief is listed with the reason."""
    con, folder = real_briefs
    briefed = {p.stem for p in folder.glob("???.html")}
    assert len(briefed) == 182
    withheld = con.execute("SELECT * FROM meta.briefs_withheld ORDER BY country").df()
    economies = con.execute("SELECT DISTINCT ref_area FROM marts.national_panel").df()
    assert briefed.isdisjoint(withheld["country"])
    assert briefed | set(withheld["country"]) == set(economies["ref_area"])
    no_output = withheld[(withheld["reason"] == "no output per worker series")]
    assert set(no_output["country"]) == {"ABW", "BMU", "COK", "CUW", "GRD", "KIR", "MHL", "NRU",
                                         "REU", "SYC", "TUV", "WLF", "XKX"}  # fmt: skip
    aruba = withheld.set_index("country").loc["ABW"]
    assert (aruba["latest_decent_work_year"], aruba["headline_series"]) == (2011, 3)
    assert aruba["sources_searched"].startswith("GDP_211P_NOC_NB (ilostat_explorer)")
    assert (withheld["reason"] != "").all()


def test_a_brief_carries_the_staleness_banner_exactly_when_every_headline_figure_is_old(
    real_briefs,
):
    """Ages count from the publication's year (2024: the newest headline figure of any
    economy), not each variable's own newest year. Of the 182 briefs none has every figure
    more than ten years old (Aruba, 2010-2011, was the one such brief; it is withheld)."""
    con, folder = real_briefs
    clock = con.execute(
        "SELECT max(year) FROM marts.series_choice WHERE chosen AND status <> 'projected' "
        "AND variable IN ('output_per_worker', 'informality_rate', 'informal_employment_rate', "
        "'labour_income_share', 'mean_real_earnings', 'mean_monthly_earnings_usd', "
        "'working_poverty_rate', 'unemployment_rate', 'youth_neet_rate', 'fatal_injury_rate')"
    ).fetchone()[0]
    assert clock == 2024
    bannered = 0
    for country, page in _pages(folder).items():
        years = []
        for name in (f"{country}_scorecard.csv", f"{country}_productivity.csv"):
            if (folder / name).is_file():
                years.append(int(pd.read_csv(folder / name)["year"].max()))
        stale = clock - max(years) > 10
        assert ('id="stale-banner"' in page) == stale, country
        bannered += stale
    assert bannered == 0


def _scorecards(folder: Path) -> pd.DataFrame:
    cards = [
        pd.read_csv(path).assign(country=path.name[:3])
        for path in sorted(folder.glob("???_scorecard.csv"))
    ]
    return pd.concat(cards, ignore_index=True)


def test_figures_are_labelled_as_what_they_are_and_read_grammatically(real_briefs):
    """The editor's review: no median series labelled "mean", no "earnings was". Every
    scorecard row's label follows its series' variant (marts.series_choice), and every
    sentence's verb agrees with its label's number (pedw.briefs.content.SCORECARD)."""
    from pedw.briefs.content import SCORECARD

    con, folder = real_briefs
    shown = _scorecards(folder)
    variants = con.execute(
        "SELECT DISTINCT ref_area AS country, variable, variant FROM marts.series_choice "
        "WHERE chosen"
    ).df()
    # One variant per economy and variable: never a median and a mean in one trend.
    assert not variants.duplicated(["country", "variable"]).any()
    rows = shown.merge(variants, on=["country", "variable"], how="left")
    medians = rows[rows["variant"].fillna("").str.contains("median")]
    assert len(medians) >= 5  # Hong Kong, Macau, Singapore, Bermuda, South Africa, ...
    assert medians["label"].str.startswith("Median ").all(), medians[["country", "label"]]
    others = rows[~rows.index.isin(medians.index)]
    assert not others["label"].str.startswith("Median ").any()
    real = rows[rows["variant"].fillna("").str.contains("real values")]
    assert len(real) >= 3 and real["label"].str.contains("real values").all()
    # Claims: the label as shown, then a verb that agrees with it.
    plural = {i.variable: i.plural for i in SCORECARD}
    claims = con.execute(
        "SELECT country, variable, text FROM briefs.claims WHERE kind = 'scorecard'"
    ).df()
    labelled = claims.merge(shown[["country", "variable", "label"]], on=["country", "variable"])
    assert len(labelled) == len(shown) > 800  # one claim per scorecard row
    for row in labelled.itertuples():
        assert row.text.startswith(row.label + " "), (row.text, row.label)
        verb = row.text[len(row.label) + 1 :].split(" ")[0]
        if verb in ("was", "were", "is", "are"):
            assert (verb in ("were", "are")) == plural[row.variable], row.text
    earnings = labelled[labelled["variable"] == "mean_monthly_earnings_usd"]
    assert (
        not earnings["text"]
        .str.contains(r"^(?:Mean|Median) monthly earnings[^.;]* (?:was|is) ")
        .any()
    )
    assert earnings["text"].str.contains(r"^Mean monthly earnings were ").any()
    median_claims = earnings.merge(medians[["country", "variable"]])
    assert len(median_claims) and not median_claims["text"].str.startswith("Mean").any()
    # Nowhere in a median economy's brief (scorecard, quality, sources) is it called a mean.
    for country in medians.loc[medians["variable"] == "mean_monthly_earnings_usd", "country"]:
        page = (folder / f"{country}.html").read_text(encoding="utf-8")
        assert "Mean monthly earnings" not in page and "Median monthly earnings" in page, country


def test_peers_are_compared_like_with_like(real_briefs):
    """Each scorecard row's regional median rests on the other economies of its region whose
    chosen value that year is of the same variant (a median never among means), and on at
    most one informality series per brief, the same for its value, change and peers."""
    con, folder = real_briefs
    shown = _scorecards(folder)
    con.register("_shown", shown[["country", "variable", "year", "peer_n"]])
    counted = con.execute("""
        WITH chosen AS (
            SELECT c.ref_area, c.variable, c.year, c.variant, p.region
            FROM marts.series_choice c
            JOIN (SELECT DISTINCT ref_area, region FROM marts.national_panel) p USING (ref_area)
            WHERE c.chosen AND c.status <> 'projected')
        SELECT s.country, s.variable, s.year, s.peer_n,
               count(o.ref_area) FILTER (WHERE o.variant = m.variant) AS alike,
               count(o.ref_area) AS all_peers
        FROM _shown s
        JOIN chosen m ON m.ref_area = s.country AND m.variable = s.variable AND m.year = s.year
        LEFT JOIN chosen o ON o.region = m.region AND o.variable = m.variable
                          AND o.year = m.year AND o.ref_area <> m.ref_area
        GROUP BY ALL""").df()
    con.unregister("_shown")
    assert len(counted) == len(shown)
    assert (counted["peer_n"] == counted["alike"]).all(), counted[
        counted["peer_n"] != counted["alike"]
    ]
    assert (counted["alike"] < counted["all_peers"]).sum() >= 10  # restricted somewhere
    informality = shown[shown["variable"].isin(["informality_rate", "informal_employment_rate"])]
    assert not informality.duplicated("country").any()
    claims = con.execute(
        "SELECT country, variable FROM briefs.claims "
        "WHERE variable IN ('informality_rate', 'informal_employment_rate')"
    ).df()
    assert len(claims) > 100
    kept = claims.merge(informality[["country", "variable"]], how="left", indicator=True)
    assert (kept["_merge"] == "both").all(), kept[kept["_merge"] != "both"]


def test_an_old_figure_says_its_age_and_a_large_gap_is_a_ratio(real_briefs):
    """The editor's review: Yemen's 2014 unemployment read as current (a year alone); Gabon's
    output per worker was "675.0% above" the median. A printed figure more than 5 years
    behind the publication's year (2024) says how old it is (a structural-change period
    too: the standing check found 2010-2015 printed without its age), and one younger does not; a
    level twice the median or more is "x times" it."""
    con, _ = real_briefs
    claims = con.execute(
        "SELECT country, kind, years, text FROM briefs.claims WHERE printed "
        "AND kind IN ('scorecard', 'productivity_level', 'structural_change')"
    ).df()
    latest = claims["years"].str.split("-").str[-1].astype(int)
    old = claims[2024 - latest > 5]
    assert len(old) >= 10 and "YEM" in set(old["country"])
    for row, year in zip(old.itertuples(), latest[old.index], strict=True):
        noun = "a period" if row.kind == "structural_change" else "the latest figure,"
        assert f"({noun} {2024 - year} years old" in row.text, row.text
    assert (old["kind"] == "structural_change").sum() >= 15  # 2010-2015: 9 years old
    assert not claims.loc[2024 - latest <= 5, "text"].str.contains("years old").any()
    levels = claims[claims["kind"] == "productivity_level"]["text"]
    assert levels.str.contains(r" times the median of the \d+ other").sum() >= 5
    assert not levels.str.contains(r"\d{3,}\.\d% above").any()
