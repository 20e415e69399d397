"""Reading delimited files as published: encodings, compression, delimiters, broken files."""

from __future__ import annotations

import gzip
import zipfile

import pytest

from pedw.sources.errors import SourceFileError
from pedw.sources.text_table import read_text_table

ROWS = "ref_area,time,obs_value\nKEN,2020,1.5\nGHA,2021,2.5\n"


def write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plain.csv", ROWS.encode()),
        ("bom.csv", b"\xef\xbb\xbf" + ROWS.encode()),
        ("crlf.csv", ROWS.replace("\n", "\r\n").encode()),
        ("semicolon.csv", ROWS.replace(",", ";").encode()),
        ("tab.tsv", ROWS.replace(",", "\t").encode()),
        ("packed.csv.gz", gzip.compress(ROWS.encode())),
    ],
)
def test_layout_variants_read_to_the_same_table(tmp_path, name, data):
    table = read_text_table(write(tmp_path / name, data))
    assert table.table.column_names == ["ref_area", "time", "obs_value"]
    assert table.table.to_pydict() == {
        "ref_area": ["KEN", "GHA"],
        "time": ["2020", "2021"],
        "obs_value": ["1.5", "2.5"],
    }
    assert table.lines.tolist() == [2, 3]


def test_zip_with_one_table(tmp_path):
    path = tmp_path / "bulk.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("KEN.csv", ROWS)
    assert read_text_table(path).table.num_rows == 2


def test_latin1_is_decoded(tmp_path):
    path = write(tmp_path / "latin.csv", "name,value\nCôte d'Ivoire,1\n".encode("latin-1"))
    table = read_text_table(path)
    assert table.encoding == "latin-1"
    assert table.table["name"].to_pylist() == ["Côte d'Ivoire"]


def test_truncated_last_line_is_kept_as_malformed_with_its_line(tmp_path):
    path = write(tmp_path / "cut.csv", (ROWS + "UGA,20").encode())
    table = read_text_table(path)
    assert table.table.num_rows == 2
    assert [(m["line"], m["text"]) for m in table.malformed] == [(4, "UGA,20")]


def test_record_numbers_skip_malformed_rows(tmp_path):
    path = write(tmp_path / "mid.csv", b"a,b\n1,2\n3\n4,5\n")
    table = read_text_table(path)
    assert table.lines.tolist() == [2, 4]
    assert table.malformed[0]["line"] == 3


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "file is empty"),
        ("blank.csv", b"\n\n  \n", "file is empty"),
        ("binary.csv", b"PK\x03\x04\x00\x00garbage\x00", "not a readable zip archive"),
        ("nul.csv", b"\x00\x01\x02\x03abc", "not a text table"),
        (
            "prose.csv",
            b"This is a report, not a table\nIt has sentences.\n",
            "not a table: none of its 1 row(s)",
        ),
        ("header.csv", b"ref_area,time,obs_value\n", "has a header but no data rows"),
        ("single.csv", b"just one column\nvalue\n", "not a delimited table"),
    ],
)
def test_files_that_are_not_tables_are_refused_with_the_file_named(tmp_path, name, data, message):
    path = write(tmp_path / name, data)
    with pytest.raises(SourceFileError) as error:
        read_text_table(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(SourceFileError, match="file not found"):
        read_text_table(tmp_path / "nope.csv")
