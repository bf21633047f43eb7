"""Writing frames to Parquet with whichever writer is faster for the frame's shape, and frames already written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow.parquet as pq


@dataclass(frozen=True)
class FrameFile:
    """A frame already written as Parquet (by `write_parquet`): a step's output to link, a file to publish as it is,
    rather than read and encode again."""

    path: Path

    def scan(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.path, glob=False)  # a path may hold [ ] (a mapped step's key)


def scanned(frame: pl.DataFrame | pl.LazyFrame | FrameFile) -> pl.LazyFrame:
    """Any frame as a lazy frame: a file is scanned, not read."""
    return frame.scan() if isinstance(frame, FrameFile) else frame.lazy()


# pyarrow's own row group size: a nested frame is handed to it one row group at a time.
_PYARROW_ROW_GROUP = 1024 * 1024


def write_parquet(frame: pl.DataFrame, path: Path | BinaryIO) -> None:
    """`frame` as zstd Parquet at `path` (a file, or a buffer).

    polars' writer is the faster for flat columns, pyarrow's for nested ones: 10M scrubbed rows'
    lists of lineage structs take 13 s through polars and 2.6 s through pyarrow, so a frame with a
    nested column goes through pyarrow. It is converted to Arrow one row group at a time: converted
    whole, its text would be held twice while written (about 3 GB for 10M scrubbed rows).
    """
    if not any(dtype.is_nested() for dtype in frame.dtypes):
        frame.write_parquet(path, compression="zstd")
        return
    with pq.ParquetWriter(path, frame.head(0).to_arrow().schema, compression="zstd") as writer:
        for rows in frame.iter_slices(_PYARROW_ROW_GROUP):
            writer.write_table(rows.to_arrow(), row_group_size=_PYARROW_ROW_GROUP)
