"""Benchmark: the US registry at national scale — ingest, a change list, and a 10M-row scrub against it.

Run from the repository root; each step runs in its own process, so each peak memory is its own.
The generated files live in a temporary data directory, deleted afterwards:

    .venv/bin/python -m benchmarks.registry                  # 250,000,000 numbers
    .venv/bin/python -m benchmarks.registry --rows 25000000

Steps, each through the pipeline's own functions:
- ingest: `registry_store.stored_registry` on the full list (checksum, parse, validate, sort, write);
- changes: the same with one change list added (checksums, the full list's snapshot reused, apply);
- scrub: a 10M-row dialler list, half of it registered: its known numbers and the stored registry's
  integer join (`known_numbers`, `listed_in_snapshots`), the suppression list (`build_suppression_list`)
  and scrubbing the leads (`scrub_leads`), each given its inputs as the IO manager hands them over.
Targets (issue 4): ingest within 2 minutes and 4 GB; the 10M-row scrub within 15 s.
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
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.workloads import write_us_changes, write_us_download
from pipelines.config import DEFAULT_SELLER, Registry
from pipelines.registries.store import listed_in_snapshots, registry_snapshots
from pipelines.registries.unusable_entries import UNUSABLE_SCHEMA
from pipelines.suppression.scrub import SCRUB_COLUMNS, scrub_leads
from pipelines.suppression.suppression_list import build_suppression_list, known_numbers

SEED = 20261127
DEFAULT_ROWS = 250_000_000
DIALLER_ROWS = 10_000_000
CHANGE_SHARE = 0.01  # a month of FTC changes is roughly 1% of the registry
FULL_LIST = "inbox/us/full/*.txt"
CHANGES = "inbox/us/changes/*.txt"
FULL_LIST_DAY = date(2026, 11, 26)  # the change list is dated the day after
CHANGE_DAY = "2026-11-27"
NO_CRM = pl.DataFrame(
    schema={"contact_id": pl.String, "phone_column": pl.String, "phone_e164": pl.String, "phone_region": pl.String,
            "is_do_not_call": pl.Boolean, "source_file": pl.String, "source_sha256": pl.String}
)  # fmt: skip
NO_RELATIONSHIPS = pl.DataFrame(
    schema={"phone_e164": pl.String, "contact_id": pl.String, "exemption": pl.String, "ebr_date": pl.Date}
)


def us_dnc(*, with_changes: bool) -> Registry:
    return Registry(
        name="us_dnc",
        format="us_dnc",
        path=FULL_LIST,
        changes=CHANGES if with_changes else None,
        full_list_downloaded_on=FULL_LIST_DAY if with_changes else None,
        downloaded_on=date.today(),
    )


def time_snapshot(data_dir: Path, *, with_changes: bool) -> dict[str, object]:
    """Make (or bring up to date) the registry's snapshot: seconds, numbers kept, peak memory."""
    started = time.perf_counter()
    snapshots = registry_snapshots([us_dnc(with_changes=with_changes)], data_dir=data_dir)
    [snapshot] = snapshots.rows(named=True)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "count_numbers": snapshot["count_numbers"],
        "snapshot_mb": round((data_dir / snapshot["snapshot"]).stat().st_size / 1e6),
        **_peak(),
    }


def time_scrub(data_dir: Path) -> dict[str, object]:
    """Scrub a 10M-row dialler list against the stored registry: the known numbers and their integer join,
    the suppression list, and scrubbing the leads.

    Each step gets its inputs as the pipeline's IO manager hands them over (read back from Parquet, in
    many chunks); writing and reading them is not timed.
    """
    registries = [us_dnc(with_changes=True)]
    snapshots = registry_snapshots(registries, data_dir=data_dir)
    leads = as_loaded(dialler_leads(data_dir / snapshots.item(0, "snapshot"), rows=DIALLER_ROWS), data_dir)
    started = time.perf_counter()
    known = known_numbers(NO_CRM, leads)
    listed = listed_in_snapshots(known, snapshots, data_dir=data_dir)
    joined = time.perf_counter()
    suppression = build_suppression_list(
        pl.DataFrame(schema={"registry": pl.String, "phone_e164": pl.String, "phone_valid": pl.Boolean,
                             "phone_region": pl.String, "block_prefix": pl.String, "source_file": pl.String,
                             "source_sha256": pl.String, "downloaded_on": pl.Date,
                             "requested_at": pl.Datetime("us", "UTC"), "seller_scope": pl.String}),
        NO_CRM,
        stored_listings=listed,
        registries=registries,
        known_numbers=known,
        relationships=NO_RELATIONSHIPS,
        scopes_as_sellers=None,
        unusable=pl.DataFrame(schema=UNUSABLE_SCHEMA),
    )  # fmt: skip
    built = time.perf_counter()
    suppression = as_loaded(suppression, data_dir)
    resumed = time.perf_counter()
    scrubbed = scrub_leads(leads, suppression)
    finished = time.perf_counter()
    return {
        "join_s": round(joined - started, 2),
        "suppression_s": round(built - joined, 2),
        "leads_s": round(finished - resumed, 2),
        "scrub_s": round(built - started + finished - resumed, 2),
        "count_listed": listed.height,
        "count_suppressed": scrubbed.filter(pl.col("outcome") == "suppressed").height,
        **_peak(),
    }


def as_loaded(frame: pl.DataFrame, data_dir: Path) -> pl.DataFrame:
    """`frame` as the next asset receives it: written to Parquet by the IO manager and read back."""
    path = data_dir / "handed_over.parquet"
    frame.write_parquet(path)
    return pl.read_parquet(path)


def dialler_leads(snapshot: Path, *, rows: int) -> pl.DataFrame:
    """Canonical dialler rows in one campaign: half drawn from the snapshot, half anywhere in +1 2xx–9xx."""
    stored = pl.read_parquet(snapshot)
    registered = stored.sample(min(rows // 2, stored.height), seed=SEED, shuffle=True).get_column("e164_int")
    others = pl.int_range(rows - registered.len(), eager=True) * 7_919 % 8_000_000_000 + 12_000_000_000
    numbers = pl.concat([registered, others]).cast(pl.String)
    return (
        pl.DataFrame({"phone_e164": "+" + numbers})
        .select(
            campaign=pl.lit("national"),
            seller=pl.lit(DEFAULT_SELLER),
            lead_id=pl.int_range(pl.len()).cast(pl.String),
            phone_raw="phone_e164",
            phone_e164="phone_e164",
            phone_valid=pl.lit(True),
            phone_type=pl.lit("fixed_line_or_mobile"),
            phone_region=pl.lit("US"),
            phone_reason=pl.lit(None, pl.String),
            source_file=pl.lit("inbox/dialler/national.csv"),
            source_row=pl.int_range(1, pl.len() + 1),
            source_sha256=pl.lit("0" * 64),
            quarantine_reason=pl.lit(None, pl.String),
            raw_record=pl.lit(None, pl.String),
        )
        .select(SCRUB_COLUMNS)
    )


def _peak() -> dict[str, int]:
    return {"peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def _in_own_process(step: str, data_dir: Path) -> dict[str, object]:
    command = [sys.executable, "-m", "benchmarks.registry", step, "--data-dir", str(data_dir)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", nargs="?", choices=["all", "ingest", "changes", "scrub"], default="all")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="numbers in the generated download")
    parser.add_argument("--data-dir", type=Path, help="(internal) the data directory a single step works in")
    arguments = parser.parse_args(argv)
    if arguments.step != "all":
        steps = {
            "ingest": lambda: time_snapshot(arguments.data_dir, with_changes=False),
            "changes": lambda: time_snapshot(arguments.data_dir, with_changes=True),
            "scrub": lambda: time_scrub(arguments.data_dir),
        }
        print(json.dumps(steps[arguments.step]()))
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, duckdb {duckdb.__version__}")
    with tempfile.TemporaryDirectory(prefix="scrubline-registry-") as scratch:
        data_dir = Path(scratch)
        download = data_dir / FULL_LIST.replace("*", "list")
        changes = data_dir / CHANGES.replace("*", CHANGE_DAY)
        for path in (download, changes):
            path.parent.mkdir(parents=True)
        started = time.perf_counter()
        write_us_download(download, arguments.rows, seed=SEED)
        change_rows = round(arguments.rows * CHANGE_SHARE)
        write_us_changes(changes, change_rows, seed=SEED + 1)
        print(
            f"generated {arguments.rows:,} lines ({download.stat().st_size / 1e9:.1f} GB) and a change list of "
            f"{change_rows:,} in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        ingest = _in_own_process("ingest", data_dir)
        print(
            f"   ingest: {ingest['seconds']} s to a snapshot of {ingest['count_numbers']:,} valid numbers "
            f"({ingest['snapshot_mb']:,} MB); peak {ingest['peak_memory_mb']:,} MB",
            flush=True,
        )
        applied = _in_own_process("changes", data_dir)
        print(
            f"  changes: {applied['seconds']} s to apply {change_rows:,} changes ({applied['count_numbers']:,} "
            f"numbers after); peak {applied['peak_memory_mb']:,} MB",
            flush=True,
        )
        scrub = _in_own_process("scrub", data_dir)
        print(
            f"    scrub: {DIALLER_ROWS:,} dialler rows: known numbers and integer join {scrub['join_s']} s "
            f"({scrub['count_listed']:,} registered), suppression list {scrub['suppression_s']} s, "
            f"scrubbing the leads {scrub['leads_s']} s ({scrub['count_suppressed']:,} suppressed); "
            f"whole scrub {scrub['scrub_s']} s; peak {scrub['peak_memory_mb']:,} MB"
        )


if __name__ == "__main__":
    main()
