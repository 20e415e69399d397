"""The raw load: each source file's rows by country, whole or not at all."""

from __future__ import annotations

import pyarrow.parquet as pq

from pedw.catalog import Catalog, Source
from pedw.raw import raw_partition_files, write_raw
from pedw.store import Store

HEADER = "firm_id,country,sector,year,employees,sales,value_added,wage_bill\n"


def firms(prefix: str, n: int) -> str:
    return "".join(f"{prefix}{i},{('KEN', 'GHA')[i % 2]},C,2019,10,100,40,20\n" for i in range(n))


def test_a_file_refused_after_good_blocks_loses_them_and_the_others_load(tmp_path):
    """Small blocks: the broken file gives several good blocks before a line longer than a
    block refuses it. None of its rows stays; the good file loads whole, by country."""
    good, broken = tmp_path / "good.csv", tmp_path / "broken.csv"
    good.write_text(HEADER + firms("G", 40))
    broken.write_text(HEADER + firms("B", 200) + "B999," + "x" * 5000 + ",C,2019,1,1,1,1\n")
    read = {"read": {"block_bytes": 1024}}
    sources = tuple(
        Source(
            name=path.stem,
            level="enterprise",
            format="enterprise_csv",
            path=str(path),
            options=read,
        )
        for path in (broken, good)
    )
    store = Store(tmp_path / "store")
    load = write_raw(store, Catalog("t", tmp_path / "c.yml", sources), "enterprise",
                     ("enterprise_csv",), "enterprise_firms", "run", partitioned=True)  # fmt: skip
    assert [issue["source_name"] for issue in load.refused] == ["broken"]
    assert "longer than the reader's block" in load.refused[0]["message"]
    assert load.rows_by_source == {"good": 40} and load.rows == 40
    files = raw_partition_files(store)
    assert sorted(files) == ["GHA", "KEN"]
    for key, paths in files.items():
        table = pq.read_table(paths)
        assert set(table["country"].to_pylist()) == {key}
        assert set(table["source_name"].to_pylist()) == {"good"}
        assert table.num_rows == 20


def test_a_country_in_two_files_gets_a_file_from_each(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(HEADER + firms("A", 10))
    second.write_text(HEADER + firms("B", 6))
    sources = tuple(
        Source(name=path.stem, level="enterprise", format="enterprise_csv", path=str(path))
        for path in (first, second)
    )
    store = Store(tmp_path / "store")
    write_raw(store, Catalog("t", tmp_path / "c.yml", sources), "enterprise",
              ("enterprise_csv",), "enterprise_firms", "run", partitioned=True)  # fmt: skip
    files = raw_partition_files(store)
    assert {key: [p.name for p in paths] for key, paths in files.items()} == {
        "GHA": ["GHA.parquet", "GHA~1.parquet"],
        "KEN": ["KEN.parquet", "KEN~1.parquet"],
    }
    provenance = {}
    for key, paths in files.items():
        table = pq.read_table(paths)
        rows = zip(table["source_name"].to_pylist(), table["source_line"].to_pylist(), strict=True)
        provenance[key] = sorted(rows)
    # Lines 2..11 of a.csv and 2..7 of b.csv: even firm numbers are Kenya's.
    assert provenance["KEN"] == [(name, line) for name, last in (("a", 10), ("b", 6))
                                 for line in range(2, last + 1, 2)]  # fmt: skip
    assert provenance["GHA"] == [(name, line) for name, last in (("a", 11), ("b", 7))
                                 for line in range(3, last + 1, 2)]  # fmt: skip


def test_source_file_is_the_absolute_path_as_documented(tmp_path):
    """A catalog's relative path is resolved against the catalog's folder; rows and issues
    record the absolute path of the file read (warehouse_docs.yml: common.source_file), so
    an auditor opens it from anywhere."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text(HEADER + firms("A", 4))
    (tmp_path / "data" / "empty.csv").write_text("")
    sources = tuple(
        Source(
            name=name,
            level="enterprise",
            format="enterprise_csv",
            path=f"data/{name}.csv",
            base_dir=tmp_path,
        )
        for name in ("a", "empty")
    )
    store = Store(tmp_path / "store")
    load = write_raw(store, Catalog("t", tmp_path / "c.yml", sources), "enterprise",
                     ("enterprise_csv",), "enterprise_firms", "run", partitioned=True)  # fmt: skip
    read = pq.read_table([p for paths in raw_partition_files(store).values() for p in paths])
    assert set(read["source_file"].to_pylist()) == {str(tmp_path / "data" / "a.csv")}
    assert [issue["source_file"] for issue in load.refused] == [
        str(tmp_path / "data" / "empty.csv")
    ]
