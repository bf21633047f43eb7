"""Time and peak memory of the call analytics over a month of seeded, generated call records.

    .venv/bin/python benchmarks/call_analytics.py                 # 10M calls
    .venv/bin/python benchmarks/call_analytics.py --rows 1000000

Each stage runs as the nightly job runs it: the raw log normalised to E.164, the attempts located and
limited once, then CLI days, CLI health, pool capacity and dialled-number history. Peak memory is the
process's resident high-water mark (ru_maxrss) after each stage, so it only grows; the last figure is
the run's peak.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from pipelines.analytics.cli_health import cli_days, cli_health, pool_capacity
from pipelines.analytics.dialled_numbers import dialled_numbers
from pipelines.calling.deferral import limited_calls
from pipelines.calling.rules import CallingTime
from pipelines.config import CallAnalytics
from pipelines.inputs.calls import normalise_call_records, normalise_number_estate

FIRST_DAY = date(2026, 10, 28)
DAYS = 30
# Real area codes, Florida's and Oklahoma's among them, and Idaho's split one.
AREA_CODES = [201, 212, 305, 312, 405, 415, 512, 617, 702, 213, 404, 206, 303, 208, 850, 918, 713, 602]
DISPOSITIONS = ["answered", "no_answer", "voicemail", "busy", "failed"]
DISPOSITION_SHARES = [0.28, 0.45, 0.17, 0.07, 0.03]
CALLS_PER_CLI = 650  # about 22 a day: some CLI-days go over the cap of 25
CLIS_PER_POOL = 300


def main() -> None:
    arguments = _parser().parse_args()
    rules = CallAnalytics()
    calling_rules = CallingTime().rules
    records, estate = generate(arguments.rows, seed=arguments.seed)
    print(f"{records.height:,} call records, {estate.height:,} CLIs, {DAYS} days")
    calls = _timed("normalise call records", lambda: normalise_call_records(records, default_region="US"))
    clis = _timed("normalise number estate", lambda: normalise_number_estate(estate, default_region="US")[0])
    attempts = _timed("limited_calls", lambda: limited_calls(calls, rules=calling_rules))
    days = _timed(
        "cli_days",
        lambda: cli_days(
            attempts, clis, daily_cap=rules.daily_cap, short_call_s=rules.short_call_s, rules=calling_rules
        ),
    )
    as_of = FIRST_DAY + timedelta(days=DAYS)
    health = _timed(
        "cli_health",
        lambda: cli_health(
            days,
            clis,
            thresholds=rules.health,
            daily_cap=rules.daily_cap,
            short_call_s=rules.short_call_s,
            as_of=as_of,
        ),
    )
    _timed(
        "pool_capacity", lambda: pool_capacity(health, daily_cap=rules.daily_cap, recent_days=rules.health.recent_days)
    )
    suppression_list = calls.select(phone_e164="dialled_e164").drop_nulls().unique().sample(fraction=0.01, seed=1)
    _timed(
        "dialled_numbers",
        lambda: dialled_numbers(
            attempts, suppression_list, as_of=datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
        ),
    )


def generate(rows: int, *, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`rows` raw call records over `DAYS` days from an estate sized to dial about 22 calls per CLI a day."""
    rng = np.random.default_rng(seed)
    count_clis = max(rows // CALLS_PER_CLI, 1)
    clis = _us_numbers(rng, count_clis)
    recipients = _us_numbers(rng, max(rows // 5, 1))
    seconds = rng.integers(0, DAYS * 86_400, size=rows)
    is_answered_short = rng.random(rows) < 0.06
    records = pl.DataFrame(
        {
            "call_id": pl.int_range(1, rows + 1, eager=True).cast(pl.String),
            "cli": rng.choice(clis, size=rows),
            "dialled": rng.choice(recipients, size=rows),
            "started_at": pl.Series(seconds * 1_000_000).cast(pl.Datetime("us"))
            + (datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day) - datetime(1970, 1, 1)),
            "duration_s": np.where(is_answered_short, rng.integers(1, 10, size=rows), rng.integers(10, 600, size=rows)),
            "disposition": rng.choice(DISPOSITIONS, size=rows, p=DISPOSITION_SHARES),
            "complaint": np.where(rng.random(rows) < 0.001, "yes", ""),
        }
    ).with_columns(
        pl.col("started_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.col("duration_s").cast(pl.String),
        source_file=pl.lit("inbox/calls/log.csv"),
        source_row=pl.int_range(1, rows + 1, dtype=pl.Int64),
        source_sha256=pl.lit("0" * 64),
        quarantine_reason=pl.lit(None, pl.String),
        raw_record=pl.lit(None, pl.String),
    )
    estate = pl.DataFrame(
        {
            "cli": clis,
            "pool": np.char.add("pool_", (np.arange(count_clis) // CLIS_PER_POOL).astype(str)),
            "carrier": rng.choice(["Bandwidth", "Telnyx", "Twilio"], size=count_clis),
            "attestation": rng.choice(["A", "B", "C"], size=count_clis, p=[0.8, 0.15, 0.05]),
            "reputation_label": np.where(rng.random(count_clis) < 0.02, "spam_likely", ""),
            "reputation_checked_on": f"{FIRST_DAY:%Y-%m-%d}",
            "source_file": "inbox/estate/clis.csv",
            "source_row": np.arange(1, count_clis + 1),
            "source_sha256": "0" * 64,
        }
    ).with_columns(quarantine_reason=pl.lit(None, pl.String), raw_record=pl.lit(None, pl.String))  # as read
    return records, estate


def _us_numbers(rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` distinct E.164 strings in real area codes with a valid exchange (200–999)."""
    area_codes = rng.choice(AREA_CODES, size=count * 2)
    subscribers = rng.integers(2_000_000, 10_000_000, size=count * 2)
    numbers = pl.Series(area_codes * 10_000_000 + subscribers).unique(maintain_order=True).head(count)
    return ("+1" + numbers.cast(pl.String)).to_numpy()


def _timed(stage: str, run: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """Run one stage and print its time, its rows and the process's peak memory so far."""
    started = time.perf_counter()
    result = run()
    elapsed_s = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(f"{stage:<26} {elapsed_s:7.1f} s  {result.height:>12,} rows  peak {peak_mib:8,.0f} MiB")
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="call records to generate (default 10M)")
    parser.add_argument("--seed", type=int, default=20261127)
    return parser


if __name__ == "__main__":
    main()
