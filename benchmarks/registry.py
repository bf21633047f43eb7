"""Benchmark: a whole US National DNC download to its sorted snapshot, and a dialler list scrubbed against it.

Run from the repository root (the ingest and the scrub each run in their own process, so each
peak memory is its own); the generated download lives in a temporary folder, deleted afterwards:

    .venv/bin/python -m benchmarks.registry                  # 250,000,000 numbers
    .venv/bin/python -m benchmarks.registry --rows 25000000

Targets: ingest within 2 minutes and 4 GB; a 10-million-row scrub within 15 s.
Figures are wall-clock on whatever machine runs it; tests never assert them.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.workloads import write_us_download
from pipelines.us_registry_ingest import ingest_us_download

SEED = 20261127
DEFAULT_ROWS = 250_000_000
DIALLER_ROWS = 10_000_000
_SCRUB = """
with dialler as (
    select e164_int from read_parquet($dialler)
),
registry as (
    select e164_int from read_parquet($snapshot)
),
suppressed as (
    select dialler.e164_int from dialler semi join registry using (e164_int)
)
select count(*) as count_suppressed from suppressed
"""


def time_ingest(download: Path, snapshot: Path) -> dict[str, object]:
    """Ingest the download to its snapshot: seconds, numbers kept, peak memory of this process."""
    started = time.perf_counter()
    count_numbers = ingest_us_download([download], snapshot=snapshot)
    return {"ingest_s": round(time.perf_counter() - started, 1), "count_numbers": count_numbers, **_peak()}


def time_scrub(dialler: Path, snapshot: Path) -> dict[str, object]:
    """Count the dialler numbers the snapshot holds, with a DuckDB semi-join on integers: seconds, peak memory."""
    started = time.perf_counter()
    connection = duckdb.connect()
    try:
        [(count_suppressed,)] = connection.execute(
            _SCRUB, {"dialler": str(dialler), "snapshot": str(snapshot)}
        ).fetchall()
    finally:
        connection.close()
    return {"scrub_s": round(time.perf_counter() - started, 2), "count_suppressed": count_suppressed, **_peak()}


def write_dialler(snapshot: Path, path: Path, *, rows: int) -> None:
    """A dialler list of `rows` E.164 integers: half drawn from the snapshot, half from the whole US range."""
    registered = pl.scan_parquet(snapshot).select("e164_int").collect().sample(rows // 2, seed=SEED, shuffle=True)
    others = pl.int_range(rows - registered.height, eager=True) * 7_919 % 8_000_000_000 + 12_000_000_000
    numbers = pl.concat([registered.get_column("e164_int"), others.alias("e164_int")])
    pl.DataFrame({"e164_int": numbers}).write_parquet(path)


def _peak() -> dict[str, int]:
    return {"peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def _in_own_process(step: str, *paths: Path) -> dict[str, object]:
    command = [sys.executable, "-m", "benchmarks.registry", step, *map(str, paths)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", nargs="?", choices=["all", "ingest", "scrub"], default="all")
    parser.add_argument("paths", nargs="*", type=Path, help="(internal) the files a single step works on")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="numbers in the generated download")
    arguments = parser.parse_args(argv)
    if arguments.step == "ingest":
        print(json.dumps(time_ingest(*arguments.paths)))
        return
    if arguments.step == "scrub":
        print(json.dumps(time_scrub(*arguments.paths)))
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, duckdb {duckdb.__version__}")
    with tempfile.TemporaryDirectory(prefix="scrubline-registry-") as scratch:
        download, snapshot, dialler = (
            Path(scratch) / name for name in ("us_dnc.txt", "snapshot.parquet", "dialler.parquet")
        )
        started = time.perf_counter()
        write_us_download(download, arguments.rows, seed=SEED)
        print(
            f"generated {arguments.rows:,} lines ({download.stat().st_size / 1e9:.1f} GB) in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        ingest = _in_own_process("ingest", download, snapshot)
        print(
            f"  ingest: {ingest['ingest_s']} s to a snapshot of {ingest['count_numbers']:,} valid numbers "
            f"({snapshot.stat().st_size / 1e6:,.0f} MB); peak {ingest['peak_memory_mb']:,} MB",
            flush=True,
        )
        download.unlink()
        write_dialler(snapshot, dialler, rows=DIALLER_ROWS)
        scrub = _in_own_process("scrub", dialler, snapshot)
        print(
            f"   scrub: {DIALLER_ROWS:,} dialler numbers in {scrub['scrub_s']} s, "
            f"{scrub['count_suppressed']:,} registered; peak {scrub['peak_memory_mb']:,} MB"
        )


if __name__ == "__main__":
    main()
