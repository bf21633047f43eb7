"""Benchmark: the E.164 engine against the per-row baseline a user would otherwise write.

Run from the repository root (each workload runs in its own process, so peak memory is its own):

    .venv/bin/python -m benchmarks.normalise                 # every workload, default sizes
    .venv/bin/python -m benchmarks.normalise crm --rows 1000000
    .venv/bin/python -m benchmarks.normalise broad --rows 1000000   # every region, every documented format
    .venv/bin/python -m benchmarks.normalise registry --rows 50000000

Figures are wall-clock on whatever machine runs it; tests never assert them. Each result carries
the 1-minute load average at its end: on a shared machine, figures are only comparable at like loads.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable

import phonenumbers
import polars as pl

from benchmarks.workloads import broad_mix, crm_mix, us_registry_numbers
from pipelines.phones.e164 import normalise_phones

SEED = 20261127
DEFAULT_ROWS = {"crm": 1_000_000, "broad": 1_000_000, "registry": 50_000_000}
# The per-row baseline takes ~30 s per million rows; on the registry it is timed on a sample.
BASELINE_SAMPLE_ROWS = 1_000_000
WORKLOADS = {"crm": crm_mix, "broad": broad_mix, "registry": us_registry_numbers}
_NAIVE_DTYPE = pl.Struct({"e164": pl.String, "valid": pl.Boolean, "type": pl.String, "region": pl.String})


def naive_normalise(frame: pl.DataFrame, *, region: str) -> pl.DataFrame:
    """The baseline: phonenumbers on every row through `map_elements`."""
    rows = pl.struct(
        pl.col("phone"), pl.col("country") if "country" in frame.columns else pl.lit(region).alias("country")
    )
    return frame.with_columns(result=rows.map_elements(_naive_row, return_dtype=_NAIVE_DTYPE)).unnest("result")


def _naive_row(row: dict[str, str | None]) -> dict[str, object]:
    try:
        number = phonenumbers.parse(row["phone"] or "", row["country"] or "US")
    except phonenumbers.NumberParseException:
        return {"e164": None, "valid": False, "type": None, "region": None}
    if not phonenumbers.is_valid_number(number):
        return {"e164": None, "valid": False, "type": None, "region": None}
    return {
        "e164": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        "valid": True,
        "type": phonenumbers.PhoneNumberType.to_string(phonenumbers.number_type(number)).lower(),
        "region": phonenumbers.region_code_for_number(number),
    }


def run_workload(name: str, rows: int) -> dict[str, object]:
    """Time the engine on the whole workload and the baseline on it or on a sample of it."""
    frame = WORKLOADS[name](rows, seed=SEED)
    region_column = "country" if "country" in frame.columns else None
    engine_s = _best_of(lambda: normalise_phones(frame, "phone", region="US", region_column=region_column), repeats=2)
    sample = frame.head(min(rows, BASELINE_SAMPLE_ROWS))
    baseline_s = _best_of(lambda: naive_normalise(sample, region="US"), repeats=1)
    engine_rows_per_s = rows / engine_s
    baseline_rows_per_s = sample.height / baseline_s
    return {
        "workload": name,
        "rows": rows,
        "engine_s": round(engine_s, 2),
        "engine_rows_per_s": round(engine_rows_per_s),
        "baseline_rows": sample.height,
        "baseline_rows_per_s": round(baseline_rows_per_s),
        "speedup": round(engine_rows_per_s / baseline_rows_per_s, 1),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load": round(os.getloadavg()[0], 2),
    }


def _best_of(action: Callable[[], object], *, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", nargs="?", choices=[*DEFAULT_ROWS, "all"], default="all")
    parser.add_argument("--rows", type=int, help="rows to generate (default: 1M crm and broad, 50M registry)")
    arguments = parser.parse_args(argv)
    if arguments.workload != "all":
        rows = arguments.rows or DEFAULT_ROWS[arguments.workload]
        print(json.dumps(run_workload(arguments.workload, rows)))
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, polars {pl.__version__}")
    for workload in DEFAULT_ROWS:
        command = [sys.executable, "-m", "benchmarks.normalise", workload]
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        print(
            f"{result['workload']:>8}: {result['rows']:>11,} rows in {result['engine_s']:>6} s = "
            f"{result['engine_rows_per_s']:>10,} rows/s; baseline {result['baseline_rows_per_s']:>7,} rows/s "
            f"(on {result['baseline_rows']:,} rows); {result['speedup']}x; peak {result['peak_memory_mb']:,} MB; "
            f"load {result['load']}"
        )


if __name__ == "__main__":
    main()
