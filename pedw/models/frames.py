"""Run DuckDB SQL over pandas frames: heavy grouping and windows in SQL, pandas at the edges."""

from __future__ import annotations

import pandas as pd

from pedw.store import offline_connection


def query_frames(sql: str, **frames: pd.DataFrame) -> pd.DataFrame:
    """Register each frame under its keyword name, run `sql`, return the result."""
    con = offline_connection()
    try:
        for name, frame in frames.items():
            con.register(name, frame)
        return con.execute(sql).df()
    finally:
        con.close()
