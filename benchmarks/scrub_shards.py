"""Benchmark: the scrub in one step against the scrub split into shards by number range, step by step.

    .venv/bin/python -m benchmarks.scrub_shards --leads 1000000 --shards 4

The leads (four campaigns of US numbers, a fifth of them repeated, 1% without a number) and a suppression list
(two of five numbers registered, 1% also opted out, some of those twice) are written to Parquet as the IO
manager keeps them. Each way then runs in its own process, as each Dagster step would: in one step,
`scrub_leads` of both frames read whole; in shards, the plan (`shard_plan` of the leads' numbers), each shard
(`shard_rows` scans of both files, `scrub_leads`, its rows written as `ShardWorkspace` writes them) and the
merge (the shards read back, `merged_in_audit_order`). It prints each step's seconds and peak memory, the
shards' rows, the shards' total (their time one after another, as in-process) and the critical path (plan,
slowest shard, merge: their time side by side, with a core per shard). Tests never assert these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from pipelines.config import DEFAULT_SELLER
from pipelines.parquet_files import write_parquet
from pipelines.suppression.scrub import SCRUB_COLUMNS, scrub_leads
from pipelines.suppression.shards import merged_in_audit_order, shard_plan, shard_rows
from pipelines.suppression.suppression_list import SUPPRESSION_LIST_SCHEMA

SEED = 20261207
CAMPAIGNS = ("spring", "summer", "autumn", "winback")
LEADS, SUPPRESSION, PLAN = "leads.parquet", "suppression_list.parquet", "plan.parquet"
OPTED_OUT_AT = datetime(2026, 10, 1, tzinfo=UTC)
NO_TIME = pl.lit(None, pl.Datetime("us", "UTC"))


def generate(folder: Path, *, leads: int) -> None:
    """The leads and the suppression list, as Parquet in `folder`."""
    numbers = (pl.int_range(leads, eager=True) * 7_919 % 8_000_000_000 + 12_000_000_000).sample(
        fraction=1.0, seed=SEED, shuffle=True
    )
    repeated = numbers.head(leads // 5).sample(fraction=1.0, seed=SEED + 1, shuffle=True)
    e164 = pl.concat([numbers.slice(0, leads - repeated.len()), repeated]).cast(pl.String)
    rows = pl.DataFrame({"phone_e164": "+" + e164}).with_columns(
        phone_e164=pl.when(pl.int_range(pl.len()) % 100 != 0).then("phone_e164"),
        campaign=pl.Series(CAMPAIGNS).gather(pl.int_range(leads, eager=True) % len(CAMPAIGNS)),
    )
    write_parquet(
        rows.sort("campaign", maintain_order=True).select(
            "campaign",
            seller=pl.lit(DEFAULT_SELLER),
            lead_id=pl.int_range(pl.len()).cast(pl.String),
            phone_raw="phone_e164",
            phone_e164="phone_e164",
            phone_valid=pl.col("phone_e164").is_not_null(),
            phone_type=pl.lit("fixed_line_or_mobile"),
            phone_region=pl.lit("US"),
            phone_reason=pl.when(pl.col("phone_e164").is_null()).then(pl.lit("too_short")),
            source_file=pl.format("inbox/dialler/{}.csv", "campaign"),
            source_row=pl.int_range(1, pl.len() + 1).over("campaign"),
            source_sha256=pl.lit("0" * 64),
            quarantine_reason=pl.lit(None, pl.String),
            raw_record=pl.lit(None, pl.String),
        ),
        folder / LEADS,
    )
    registered = pl.DataFrame({"phone_e164": "+" + numbers.filter(numbers % 5 < 2).cast(pl.String)})
    opted_out = registered.gather_every(100)
    entries = pl.concat(
        [
            registered.with_columns(source_name=pl.lit("us_dnc"), requested_at=NO_TIME),
            opted_out.with_columns(source_name=pl.lit("internal_optouts"), requested_at=pl.lit(OPTED_OUT_AT)),
            opted_out.gather_every(3).with_columns(source_name=pl.lit("internal_optouts"), requested_at=NO_TIME),
        ]
    ).select(
        "phone_e164",
        "source_name",
        source_file=pl.format("inbox/registries/{}.txt", "source_name"),
        source_sha256=pl.lit("1" * 64),
        downloaded_on=pl.lit(date(2026, 11, 30)),
        block_prefix=pl.lit(None, pl.String),
        requested_at="requested_at",
        seller_scope=pl.lit(None, pl.String),
        count_entries=pl.lit(1, pl.Int64),
        exemption=pl.lit(None, pl.String),
        ebr_contact_id=pl.lit(None, pl.String),
        ebr_date=pl.lit(None, pl.Date),
    )
    write_parquet(entries.select(*SUPPRESSION_LIST_SCHEMA), folder / SUPPRESSION)


def one_step(folder: Path) -> dict[str, object]:
    """`scrub_leads` of both frames read whole, as the one-step `scrubbed_leads` did."""
    started = time.perf_counter()
    scrubbed = scrub_leads(pl.read_parquet(folder / LEADS), pl.read_parquet(folder / SUPPRESSION))
    return {"seconds": _since(started), "rows": scrubbed.height, **_peak()}


def plan(folder: Path, *, shards: int) -> dict[str, object]:
    """The shard plan of the leads' numbers, read as one column."""
    started = time.perf_counter()
    numbers = pl.scan_parquet(folder / LEADS).select("phone_e164").collect().to_series()
    shard_plan(numbers, shards=shards).write_parquet(folder / PLAN)
    return {"seconds": _since(started), **_peak()}


def shard(folder: Path, *, index: int) -> dict[str, object]:
    """One shard: its ranges of both files scanned, scrubbed, written for the merge."""
    started = time.perf_counter()
    range_of = pl.read_parquet(folder / PLAN).slice(index, 1)
    leads = shard_rows(pl.scan_parquet(folder / LEADS), range_of, number_column="phone_e164").collect()
    entries = shard_rows(pl.scan_parquet(folder / SUPPRESSION), range_of, number_column="phone_e164").collect()
    write_parquet(scrub_leads(leads.select(SCRUB_COLUMNS), entries), folder / f"shard_{index}.parquet")
    return {"seconds": _since(started), "rows": leads.height, "entries": entries.height, **_peak()}


def merge(folder: Path, *, shards: int) -> dict[str, object]:
    """The shards read back and merged in audit order."""
    started = time.perf_counter()
    merged = merged_in_audit_order([pl.read_parquet(folder / f"shard_{index}.parquet") for index in range(shards)])
    return {"seconds": _since(started), "rows": merged.height, **_peak()}


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 2)


def _peak() -> dict[str, float]:
    return {"peak_memory_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2)}


def _in_own_process(folder: Path, *arguments: str) -> dict[str, object]:
    command = [sys.executable, "-m", "benchmarks.scrub_shards", "--folder", str(folder), *arguments]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=4, help="scrub.shards for the sharded way")
    parser.add_argument("--folder", type=Path, help="(internal) the folder a single step works in")
    parser.add_argument("--step", choices=["one_step", "plan", "shard", "merge"], help="(internal) one step")
    parser.add_argument("--index", type=int, help="(internal) the shard a shard step scrubs")
    arguments = parser.parse_args(argv)
    if arguments.step is not None:
        steps = {
            "one_step": lambda: one_step(arguments.folder),
            "plan": lambda: plan(arguments.folder, shards=arguments.shards),
            "shard": lambda: shard(arguments.folder, index=arguments.index),
            "merge": lambda: merge(arguments.folder, shards=arguments.shards),
        }
        print(json.dumps(steps[arguments.step]()))
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; {arguments.leads:,} leads, {arguments.shards} shards"
    )
    with tempfile.TemporaryDirectory(prefix="scrubline-shards-") as scratch:
        folder = Path(scratch)
        generate(folder, leads=arguments.leads)
        print(f"one step: {_in_own_process(folder, '--step', 'one_step')}", flush=True)
        planned = _in_own_process(folder, "--step", "plan", "--shards", str(arguments.shards))
        count = pl.read_parquet(folder / PLAN).height
        shards = [_in_own_process(folder, "--step", "shard", "--index", str(index)) for index in range(count)]
        merged = _in_own_process(folder, "--step", "merge", "--shards", str(count))
        print(f"plan: {planned}\nshards: {shards}\nmerge: {merged}")
        in_turn = planned["seconds"] + sum(step["seconds"] for step in shards) + merged["seconds"]
        side_by_side = planned["seconds"] + max(step["seconds"] for step in shards) + merged["seconds"]
        print(f"sharded, one step after another: {in_turn:.2f} s; side by side: {side_by_side:.2f} s", flush=True)


if __name__ == "__main__":
    main()
