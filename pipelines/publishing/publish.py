"""Publishing a run's outputs atomically, and the DuckDB warehouse over them.

A run is written to `published/.staging/<run id>/`, outside `runs/`, so nothing that reads
`runs/*/` (the warehouse's `number_history`) ever sees a half-written run. It is renamed to
`published/runs/<run id>/` when complete; the new warehouse is built over it; only then do
`published/<run date>` and `published/latest` (symlinks) move to it, and only if it started
later than the run they point at; last the warehouse is swapped in. A dialler reading `latest/`
sees the previous complete run or the new one, never a half, and a run that fails before the
links move leaves nothing in `runs/`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import duckdb
import polars as pl

from pipelines.calling.deferral import TIMING_COLUMNS
from pipelines.inputs.records import file_sha256
from pipelines.parquet_files import write_parquet
from pipelines.publishing.certificate import certificate_text
from pipelines.publishing.expiry import EXPIRED, list_status

LATEST = "latest"
MANIFEST = "manifest.json"
CERTIFICATE_SUFFIX = ".certificate"
VALIDITY_SUFFIX = ".validity.json"
RUNS = "runs"
# What is left of a run past `retention.run_days`: its manifest, certificates and number outcomes.
ARCHIVE = "archive"
_ARCHIVED = ("manifest.json*", "history/*", f"clean/*{CERTIFICATE_SUFFIX}.*", f"clean/*{VALIDITY_SUFFIX}*")
# Runs being written, outside `runs/` so that no glob over complete runs can see one.
STAGING = ".staging"
# Manifest key: when the run was created (real time, not its `as_of` clock); links move only to later runs.
CREATED_AT = "run_created_at"
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
    select *
    from read_parquet({source}, union_by_name = true)
)

select *
from outcomes
-- The run its date link points at: the one created last (runs from before run_created_at count as older).
qualify row_number() over (
    partition by run_date, campaign, phone_e164 order by run_created_at desc nulls last, run_started_at desc
) = 1
"""
_CONTENTS = """
select view_name from duckdb_views() where not internal and database_name = current_database()
union all
select table_name from duckdb_tables() where database_name = current_database()
"""
# The warehouse's one table: the published list's validity (see `pipelines.publishing.expiry`).
LIST_STATUS = "list_status"
_FORMULA_START = r"^[=+\-@\t\r]"
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


class PublishedRun(NamedTuple):
    """Where a run was published, which links moved to it, and where analyst work found in the warehouse went."""

    run_dir: Path
    links_moved: list[str]
    analyst_work_kept: Path | None


def publish_run(
    outputs: Mapping[str, pl.DataFrame],
    *,
    published_dir: Path,
    warehouse: Path,
    run_id: str,
    run_date: date,
    run_created_at: datetime,
    manifest: Mapping[str, object],
    certificates: Mapping[str, Mapping[str, object]] | None = None,
    sign: Callable[[Path], Path] | None = None,
) -> PublishedRun:
    """Write `outputs`, each campaign's scrub certificate and `manifest.json` to a new run directory, build the
    warehouse over it, then point `<run date>` and `latest` at it where the run they point at was created
    before `run_created_at`, and swap the warehouse in with `latest`. `certificates` are by campaign, completed
    here with their list's checksums; `sign` (`signing.sign_file` with the key), when given, signs each
    certificate's JSON and the manifest. A failure before the links move removes the run directory.
    """
    run_dir = _commit_run_dir(
        outputs,
        published_dir=published_dir,
        run_id=run_id,
        manifest={**manifest, CREATED_AT: run_created_at.isoformat()},
        certificates=certificates or {},
        sign=sign,
    )
    try:
        building = build_warehouse(warehouse, run_dir=run_dir, status=list_status(run_dir))
    except BaseException:
        shutil.rmtree(run_dir)
        raise
    links = [published_dir / run_date.isoformat(), published_dir / LATEST]
    moved = [link.name for link in links if _point_if_newer(link, run_dir=run_dir, created_at=run_created_at)]
    if LATEST not in moved:
        building.unlink()
        return PublishedRun(run_dir, moved, None)
    (published_dir / EXPIRED).unlink(missing_ok=True)
    return PublishedRun(run_dir, moved, install_warehouse(building, warehouse, replaced_by=run_id))


def clear_unfinished_publishing(published_dir: Path, *, warehouse: Path) -> list[Path]:
    """Remove what dead runs left half-done: staging folders, a half-built warehouse, half-made links.

    Call it only under the data directory's lock, when no other run can be publishing.
    """
    leftovers = [
        *(published_dir / STAGING).glob("*"),
        *published_dir.glob(".*.swap"),
        *warehouse.parent.glob(f".{warehouse.name}.building*"),
    ]
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return leftovers


def archive_old_runs(published_dir: Path, *, started_before: datetime) -> list[str]:
    """Archive every run started before `started_before` except the one `latest` points at: its manifest,
    certificates and number outcomes move to `archive/<run id>/` (where `number_history` still reads them), the
    rest of its folder is removed, and a date link to it goes. Returns the runs archived."""
    latest = (published_dir / LATEST).resolve()
    old = [
        run
        for run in sorted((published_dir / RUNS).glob("*"))
        if (run / MANIFEST).is_file() and run.resolve() != latest and _started_at(run / MANIFEST) < started_before
    ]
    for run in old:
        for path in (path for pattern in _ARCHIVED for path in run.glob(pattern)):
            target = published_dir / ARCHIVE / run.name / path.relative_to(run)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        shutil.rmtree(run)
    for link in published_dir.glob("*"):
        if link.is_symlink() and not link.exists():
            link.unlink()
    return [run.name for run in old]


def _started_at(manifest: Path) -> datetime:
    """A run's instant; runs published before manifests recorded it give when they were published."""
    recorded = json.loads(manifest.read_text())
    return datetime.fromisoformat(recorded.get("run_started_at") or recorded["published_at"])


def build_warehouse(warehouse_path: Path, *, run_dir: Path, status: pl.DataFrame) -> Path:
    """Build a fresh DuckDB file beside `warehouse_path` of views over a published run, `number_history` over
    every run that has number outcomes, and the table `list_status` (`status`: the run, its `valid_through`,
    whether it is current or withdrawn as expired); returns the new file, for `install_warehouse`."""
    building = warehouse_path.with_name(f".{warehouse_path.name}.building")
    building.unlink(missing_ok=True)
    present = {name: _analytics_path(name) for name in ANALYTICS_VIEWS if (run_dir / _analytics_path(name)).is_file()}
    connection = duckdb.connect(str(building))
    try:
        for view, pattern in {**WAREHOUSE_VIEWS, **present}.items():
            source = _literal(run_dir.resolve() / pattern)
            connection.execute(f"create view {view} as select * from read_parquet({source})")
        connection.register("status", status.to_arrow())
        connection.execute(f"create table {LIST_STATUS} as select * from status")
        published_dir = run_dir.resolve().parent.parent
        outcomes = [
            folder / "*" / NUMBER_OUTCOMES
            for folder in (published_dir / RUNS, published_dir / ARCHIVE)
            if any(folder.glob(f"*/{NUMBER_OUTCOMES}"))
        ]
        if outcomes:
            sources = "[" + ", ".join(_literal(glob) for glob in outcomes) + "]"
            connection.execute(_NUMBER_HISTORY.format(source=sources))
    finally:
        connection.close()
    return building


def install_warehouse(building: Path, warehouse_path: Path, *, replaced_by: str) -> Path | None:
    """Swap the built warehouse in. Readers holding the old file keep their handle; new readers open the new one.

    The warehouse is the pipeline's and is rebuilt every run. If someone wrote into the old one (tables or views
    of their own, a write-ahead log, or a write session still open), it is moved aside with its log to
    `warehouse.analyst-<replaced_by>.duckdb` rather than replaced, and that path is returned, so nothing is lost
    silently and no stale log is left beside the new file.
    """
    kept = None
    if warehouse_path.exists() and _holds_analyst_work(warehouse_path):
        kept = warehouse_path.with_name(f"{warehouse_path.stem}.analyst-{replaced_by}{warehouse_path.suffix}")
        os.replace(warehouse_path, kept)
        if _wal(warehouse_path).exists():
            os.replace(_wal(warehouse_path), _wal(kept))
    os.replace(building, warehouse_path)
    return kept


def warehouse_contents(warehouse_path: Path) -> list[str]:
    """The views and tables of a warehouse file, by name."""
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        return [name for (name,) in connection.execute(_CONTENTS).fetchall()]


def _commit_run_dir(
    outputs: Mapping[str, pl.DataFrame],
    *,
    published_dir: Path,
    run_id: str,
    manifest: Mapping[str, object],
    certificates: Mapping[str, Mapping[str, object]],
    sign: Callable[[Path], Path] | None,
) -> Path:
    """Write the run in its staging folder (signed when `sign` is given) and rename it into `runs/` whole."""
    staging = published_dir / STAGING / run_id
    final = published_dir / RUNS / run_id
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging.mkdir(parents=True)
        for relative_path, frame in outputs.items():
            _write(frame, staging / relative_path)
        files = {path: {"rows": frame.height, "sha256": file_sha256(staging / path)} for path, frame in outputs.items()}
        written = [
            path
            for campaign, certificate in certificates.items()
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
    return final


def _point_if_newer(link: Path, *, run_dir: Path, created_at: datetime) -> bool:
    """Point `link` at `run_dir` unless it points at a run created at or after `created_at`; whether it moved."""
    current = link / MANIFEST
    if current.is_file():
        recorded = json.loads(current.read_text()).get(CREATED_AT)
        if recorded is not None and datetime.fromisoformat(recorded) >= created_at:
            return False
    _point(link, at=run_dir.relative_to(link.parent))
    return True


def _holds_analyst_work(warehouse_path: Path) -> bool:
    """Whether anyone but the pipeline has written to, or is writing to, a warehouse file."""
    if _wal(warehouse_path).exists():
        return True
    try:
        contents = set(warehouse_contents(warehouse_path))
    except duckdb.IOException:  # a write session holds the file's lock
        return True
    return not contents <= {*WAREHOUSE_VIEWS, *ANALYTICS_VIEWS, "number_history", LIST_STATUS}


def _wal(database: Path) -> Path:
    return database.with_name(f"{database.name}.wal")


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
        spreadsheet_safe(frame).write_csv(path, datetime_format="%Y-%m-%dT%H:%M:%S%.fZ")
    else:
        write_parquet(frame, path)


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would execute (beginning `=`, `+`, `-`, `@`, tab or carriage return) prefixed
    with `'`, as OWASP recommends for CSV files; `*_e164` columns, validated `+` and digits, stay as they are."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String and not name.endswith("_e164")]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(_FORMULA_START))
        .then(pl.concat_str(pl.lit("'"), name))
        .otherwise(name)
        .alias(name)
        for name in text
    )


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
