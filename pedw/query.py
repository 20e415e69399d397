"""Ad-hoc SQL on the published warehouse, bounded: one statement, a time limit, a row cap, and
an interrupt (Ctrl-C or the time limit) that stops DuckDB within a second.

DuckDB runs a query in C++ without returning to Python, so a signal handler on the thread that
runs it only fires when the query ends. The query therefore runs on a worker thread while the
calling thread waits in short steps: a KeyboardInterrupt or the deadline reaches the waiting
thread at once, which calls the connection's `interrupt()`.
"""

from __future__ import annotations

import difflib
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import BinaryIO, TypeVar

import duckdb
import pyarrow.csv as pacsv

T = TypeVar("T")
BATCH_ROWS = 100_000
STOP_GRACE_SECONDS = 0.9  # how long an interrupted query gets to unwind before pedw exits


class QueryError(Exception):
    """A query pedw refuses or that failed; the message is one line for the user."""


class QueryStoppedError(QueryError):
    """A query stopped by its time limit or by Ctrl-C."""


def error_line(error: BaseException) -> str:
    """DuckDB's message in one line, its hints kept ('Did you mean "marts.national_panel"?'):
    the first line, then every line that offers a candidate."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    hints = [line for line in lines[1:] if line.lower().startswith(("did you mean", "candidate"))]
    return " ".join([lines[0], *hints])


def one_statement(sql: str) -> str:
    """The single statement of `sql`; more (or none) is refused, since only the last result of
    several would be shown."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryError(error_line(error)) from None
    if len(statements) != 1:
        raise QueryError(
            f"one SQL statement at a time, got {len(statements)}"
            + ("; run each with its own pedw query" if statements else "")
        )
    return sql.strip().rstrip(";")


@contextmanager
def _interruptible():
    """Ctrl-C raises KeyboardInterrupt in this (main) thread, even when the process was
    started with SIGINT ignored (a background job of a non-interactive shell)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_bounded(con: duckdb.DuckDBPyConnection, work: Callable[[], T], timeout: float | None) -> T:
    """`work()` (which uses `con`) on a worker thread; interrupted after `timeout` seconds
    (None or 0: never) or on Ctrl-C, raising QueryStoppedError within a second."""
    outcome: dict[str, object] = {}
    # An Event, not Thread.join: a join that a KeyboardInterrupt cut short leaves the thread
    # reported as finished while DuckDB still holds the connection.
    done = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the waiting thread
            outcome["error"] = error
        finally:
            done.set()

    worker = threading.Thread(target=target, name="pedw-query", daemon=True)
    deadline = time.monotonic() + timeout if timeout else None
    reason = None
    with _interruptible():
        worker.start()
        try:
            while not done.wait(0.05):
                if deadline is not None and time.monotonic() > deadline:
                    reason = f"stopped after its time limit of {timeout:g} s (--timeout)"
                    break
        except KeyboardInterrupt:
            reason = "interrupted (Ctrl-C)"
        if reason is not None:
            con.interrupt()
            done.wait(STOP_GRACE_SECONDS)
            raise QueryStoppedError(f"query {reason}")
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, duckdb.Error):
            raise QueryError(error_line(error)) from None
        raise error  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def write_csv(
    con: duckdb.DuckDBPyConnection, sql: str, out: BinaryIO, row_cap: int | None
) -> tuple[int, bool]:
    """Stream the result of `sql` as CSV to `out` in Arrow batches (no pandas, memory bounded
    by one batch); at most `row_cap` rows (None or 0: all). Returns (rows written, capped)."""
    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    written, capped = 0, False
    with pacsv.CSVWriter(out, reader.schema, write_options=options) as writer:
        for batch in reader:
            if row_cap and written + batch.num_rows > row_cap:
                writer.write_batch(batch.slice(0, row_cap - written))
                written, capped = row_cap, True
                break
            writer.write_batch(batch)
            written += batch.num_rows
        if row_cap and not capped and written == row_cap:
            capped = next(iter(reader), None) is not None
    return written, capped


def show(con: duckdb.DuckDBPyConnection, sql: str, max_rows: int) -> None:
    """Print the result as DuckDB's own box table, at most `max_rows` rows shown."""
    relation = con.sql(sql)
    if relation is not None:
        relation.show(max_rows=max_rows, max_width=200)


def nearest_tables(con: duckdb.DuckDBPyConnection, qualified: str, n: int = 5) -> list[str]:
    """The warehouse's tables whose names are nearest to `qualified` (schema.table or table)."""
    names = [
        row[0]
        for row in con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() ORDER BY 1"
        ).fetchall()
    ]
    wanted = qualified.lower()
    by_full = difflib.get_close_matches(wanted, names, n=n, cutoff=0.5)
    by_table = [
        names[i]
        for i in sorted(
            range(len(names)),
            key=lambda i: (
                -difflib.SequenceMatcher(
                    None, wanted.rpartition(".")[2], names[i].rpartition(".")[2]
                ).ratio()
            ),
        )[:n]
    ]
    return list(dict.fromkeys(by_full + by_table))[:n]
