"""The warehouse at scale: views on relative paths against stored tables, over a suppressed list of N rows.

    .venv/bin/python -m benchmarks.warehouse                  # 10M rows
    .venv/bin/python -m benchmarks.warehouse --rows 1000000

Writes one seeded run's `suppressed/` Parquet under a temporary data directory, then for each design builds
the warehouse file (`create view … read_parquet('published/runs/…')` with `file_search_path` set, or
`create table … as select`), copies the data directory elsewhere, and times opening the moved copy plus an
aggregate (rows by campaign and reason) and a one-number lookup, best of three.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

SOURCE = "published/runs/r1/suppressed/*.parquet"
AGGREGATE = "select campaign, reason, count(*) from suppressed group by all order by all"
LOOKUP = "select * from suppressed where phone_e164 = '+12015550123'"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "data"
        parquet = _suppressed(root / "published/runs/r1/suppressed/all.parquet", rows=rows)
        print(f"{rows:,} rows, {parquet.stat().st_size / 1e6:.1f} MB of Parquet")
        for design in ("view", "table"):
            print(design, _measure(root, design))


def _suppressed(path: Path, *, rows: int) -> Path:
    rng = np.random.default_rng(1)
    path.parent.mkdir(parents=True)
    pl.DataFrame(
        {
            "campaign": rng.choice(["spring", "winback", "autumn", "promo"], rows),
            "lead_id": pl.int_range(rows, eager=True).cast(pl.String),
            "phone_e164": "+1" + pl.Series(rng.integers(2012000000, 9899999999, rows)).cast(pl.String),
            "phone_type": rng.choice(["mobile", "fixed_line_or_mobile"], rows),
            "phone_region": pl.repeat("US", rows, eager=True),
            "source_file": pl.repeat("inbox/dialler/spring.csv", rows, eager=True),
            "source_row": pl.int_range(rows, eager=True),
            "reason": rng.choice(["us_dnc", "internal_optouts", "litigators", "us_dnc,litigators"], rows),
        }
    ).write_parquet(path)
    return path


def _measure(root: Path, design: str) -> dict[str, float]:
    warehouse = root / f"warehouse_{design}.duckdb"
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), config={"file_search_path": str(root)}) as connection:
        connection.execute(f"create {design} suppressed as select * from read_parquet('{SOURCE}')")
    build_s = time.perf_counter() - started
    moved = root.with_name("moved")
    shutil.copytree(root, moved)
    try:
        timings = {name: _best(moved / warehouse.name, query) for name, query in (("aggregate", AGGREGATE),
                                                                                  ("lookup", LOOKUP))}  # fmt: skip
    finally:
        shutil.rmtree(moved)
    return {"build_s": round(build_s, 2), "file_mb": round(warehouse.stat().st_size / 1e6, 1), **timings}


def _best(warehouse: Path, query: str) -> float:
    """Best of three: open the moved warehouse (search path set on open) and run `query`, in seconds."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        config = {"file_search_path": str(warehouse.parent)}
        with duckdb.connect(str(warehouse), read_only=True, config=config) as connection:
            connection.execute(query).fetchall()
        times.append(time.perf_counter() - started)
    return round(min(times), 2)


if __name__ == "__main__":
    main()
