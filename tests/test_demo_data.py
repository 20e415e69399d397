"""The demo generator: deterministic, in the real layouts, at the promised scale."""

from __future__ import annotations

import hashlib

import pandas as pd

from pedw.demo.generate import generate_demo_data
from pedw.reference import SIZE_CLASSES
from pedw.sources.text_table import read_text_table


def digest(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path):
    generate_demo_data(tmp_path / "a", n_firms=300)
    generate_demo_data(tmp_path / "b", n_firms=300)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_a_demo_of_some_economies_holds_those_and_no_other(tmp_path):
    """The smaller demo the tests of operations run on: every file, the firms' and the
    country metadata's included, names only the economies asked for."""
    import pytest

    chosen = {"KEN", "BRA", "IND"}
    generate_demo_data(tmp_path, n_firms=300, countries=sorted(chosen))
    seen = {
        "national": set(read_text_table(next((tmp_path / "ilostat" / "national").glob("*.gz")))
                        .table.to_pandas().ref_area) - {"X01"},
        "sector": set(read_text_table(next((tmp_path / "ilostat" / "sector").glob("*.gz")))
                      .table.to_pandas().ref_area),
        "pwt": set(pd.read_csv(tmp_path / "pwt" / "pwt_demo.csv").countrycode),
        "metadata": set(pd.read_csv(tmp_path / "wdi" / "Metadata_Country_demo.csv",
                                    index_col=False)["Country Code"]) - {"WLD"},
        "firms": set(pd.read_csv(tmp_path / "enterprise" / "firms.csv").country),
    }  # fmt: skip
    assert seen == dict.fromkeys(seen, chosen)
    with pytest.raises(ValueError, match="not demo economies: FRA"):
        generate_demo_data(tmp_path / "other", n_firms=300, countries=["KEN", "FRA"])


def test_national_files_follow_the_ilostat_bulk_code_layout(demo_dir):
    path = demo_dir / "ilostat" / "national" / "SDG_0831_SEX_ECO_RT_A.csv.gz"
    table = read_text_table(path)
    assert table.table.column_names == [
        "ref_area", "indicator", "source", "sex", "classif1", "time", "obs_value",
        "obs_status", "note_classif", "note_indicator", "note_source",
    ]  # fmt: skip
    frame = table.table.to_pandas()
    totals = frame[frame.sex == "SEX_T"]
    assert totals.ref_area.nunique() == 40
    assert set(totals.time.astype(int)) <= set(range(2000, 2024))


def test_enterprise_panel_scale_and_size_classes(demo_dir, truth):
    firms = pd.read_csv(demo_dir / "enterprise" / "firms.csv")
    assert firms.firm_id.nunique() == truth["realised"]["n_firms"] == 8_000
    assert len(firms) == truth["realised"]["firm_years"]
    assert firms.year.between(2016, 2023).all()
    classes = pd.cut(firms.employees, [0, 9, 49, 249, float("inf")], labels=list(SIZE_CLASSES))
    assert set(classes.unique()) == set(SIZE_CLASSES)
    participants = firms[firms.score_participant == 1]
    assert participants.score_start_year.between(2018, 2021).all()
    assert (firms[firms.score_participant == 0].score_start_year.isna()).all()
