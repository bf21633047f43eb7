"""Running SQL over polars frames in a private in-memory DuckDB connection."""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import polars as pl


def query_frames(sql: str, *, params: Mapping[str, object] | None = None, **frames: pl.DataFrame) -> pl.DataFrame:
    """Run `sql` with each keyword frame visible as a table of that name; values bound, never pasted."""
    connection = duckdb.connect()
    try:
        # Instants come back labelled with the session's time zone: make it UTC, like every instant we keep.
        connection.execute("set TimeZone = 'UTC'")
        for name, frame in frames.items():
            connection.register(name, frame)
        return connection.sql(sql, params=dict(params or {})).pl()
    finally:
        connection.close()
