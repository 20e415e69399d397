"""Partitioned staging is checked a batch of countries at a time: the batches never change
what is staged or quarantined."""

from __future__ import annotations

import pytest

import pedw.staging.contracted as contracted
from pedw.catalog import Catalog, Source
from pedw.raw import raw_partitions, write_raw
from pedw.staging.contracted import stage_through_contract
from pedw.store import Store

HEADER = "firm_id,country,sector,year,employees,sales,value_added,wage_bill\n"
ROWS = [
    "F1,KEN,C,2019,10,100,40,20",
    "F1,GHA,C,2019,12,90,30,25",  # the same firm number in another country's survey
    "F2,KEN,C,2019,5,50,20,10",
    "F2,KEN,C,2019,5,50,20,10",  # an identical copy: the first is loaded
    "F3,GHA,C,2019,7,70,25,15",
    "F3,GHA,C,2019,8,70,25,15",  # a conflicting copy: neither is loaded
    "F4,UGA,C,2019,-1,70,25,15",  # a broken rule
]


def staged_rows(tmp_path, name: str) -> tuple[object, list, list]:
    csv = tmp_path / "firms.csv"
    csv.write_text(HEADER + "\n".join(ROWS) + "\n")
    source = Source(name="firms", level="enterprise", format="enterprise_csv", path=str(csv))
    store = Store(tmp_path / name)
    write_raw(store, Catalog("t", csv, (source,)), "enterprise", ("enterprise_csv",),
              "enterprise_firms", "run", partitioned=True)  # fmt: skip
    result = stage_through_contract(store, "enterprise_firms", "enterprise_firms",
                                    "enterprise_firms", "run", raw_partitions(store))  # fmt: skip
    con = store.connect()
    try:
        staged = con.execute(
            "SELECT country, firm_id, source_line FROM staging.enterprise_firms ORDER BY ALL"
        ).fetchall()
        quarantined = con.execute(
            "SELECT source_line, rule FROM quality.quarantine ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    return result, staged, quarantined


@pytest.mark.parametrize("rows_per_batch", [1, 10**6], ids=["a batch per country", "one batch"])
def test_keys_are_unique_within_a_country_whatever_the_batches(
    tmp_path, monkeypatch, rows_per_batch
):
    monkeypatch.setattr(contracted, "rows_per_batch", lambda con: rows_per_batch)
    result, staged, quarantined = staged_rows(tmp_path, "store")
    assert staged == [("GHA", "F1", 3), ("KEN", "F1", 2), ("KEN", "F2", 4)]
    assert quarantined == [
        (5, "duplicate_key_identical"),
        (6, "duplicate_key_conflict"),
        (7, "duplicate_key_conflict"),
        (8, "range"),
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (7, 3, 4)
    assert result.violations == {"duplicate_key_conflict": 2, "duplicate_key_identical": 1,
                                 "range": 1}  # fmt: skip


def test_batches_follow_the_row_counts_of_the_raw_files(tmp_path):
    staged_rows(tmp_path, "store")
    store = Store(tmp_path / "store")
    files = contracted.raw_partition_files(store, "enterprise_firms")
    assert sorted(files) == ["GHA", "KEN", "UGA"]
    # GHA 3 rows, KEN 3, UGA 1: a limit of 4 rows puts each of the first two alone.
    assert contracted.partition_batches(files, ["GHA", "KEN", "UGA"], 4) == [
        ["GHA"],
        ["KEN", "UGA"],
    ]
    assert contracted.partition_batches(files, ["GHA", "KEN", "UGA"], 100) == [
        ["GHA", "KEN", "UGA"]
    ]


def test_a_partition_without_rows_is_replaced_by_an_empty_sealed_file(tmp_path):
    """Re-writing partitions of which some now have no rows leaves those empty, with the
    table's columns and a valid seal: no stale row survives, and readers see the same table."""
    from pedw.seal import SealState, check_seal

    store = Store(tmp_path)
    con = store.connect()
    first = "SELECT * FROM (VALUES ('KEN', 1, 'a'), ('GHA', 2, 'b'), ('UGA', 3, 'c')) t(key, n, s)"
    store.write(con, "staging", "t", first, partition_column="key")
    store.write(con, "staging", "t", f"SELECT * FROM ({first}) WHERE key = 'KEN'",
                partition_column="key", partitions=["KEN", "GHA", "UGA"])  # fmt: skip
    directory = store.table_dir("staging", "t")
    for key, rows in {"KEN": 1, "GHA": 0, "UGA": 0}.items():
        path = directory / f"{key}.parquet"
        assert con.execute(f"SELECT count(*) FROM '{path}'").fetchone()[0] == rows
        assert [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()] == [
            "key",
            "n",
            "s",
        ]
        assert check_seal(path) == SealState.INTACT
    con.close()
    con = store.connect()
    assert con.execute("SELECT key, n FROM staging.t").fetchall() == [("KEN", 1)]
