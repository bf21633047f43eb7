"""Benchmark: the whole nightly run, as a user runs it, on a generated data directory at a given scale.

    .venv/bin/python -m benchmarks.nightly --leads 1000000                        # 20M-number registry
    .venv/bin/python -m benchmarks.nightly --leads 10000000 --registry 250000000  # issue 14's target scale
    .venv/bin/python -m benchmarks.nightly --leads 1000000 --shards 4             # the scrub in 4 steps

The data directory holds a zipped US registry download in the real layout with a change list, four
campaigns of mixed formats (about 40% of their numbers registered), a CRM of `leads / 2` contacts with
two phones, internal opt-outs, a call log of `leads` calls and its number estate. It then runs
the registry's first ingest alone (its stored snapshot), then `scrubline run --data-dir DIR --as-of INSTANT`
in its own process three times: a night against the stored registry (as of 02:00 UTC today), the next
night with no new inputs (02:00 UTC tomorrow: the lists of a new day, the frames that depend on the inputs
alone reused), and the same night re-run an hour later (same day, same inputs). Each reports wall time,
the process's own peak memory, the load as it ended and the ten slowest steps. Figures are wall-clock on
whatever machine runs it; tests never assert them.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks.call_analytics import generate as generate_calls
from benchmarks.workloads import crm_mix, write_us_changes, write_us_download

SEED = 20261207
# The downloads are dated the week before the day the benchmark runs, as a nightly operator's would be.
TODAY = datetime.now(UTC).date()
FULL_LIST_ON = TODAY - timedelta(days=7)
CHANGES_ON = TODAY - timedelta(days=1)
# The nights' clocks (`scrubline run --as-of`): the nightly schedule's 02:00 UTC today, then the next night.
FIRST_NIGHT = datetime(TODAY.year, TODAY.month, TODAY.day, 2, tzinfo=UTC)
NIGHTS = {
    "night, registry stored": FIRST_NIGHT,
    "next night, no new inputs": FIRST_NIGHT + timedelta(days=1),
    "same night re-run an hour later, no new inputs": FIRST_NIGHT + timedelta(days=1, hours=1),
}
CAMPAIGNS = ("spring", "summer", "autumn", "winback")
REGISTERED_SHARE = 0.4
CONFIG = f"""\
default_region: US
crm:
  path: inbox/crm/*.csv
  id_column: contact_id
  phone_columns: [phone, mobile]
  country_column: country
  do_not_call_column: do_not_call
dialler:
  path: inbox/dialler/*.csv
  id_column: lead_id
  phone_column: phone
  country_column: country
registries:
  - name: internal_optouts
    format: plain
    path: inbox/registries/internal/*.csv
    phone_column: phone
    requested_at_column: requested_at
    region: US
  - name: us_national_dnc
    format: us_dnc
    path: inbox/registries/national/full/*.zip
    changes: inbox/registries/national/changes/*.txt
    full_list_downloaded_on: {FULL_LIST_ON}
    downloaded_on: {CHANGES_ON}
    max_invalid_share: 0.25  # the generated download's exchanges are uniform: a fifth start 0 or 1
calls:
  records: {{path: inbox/calls/*.csv, complaint_column: complaint}}
  estate: {{path: inbox/estate/*.csv, reputation_label_column: reputation_label,
            reputation_checked_column: reputation_checked_on}}
"""


def generate(data_dir: Path, *, leads: int, registry: int, shards: int = 1) -> None:
    """Write the data directory: `scrubline.yaml` (the scrub in `shards` steps) and an inbox at the given scale."""
    inbox = data_dir / "inbox"
    national = inbox / "registries/national"
    data_dir.mkdir(parents=True)
    flat = data_dir / "us_dnc.txt"
    write_us_download(flat, registry, seed=SEED)
    (national / "full").mkdir(parents=True)
    with zipfile.ZipFile(national / "full/us_dnc.zip", "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.write(flat, "us_dnc.txt")
    registered = pl.read_csv(
        flat, has_header=False, separator="|", schema={"phone": pl.String}, n_rows=leads
    ).with_columns(pl.col("phone").str.replace(",", "", literal=True))
    flat.unlink()
    (national / "changes").mkdir()
    write_us_changes(national / f"changes/{CHANGES_ON}.txt", max(registry // 100, 1), seed=SEED + 1)
    _write_csv(inbox / "dialler", _campaigns(leads, registered))
    _write_csv(inbox / "crm", {"contacts": _crm(leads // 2)})
    # Opt-outs are the programme's own US leads: numbers whose exchange starts 2–9 (valid), dashed.
    valid = registered.filter(pl.col("phone").str.slice(3, 1) >= "2").head(max(leads // 100, 1))
    optouts = valid.select(phone=_dashed(pl.col("phone")), requested_at=pl.lit("2026-10-01"))
    _write_csv(inbox / "registries/internal", {"optouts": optouts})
    calls, estate = generate_calls(leads, seed=SEED + 4)
    _write_csv(inbox / "calls", {"log": calls.select(pl.exclude("^source_.*$", "quarantine_reason", "raw_record"))})
    _write_csv(inbox / "estate", {"clis": estate.select(pl.exclude("^source_.*$", "quarantine_reason", "raw_record"))})
    (data_dir / "scrubline.yaml").write_text(f"{CONFIG}scrub:\n  shards: {shards}\n", encoding="utf-8")


def _campaigns(leads: int, registered: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Four campaigns of mixed formats; about 40% of the rows are registered numbers, written as diallers do."""
    mix = crm_mix(leads, seed=SEED + 2)
    is_registered = pl.Series(np.random.default_rng(SEED).random(leads) < REGISTERED_SHARE)
    numbers = registered.get_column("phone").sample(leads, with_replacement=True, seed=SEED)
    rows = mix.with_columns(
        phone=pl.when(is_registered).then(_dashed(pl.lit(numbers))).otherwise("phone"),
        country=pl.when(is_registered).then(pl.lit("US")).otherwise("country"),
    ).with_row_index("lead_id")  # fmt: skip
    parts = np.array_split(np.arange(leads), len(CAMPAIGNS))
    return {
        campaign: rows[part.tolist()].select("lead_id", "phone", "country")
        for campaign, part in zip(CAMPAIGNS, parts, strict=True)
    }


def _dashed(national: pl.Expr) -> pl.Expr:
    """Ten US digits as a dialler writes them: `201-555-0123`."""
    return pl.concat_str(national.str.slice(0, 3), national.str.slice(3, 3), national.str.slice(6), separator="-")


def _crm(contacts: int) -> pl.DataFrame:
    phones = crm_mix(contacts * 2, seed=SEED + 5)
    return pl.DataFrame(
        {
            "contact_id": pl.int_range(contacts, eager=True).cast(pl.String),
            "phone": phones.get_column("phone").head(contacts),
            "mobile": phones.get_column("phone").tail(contacts),
            "country": phones.get_column("country").head(contacts),
            "do_not_call": np.where(np.random.default_rng(SEED).random(contacts) < 0.03, "yes", "no"),
        }
    )


def _write_csv(folder: Path, frames: dict[str, pl.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.write_csv(folder / f"{name}.csv")


def ingest(data_dir: Path) -> dict[str, object]:
    """The registry's first ingest alone (its stored snapshot), in its own process: wall time and peak memory."""
    code = (
        "import sys; from pathlib import Path; from pipelines.config import load_config; "
        "from pipelines.registries.store import registry_snapshots; d = Path(sys.argv[1]); "
        "registry_snapshots(load_config(d).registries, data_dir=d)"
    )
    measured, _ = _measured([sys.executable, "-c", code, str(data_dir)], env=dict(os.environ))
    return measured


def night(data_dir: Path, *, as_of: datetime) -> dict[str, object]:
    """`scrubline run --as-of` on the data directory in its own process: wall time, peak memory and the ten slowest
    steps, checks included, as it prints them (on an ephemeral Dagster instance, the only kind that takes an
    injected clock)."""
    command = [
        str(Path(sys.executable).with_name("scrubline")), "run", "--data-dir", str(data_dir),
        "--as-of", as_of.isoformat(),
    ]  # fmt: skip
    env = {name: value for name, value in os.environ.items() if name != "DAGSTER_HOME"}
    measured, printed = _measured(command, env=env)
    (slowest,) = [line for line in printed.splitlines() if line.startswith("slowest steps: ")]
    return {**measured, "slowest_steps": slowest.removeprefix("slowest steps: ")}


def _measured(command: list[str], *, env: dict[str, str]) -> tuple[dict[str, object], str]:
    """Run `command`; its wall time, its own peak resident memory (from the kernel's account of that child), the
    1-minute load average as it ended, and what it printed."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{command[0]} failed ({process.returncode}):\n{errors.read()[-4000:].decode()}")
        output.seek(0)
        printed = output.read().decode()
    measured = {
        "wall_s": round(time.perf_counter() - started, 1),
        "peak_memory_gb": round(usage.ru_maxrss / 1024**2, 2),
        "load_1min": round(os.getloadavg()[0], 1),
    }
    return measured, printed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--leads", type=int, default=1_000_000, help="dialler rows; CRM contacts are half, calls as many"
    )
    parser.add_argument("--registry", type=int, default=20_000_000, help="numbers in the US registry download")
    parser.add_argument("--shards", type=int, default=1, help="scrub.shards: the scrub's steps by number range")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it, instead of a temporary one")
    arguments = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {arguments.leads:,} leads, "
          f"{arguments.registry:,}-number registry, scrub in {arguments.shards} shard(s)", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="scrubline-nightly-") as scratch:
        data_dir = arguments.keep or Path(scratch) / "data"
        started = time.perf_counter()
        generate(data_dir, leads=arguments.leads, registry=arguments.registry, shards=arguments.shards)
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
        print(f"first ingest of the registry: {ingest(data_dir)}", flush=True)
        for label, as_of in NIGHTS.items():
            print(f"{label} (as of {as_of.isoformat()}): {night(data_dir, as_of=as_of)}", flush=True)


if __name__ == "__main__":
    main()
