"""Reading delimited files as published: encodings, compression, delimiters, broken files."""

from __future__ import annotations

import gzip
import zipfile

import pytest

from pedw.sources.errors import SourceFileError
from pedw.sources.text_table import iter_text_tables, read_text_table

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
    assert table.encoding == "cp1252"  # the same characters as Latin-1 in 0xA0-0xFF
    assert table.table["name"].to_pylist() == ["Côte d'Ivoire"]


def test_encoding_is_decided_from_the_whole_file_not_its_first_block(tmp_path):
    """A Windows-1252 file whose first non-ASCII byte sits 3 MB in (beyond any sniffed head)."""
    plain = b"ref_area,note\n" + b"KEN,plain ascii note\n" * 150_000
    late = "CIV,Côte d'Ivoire – données € 2019\n".encode("cp1252")
    path = write(tmp_path / "late.csv", plain + late)
    assert path.stat().st_size > 3_000_000
    table = read_text_table(path)
    assert table.encoding == "cp1252"
    assert table.table.num_rows == 150_001
    assert table.table["note"][-1].as_py() == "Côte d'Ivoire – données € 2019"
    assert table.lines[-1] == 150_002


def test_bytes_undefined_in_windows_1252_are_read_as_latin1(tmp_path):
    path = write(tmp_path / "l1.csv", b"name,value\nA\x81B,1\n" + "Ñ,2\n".encode("latin-1"))
    table = read_text_table(path)
    assert table.encoding == "latin-1"
    assert table.table["name"].to_pylist() == ["A\x81B", "Ñ"]


def test_a_utf8_character_split_across_read_chunks_is_still_utf8(tmp_path):
    from pedw.sources.text_table import detect_encoding

    path = write(tmp_path / "split.csv", b"a,b\n" + b"x" * 13 + "é,1\n".encode())
    assert all(detect_encoding(path, chunk_bytes=n) == "utf-8" for n in range(1, 24))


def test_an_explicit_encoding_wins_over_detection(tmp_path):
    path = write(tmp_path / "koi.csv", "name,value\nМосква,1\n".encode("koi8_r"))
    assert read_text_table(path, encoding="koi8_r").table["name"].to_pylist() == ["Москва"]


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


@pytest.mark.parametrize("broken", [[], [5_000], [1_500, 1_501, 9_990], [11_999]])
def test_record_numbers_are_exact_across_blocks_whichever_parser_reads_them(tmp_path, broken):
    """Blocks are parsed on every core until a rejected row appears; from there the serial
    parser numbers the rest. Either way every good row and every rejected row keeps its
    record number (line = record here: no quoted newlines)."""
    lines = ["firm,year"] + [f"F{i:05d},{2000 + i % 20}" for i in range(2, 12_002)]
    for line in broken:
        lines[line - 1] = f"F{line:05d}"  # one field short
    path = write(tmp_path / "long.csv", ("\n".join(lines) + "\n").encode())
    blocks = list(iter_text_tables(path, block_bytes=16 << 10))
    assert len(blocks) > 5
    numbered = [
        (int(line), firm)
        for block in blocks
        for line, firm in zip(block.lines, block.table["firm"].to_pylist(), strict=True)
    ]
    assert numbered == [(n, f"F{n:05d}") for n in range(2, 12_002) if n not in broken]
    rejected = [(m["line"], m["text"]) for block in blocks for m in block.malformed]
    assert rejected == [(n, f"F{n:05d}") for n in broken]


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


def test_a_300_mb_line_refuses_the_file_with_its_line_not_a_crash(tmp_path):
    from pedw.sources.text_table import iter_text_tables

    path = tmp_path / "long.csv"
    with path.open("wb") as handle:
        handle.write(b"firm_id,country,year\n1,KEN,2018\n2,")
        for _ in range(300):
            handle.write(b"x" * (1 << 20))
        handle.write(b",2019\n3,GHA,2020\n")
    with pytest.raises(SourceFileError) as refused:
        for _block in iter_text_tables(path):
            pass
    message = str(refused.value)
    assert "a line (or a quoted field) is longer than the reader's block of 32 MB" in message
    assert refused.value.line == 3  # the header is line 1, the first firm line 2
