"""Publishing a run's outputs atomically, and the DuckDB warehouse over them.

A run is written to `published/runs/.staging-<run id>/`, renamed to `published/runs/<run id>/`
when complete, and only then do `published/<run date>` and `published/latest` (symlinks) move to
it. A dialler reading `latest/` sees the previous complete run or the new one, never a half.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipelines.ingest import file_sha256

LATEST = "latest"
MANIFEST = "manifest.json"
RUNS = "runs"
# Warehouse view name → glob of the published Parquet it reads, relative to a run directory.
WAREHOUSE_VIEWS = {
    "clean_call_lists": "clean/*.parquet",
    "suppressed": "suppressed/*.parquet",
    "invalid": "invalid/*.parquet",
    "number_analytics": "analytics/numbers.parquet",
    "contacts": "crm/contacts.parquet",
    "suppression_list": "suppression/suppression_list.parquet",
}
# Analytics a run publishes as `analytics/<name>.parquet` and the warehouse shows as views of the same
# name when the run has them: calling windows always, the rest only with a call log, none in older runs.
ANALYTICS_VIEWS = ("calling_windows", "cli_days", "cli_health", "pool_capacity", "dialled_numbers")


def run_outputs(
    scrubbed: pl.DataFrame,
    *,
    number_analytics: pl.DataFrame,
    contacts: pl.DataFrame,
    suppression_list: pl.DataFrame,
    analytics: Mapping[str, pl.DataFrame] | None = None,
) -> dict[str, pl.DataFrame]:
    """Every file a run publishes, by path relative to the run directory; `analytics` by name (ANALYTICS_VIEWS)."""
    outputs: dict[str, pl.DataFrame] = {}
    for (campaign,), leads in scrubbed.sort("campaign").group_by("campaign", maintain_order=True):
        clean = leads.filter(pl.col("outcome") == "clean").select(
            "campaign", "lead_id", "phone_e164", "phone_type", "phone_region", "source_file", "source_row"
        )
        outputs[f"clean/{campaign}.parquet"] = clean
        outputs[f"clean/{campaign}.csv"] = clean
        outputs[f"suppressed/{campaign}.parquet"] = leads.filter(pl.col("outcome") == "suppressed").drop(
            "quarantine_reason", "raw_record"
        )
        outputs[f"invalid/{campaign}.parquet"] = leads.filter(pl.col("outcome") == "invalid").drop(
            "quarantine_reason", "raw_record", "suppression_sources"
        )
    outputs["analytics/numbers.parquet"] = number_analytics
    outputs["crm/contacts.parquet"] = contacts
    outputs["suppression/suppression_list.parquet"] = suppression_list
    for name, frame in (analytics or {}).items():
        outputs[_analytics_path(name)] = frame
    return outputs


def publish_run(
    outputs: Mapping[str, pl.DataFrame],
    *,
    published_dir: Path,
    run_id: str,
    run_date: date,
    manifest: Mapping[str, object],
) -> Path:
    """Write `outputs` and `manifest.json` to a new run directory, then point `<run date>` and `latest` at it."""
    runs_dir = published_dir / RUNS
    staging = runs_dir / f".staging-{run_id}"
    final = runs_dir / run_id
    runs_dir.mkdir(parents=True, exist_ok=True)
    try:
        staging.mkdir()
        for relative_path, frame in outputs.items():
            _write(frame, staging / relative_path)
        files = {path: {"rows": frame.height, "sha256": file_sha256(staging / path)} for path, frame in outputs.items()}
        (staging / MANIFEST).write_text(json.dumps({**manifest, "outputs": files}, indent=2, default=str))
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _point(published_dir / run_date.isoformat(), at=Path(RUNS) / run_id)
    _point(published_dir / LATEST, at=Path(RUNS) / run_id)
    return final


def build_warehouse(warehouse_path: Path, *, run_dir: Path) -> list[str]:
    """Build a fresh DuckDB file of views over a published run and swap it in; returns the views."""
    building = warehouse_path.with_name(f".{warehouse_path.name}.building")
    building.unlink(missing_ok=True)
    present = {name: _analytics_path(name) for name in ANALYTICS_VIEWS if (run_dir / _analytics_path(name)).is_file()}
    views = {**WAREHOUSE_VIEWS, **present}
    connection = duckdb.connect(str(building))
    try:
        for view, pattern in views.items():
            # DDL cannot take bound parameters; the path is ours, quoted as an SQL string literal.
            source = str(run_dir.resolve() / pattern).replace("'", "''")
            connection.execute(f"create view {view} as select * from read_parquet('{source}')")
    finally:
        connection.close()
    # Readers holding the old file keep their handle; new readers open the new file.
    os.replace(building, warehouse_path)
    return list(views)


def _analytics_path(name: str) -> str:
    if name not in ANALYTICS_VIEWS:
        raise ValueError(f"'{name}' is not one of the published analytics: {', '.join(ANALYTICS_VIEWS)}")
    return f"analytics/{name}.parquet"


def _write(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path, compression="zstd")


def _point(link: Path, *, at: Path) -> None:
    """Atomically make `link` a symlink to `at` (relative), replacing what was there."""
    temporary = link.with_name(f".{link.name}.swap")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(at)
    os.replace(temporary, link)


def write_quarantine(records: pl.DataFrame, *, quarantine_dir: Path, name: str) -> Path | None:
    """Write a run's unreadable records to `<quarantine_dir>/<name>.parquet`; None when there are none."""
    if records.height == 0:
        return None
    path = quarantine_dir / f"{name}.parquet"
    _write(records, path)
    return path
