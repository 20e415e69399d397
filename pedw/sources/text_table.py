"""Read delimited text files as published: any delimiter, encoding, compression, quirks.

Every value is kept as text (typing is the contracts' job) and every row keeps its
record number in the file, so a rejected value can be traced back to where it came from.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from pedw.sources.errors import SourceFileError

CANDIDATE_DELIMITERS = [",", ";", "\t", "|"]
SNIFF_BYTES = 256 * 1024


@dataclass
class TextTable:
    """An all-text table, the record number of each row, and rows the parser had to reject."""

    path: Path
    table: pa.Table
    lines: np.ndarray
    malformed: list[dict] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","


def _open_bytes(path: Path) -> io.BufferedIOBase:
    """A binary stream of the file, decompressing gzip and single-table zip archives."""
    with path.open("rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")
    if magic == b"PK\x03\x04":
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as error:
            raise SourceFileError(path, f"not a readable zip archive ({error})") from error
        members = [
            m
            for m in archive.namelist()
            if not m.endswith("/") and m.lower().endswith((".csv", ".txt", ".tsv"))
        ]
        if len(members) != 1:
            raise SourceFileError(
                path,
                f"zip archive must hold exactly one .csv/.txt/.tsv table, found {members or 'none'}",
            )
        return archive.open(members[0])
    return path.open("rb")


# Bytes Windows-1252 leaves undefined: a file holding one is Latin-1 (ISO 8859-1), not 1252.
_UNDEFINED_IN_CP1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")


def detect_encoding(path: Path, chunk_bytes: int = 16 << 20) -> str:
    """The file's encoding, decided from all of it (not its first block): UTF-8 when every
    byte decodes as UTF-8, else Windows-1252 (what Excel and most Windows tools write for
    Western European text), else Latin-1 (which decodes any byte).

    Read in chunks by an incremental decoder (a character split across two chunks is fine);
    pure-ASCII chunks cost no more than a scan.
    """
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, undefined_1252 = True, False
    with _open_bytes(path) as stream:
        while chunk := stream.read(chunk_bytes):
            if chunk.isascii() and not (utf8 and decoder.getstate()[0]):
                continue
            undefined_1252 = undefined_1252 or not _UNDEFINED_IN_CP1252.isdisjoint(chunk)
            if utf8:
                try:
                    decoder.decode(chunk, final=False)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
                return "utf-8"
            except UnicodeDecodeError:  # the file ends inside a multi-byte character
                pass
    return "latin-1" if undefined_1252 else "cp1252"


def _sniff(
    path: Path, head: bytes, skip_rows: int, delimiter: str | None, encoding: str | None
) -> tuple[str, str, list[str]]:
    """Encoding (the given one, else detected from the whole file), delimiter and header names
    from the first bytes of the file."""
    if b"\x00" in head:
        raise SourceFileError(
            path, "not a text table (binary content; is this a spreadsheet or an archive?)"
        )
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise SourceFileError(path, "file is empty")
    cut = head.rfind(b"\n") if len(head) == SNIFF_BYTES else len(head)
    sample = head[: cut if cut > 0 else len(head)]
    encoding = encoding or detect_encoding(path)
    text = sample.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = [ln for ln in text.splitlines()[skip_rows:]]
    if not lines:
        raise SourceFileError(path, f"no header row after skipping {skip_rows} line(s)")
    header_line = lines[0]
    if delimiter is None:
        counts = {
            d: len(next(csv.reader([header_line], delimiter=d))) for d in CANDIDATE_DELIMITERS
        }
        delimiter = max(counts, key=counts.get)
    names = [n.strip() for n in next(csv.reader([header_line], delimiter=delimiter))]
    if len(names) < 2:
        raise SourceFileError(
            path,
            "not a delimited table: the header has a single column "
            f"({header_line[:60]!r}); expected a comma, semicolon, tab or pipe delimiter",
            line=skip_rows + 1,
        )
    # A trailing delimiter (WDI files) leaves an unnamed last column.
    names = [n if n else f"unnamed_{i}" for i, n in enumerate(names)]
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise SourceFileError(path, f"header repeats column names {duplicates}", line=skip_rows + 1)
    return encoding, delimiter, names


def iter_text_tables(
    path: str | Path,
    skip_rows: int = 0,
    delimiter: str | None = None,
    encoding: str | None = None,
    block_bytes: int = 32 << 20,
) -> Iterator[TextTable]:
    """Read a delimited file (plain, .gz or .zip) block by block, as all-text tables with
    record numbers; memory stays bounded by `block_bytes` whatever the file's size.

    `skip_rows` lines before the header are ignored (title blocks). Rows with the wrong
    number of fields (a truncated last line, a stray delimiter) are not loaded; each block
    returns those it met in `malformed`, with their record number, so they can be
    quarantined. A file with no data row raises SourceFileError after its last block.
    """
    path = Path(path)
    if not path.exists():
        raise SourceFileError(path, "file not found")
    if path.is_dir():
        raise SourceFileError(path, "is a folder, not a file")
    with _open_bytes(path) as stream:
        head = stream.read(SNIFF_BYTES)
    encoding, delimiter, names = _sniff(path, head, skip_rows, delimiter, encoding)
    header_record = skip_rows + 1
    first = header_record + 1  # the record number of the first data row
    blocks = functools.partial(
        _numbered_blocks, path, skip_rows, names, encoding, delimiter, block_bytes, first
    )
    try:
        # Parsing on every core cannot number a rejected row, so it runs until the first
        # rejected row appears: up to there, the i-th good row is record first + i. A file
        # with rejected rows is then read again by the serial parser from that point on.
        yield from blocks(parallel=True)
    except _RejectedRowsAheadError as rejected:
        yield from blocks(parallel=False, resume_at=rejected.good_rows)


class _RejectedRowsAheadError(Exception):
    """The parallel parser met a rejected row after `good_rows` good ones were returned."""

    def __init__(self, good_rows: int):
        self.good_rows = good_rows


def _numbered_blocks(
    path: Path,
    skip_rows: int,
    names: list[str],
    encoding: str,
    delimiter: str,
    block_bytes: int,
    first: int,
    parallel: bool,
    resume_at: int = 0,
) -> Iterator[TextTable]:
    """The file's blocks with record numbers (see iter_text_tables), from good row
    `resume_at` on. `parallel` parses on every core and raises _RejectedRowsAheadError, before
    returning the block, as soon as a rejected row is met."""
    pending: list[dict] = []

    def on_invalid(row) -> str:
        pending.append(
            {
                "number": row.number,
                "text": row.text,
                "expected": row.expected_columns,
                "actual": row.actual_columns,
                # pyarrow numbers records from the first row it reads (the header is record 1).
                "line": row.number + skip_rows if row.number is not None else None,
            }
        )
        return "skip"

    # The serial parser numbers every rejected row, in order, but may parse ahead of the
    # block it returns. The i-th good row of the file is record first + i + k, where k
    # counts the rejected records before it, which are all known by the time it arrives.
    good_rows, bad_rows = 0, 0
    rejected = np.array([], dtype=np.int64)
    carried: list[dict] = []  # rejected rows met while skipping to `resume_at`
    with _open_bytes(path) as stream:
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    skip_rows=skip_rows + 1,
                    column_names=names,
                    encoding=encoding,
                    use_threads=parallel,
                    block_size=block_bytes,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, invalid_row_handler=on_invalid, newlines_in_values=True
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                if parallel and pending:
                    raise _RejectedRowsAheadError(good_rows)
                if not batch.num_rows:  # a block of rejected rows only: they come with the next
                    continue
                fresh, pending[:] = list(pending), []
                malformed, carried = carried + fresh, []
                if fresh:
                    lines = np.array([row["line"] for row in fresh], dtype=np.int64)
                    rejected = np.concatenate([rejected, lines])
                index = np.arange(good_rows, good_rows + batch.num_rows, dtype=np.int64)
                before = rejected - first - np.arange(len(rejected), dtype=np.int64)
                records = first + index + np.searchsorted(before, index, side="right")
                good_rows += batch.num_rows
                bad_rows += len(fresh)
                skipped = max(0, min(batch.num_rows, resume_at - (good_rows - batch.num_rows)))
                if skipped == batch.num_rows:  # returned by the parallel parser already
                    carried = malformed
                    continue
                yield TextTable(
                    path=path,
                    table=pa.Table.from_batches([batch.slice(skipped)], schema=batch.schema),
                    lines=records[skipped:],
                    malformed=malformed,
                    encoding=encoding,
                    delimiter=delimiter,
                )
        except pa.ArrowInvalid as error:
            if "straddling" in str(error):
                raise SourceFileError(
                    path,
                    f"a line (or a quoted field) is longer than the reader's block of "
                    f"{block_bytes >> 20} MB; the file is not loaded",
                    line=first + good_rows + bad_rows,
                ) from None
            raise SourceFileError(
                path, f"cannot be parsed as a delimited table ({error})"
            ) from error
        except UnicodeDecodeError as error:
            raise SourceFileError(path, f"cannot be decoded as {encoding} ({error})") from error
    if parallel and pending:
        raise _RejectedRowsAheadError(good_rows)
    leftover = carried + pending
    if leftover:  # rejected rows after the last block of good rows
        bad_rows += len(pending)
        yield TextTable(
            path=path,
            table=pa.table({n: pa.array([], pa.string()) for n in names}),
            lines=np.array([], dtype=np.int64),
            malformed=leftover,
            encoding=encoding,
            delimiter=delimiter,
        )
    if good_rows == 0 and not bad_rows:
        raise SourceFileError(path, "has a header but no data rows", line=first - 1)
    if good_rows == 0:
        raise SourceFileError(
            path,
            f"not a table: none of its {bad_rows} row(s) has the header's {len(names)} fields",
            line=first,
        )


def read_text_table(
    path: str | Path, skip_rows: int = 0, delimiter: str | None = None, encoding: str | None = None
) -> TextTable:
    """The whole file as one TextTable (see iter_text_tables): for files that fit in memory."""
    blocks = list(iter_text_tables(path, skip_rows, delimiter, encoding))
    first = blocks[0]
    return TextTable(
        path=first.path,
        table=pa.concat_tables([b.table for b in blocks]),
        lines=np.concatenate([b.lines for b in blocks]),
        malformed=[row for b in blocks for row in b.malformed],
        encoding=first.encoding,
        delimiter=first.delimiter,
    )
