"""Publishing a run's outputs atomically, and the DuckDB warehouse over them.

A run is written to `published/runs/.staging-<run id>/`, renamed to `published/runs/<run id>/`
when complete, and only then do `published/<run date>` and `published/latest` (symlinks) move to
it. A dialler reading `latest/` sees the previous complete run or the new one, never a half.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.calling_time import TIMING_COLUMNS
from pipelines.certificate import certificate_text
from pipelines.expiry import EXPIRED
from pipelines.ingest import file_sha256
from pipelines.parquet_files import write_parquet

LATEST = "latest"
MANIFEST = "manifest.json"
CERTIFICATE_SUFFIX = ".certificate"
VALIDITY_SUFFIX = ".validity.json"
RUNS = "runs"
# Warehouse view name → glob of the published Parquet it reads, relative to a run directory.
WAREHOUSE_VIEWS = {
    "clean_call_lists": "clean/*.parquet",
    "suppressed": "suppressed/*.parquet",
    "invalid": "invalid/*.parquet",
    "deferred": "deferred/*.parquet",
    "number_analytics": "analytics/numbers.parquet",
    "contacts": "crm/contacts.parquet",
    "suppression_list": "suppression/suppression_list.parquet",
}
# Each run's outcome per (campaign, number); the warehouse's `number_history` reads it across every run.
NUMBER_OUTCOMES = "history/number_outcomes.parquet"
_NUMBER_HISTORY = """
create view number_history as
with outcomes as (
    select * exclude (filename)
    from read_parquet({source}, union_by_name = true, filename = true)
    where filename not like '%/.staging-%'
)

select *
from outcomes
qualify row_number() over (partition by run_date, campaign, phone_e164 order by run_started_at desc) = 1
"""
# Analytics a run publishes as `analytics/<name>.parquet` and the warehouse shows as views of the same
# name when the run has them: calling windows always, the rest only with a call log, none in older runs.
ANALYTICS_VIEWS = (
    "calling_windows", "cli_days", "cli_health", "pool_capacity", "dialled_numbers", "call_limit_breaches",
)  # fmt: skip


def run_outputs(
    scrubbed: pl.DataFrame,
    *,
    number_analytics: pl.DataFrame,
    contacts: pl.DataFrame,
    suppression_list: pl.DataFrame,
    number_outcomes: pl.DataFrame,
    analytics: Mapping[str, pl.DataFrame] | None = None,
) -> dict[str, pl.DataFrame]:
    """Every file a run publishes, by path relative to the run directory; `analytics` by name (ANALYTICS_VIEWS)."""
    outputs: dict[str, pl.DataFrame] = {}
    for (campaign,), leads in scrubbed.sort("campaign").group_by("campaign", maintain_order=True):
        clean = leads.filter(pl.col("outcome") == "clean").select(
            "campaign", "lead_id", "phone_e164", "phone_type", "phone_region", "source_file", "source_row",
            "exemption_reason", *TIMING_COLUMNS,
        )  # fmt: skip
        outputs[f"clean/{campaign}.parquet"] = clean
        outputs[f"clean/{campaign}.csv"] = clean
        outputs[f"suppressed/{campaign}.parquet"] = leads.filter(pl.col("outcome") == "suppressed").drop(
            "quarantine_reason", "raw_record", *TIMING_COLUMNS
        )
        outputs[f"invalid/{campaign}.parquet"] = leads.filter(pl.col("outcome") == "invalid").drop(
            "quarantine_reason", "raw_record", "suppression_sources", "exemptions", "exemption_reason", *TIMING_COLUMNS
        )
        # The window of a number deferred for its call limit says when the limit would have let it be called.
        outputs[f"deferred/{campaign}.parquet"] = leads.filter(pl.col("outcome") == "deferred").drop(
            "quarantine_reason", "raw_record", "suppression_sources"
        )
    outputs["analytics/numbers.parquet"] = number_analytics
    outputs["crm/contacts.parquet"] = contacts
    outputs["suppression/suppression_list.parquet"] = suppression_list
    outputs[NUMBER_OUTCOMES] = number_outcomes
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
    certificates: Mapping[str, Mapping[str, object]] | None = None,
    sign: Callable[[Path], Path] | None = None,
) -> Path:
    """Write `outputs`, each campaign's scrub certificate and `manifest.json` to a new run directory, then point
    `<run date>` and `latest` at it. `certificates` are by campaign, completed here with their list's checksums;
    `sign` (`signing.sign_file` with the key), when given, signs each certificate's JSON and the manifest.
    """
    runs_dir = published_dir / RUNS
    staging = runs_dir / f".staging-{run_id}"
    final = runs_dir / run_id
    runs_dir.mkdir(parents=True, exist_ok=True)
    try:
        staging.mkdir()
        for relative_path, frame in outputs.items():
            _write(frame, staging / relative_path)
        files = {path: {"rows": frame.height, "sha256": file_sha256(staging / path)} for path, frame in outputs.items()}
        written = [
            path
            for campaign, certificate in (certificates or {}).items()
            for path in _write_certificate(certificate, staging, campaign=campaign, files=files)
        ]
        certified = {path: file_sha256(staging / path) for path in written}
        (staging / MANIFEST).write_text(
            json.dumps({**manifest, "outputs": files, "certificates": certified}, indent=2, default=_iso)
        )
        if sign is not None:
            for path in [*(path for path in written if path.endswith(f"{CERTIFICATE_SUFFIX}.json")), MANIFEST]:
                sign(staging / path)
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _point(published_dir / run_date.isoformat(), at=Path(RUNS) / run_id)
    _point(published_dir / LATEST, at=Path(RUNS) / run_id)
    (published_dir / EXPIRED).unlink(missing_ok=True)
    return final


def build_warehouse(warehouse_path: Path, *, run_dir: Path, status: pl.DataFrame) -> list[str]:
    """Build a fresh DuckDB file of views over a published run, `number_history` over every run that has
    number outcomes, and the table `list_status` (`status`: the run, its `valid_through`, whether it is current
    or withdrawn as expired), and swap it in; returns the views and the table."""
    building = warehouse_path.with_name(f".{warehouse_path.name}.building")
    building.unlink(missing_ok=True)
    present = {name: _analytics_path(name) for name in ANALYTICS_VIEWS if (run_dir / _analytics_path(name)).is_file()}
    views = {**WAREHOUSE_VIEWS, **present}
    connection = duckdb.connect(str(building))
    try:
        for view, pattern in views.items():
            source = _literal(run_dir.resolve() / pattern)
            connection.execute(f"create view {view} as select * from read_parquet({source})")
        connection.register("status", status.to_arrow())
        connection.execute("create table list_status as select * from status")
        views = {**views, "list_status": "the published list's validity"}
        runs_dir = run_dir.resolve().parent
        if any(runs_dir.glob(f"*/{NUMBER_OUTCOMES}")):
            connection.execute(_NUMBER_HISTORY.format(source=_literal(runs_dir / "*" / NUMBER_OUTCOMES)))
            views = {**views, "number_history": f"{RUNS}/*/{NUMBER_OUTCOMES}"}
    finally:
        connection.close()
    # Readers holding the old file keep their handle; new readers open the new file.
    os.replace(building, warehouse_path)
    return list(views)


def _write_certificate(
    certificate: Mapping[str, object], staging: Path, *, campaign: str, files: Mapping[str, Mapping[str, object]]
) -> list[str]:
    """Write `clean/<campaign>.certificate.json` and `.txt`, naming the clean list's files and SHA-256, and the
    list's companion `clean/<campaign>.validity.json`: what a dialler needs to know when to stop using it."""
    listed = {path: files[path] for path in (f"clean/{campaign}.parquet", f"clean/{campaign}.csv")}
    serialised = json.dumps({**certificate, "list": listed}, indent=2, default=_iso)
    paths = [
        f"clean/{campaign}{CERTIFICATE_SUFFIX}.json",
        f"clean/{campaign}{CERTIFICATE_SUFFIX}.txt",
        f"clean/{campaign}{VALIDITY_SUFFIX}",
    ]
    companion = {
        "run_id": certificate["run_id"],
        "campaign": campaign,
        "valid_through": certificate["valid_through"],
        "list": listed,
        "certificate": paths[0],
    }
    (staging / paths[0]).write_text(serialised)
    (staging / paths[1]).write_text(certificate_text(json.loads(serialised)))
    (staging / paths[2]).write_text(json.dumps(companion, indent=2, default=_iso))
    return paths


def _iso(value: object) -> str:
    """Instants as ISO 8601 with `T` and zone, as every reader of the companion file expects."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _literal(path: Path) -> str:
    """A path of ours as an SQL string literal: DDL cannot take bound parameters."""
    return "'" + str(path).replace("'", "''") + "'"


def _analytics_path(name: str) -> str:
    if name not in ANALYTICS_VIEWS:
        raise ValueError(f"'{name}' is not one of the published analytics: {', '.join(ANALYTICS_VIEWS)}")
    return f"analytics/{name}.parquet"


def _write(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        # Instants are UTC, written as ISO 8601 with a Z and only the fractions of a second they have.
        frame.write_csv(path, datetime_format="%Y-%m-%dT%H:%M:%S%.fZ")
    else:
        write_parquet(frame, path)


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
