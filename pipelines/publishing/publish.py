"""Publishing a run's outputs atomically; the warehouse over them is built by `warehouse`.

A run is written to `published/.staging/<run id>/`, outside `runs/`, so nothing that reads
`runs/*/` (the warehouse's `number_history`) ever sees a half-written run. It is renamed to
`published/runs/<run id>/` when complete; the new warehouse is built over it; only then do
`published/<run date>` and `published/latest` (symlinks) move to it, and only if it started
later than the run they point at; last the warehouse is swapped in. A dialler reading `latest/`
sees the previous complete run or the new one, never a half, and a run that fails before the
links move leaves nothing in `runs/`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import polars as pl

from pipelines.calling.deferral import TIMING_COLUMNS
from pipelines.inputs.records import file_sha256
from pipelines.parquet_files import write_parquet
from pipelines.publishing.certificate import certificate_text
from pipelines.publishing.dialler_files import GENERIC, dialler_files, list_files
from pipelines.publishing.expiry import EXPIRED, list_status
from pipelines.publishing.layout import ARCHIVE, LATEST, MANIFEST, NUMBER_OUTCOMES, RUNS, analytics_path
from pipelines.publishing.warehouse import build_warehouse, install_warehouse
from pipelines.records import Certificate, ListedFile, Manifest, Validity
from pipelines.validation.data_docs import DATA_DOCS

CERTIFICATE_SUFFIX = ".certificate"
VALIDITY_SUFFIX = ".validity.json"
CHECKSUM_SUFFIX = ".sha256"
# What is left of a run past `retention.run_days`: manifest, certificates, number outcomes and Data Docs.
_ARCHIVED = (
    "manifest.json*", "history/*", "data_docs/*", f"clean/*{CERTIFICATE_SUFFIX}.*", f"clean/*{VALIDITY_SUFFIX}*",
)  # fmt: skip
# Runs being written, outside `runs/` so that no glob over complete runs can see one.
STAGING = ".staging"
# Manifest key: when the run was created (real time, not its `as_of` clock); links move only to later runs.
CREATED_AT = "run_created_at"
_FORMULA_START = r"^[=+\-@\t\r]"
# What a quarantined record publishes: its lineage and reason, not its raw text (kept under quarantine/).
_QUARANTINED_COLUMNS = (
    "campaign", "seller", "lead_id", "source_file", "source_row", "source_sha256", "outcome", "reason",
)  # fmt: skip


# A file's rows: a frame, or a lazy frame collected only when the file is written.
Frame = pl.DataFrame | pl.LazyFrame


def run_outputs(
    scrubbed: pl.LazyFrame,
    *,
    number_analytics: Frame,
    contacts: Frame,
    suppression_list: Frame,
    number_outcomes: Frame,
    analytics: Mapping[str, Frame] | None = None,
    profiles: Callable[[str], Sequence[str]] = lambda campaign: [GENERIC],
) -> Iterator[tuple[str, Frame]]:
    """Every file a run publishes, by path relative to the run directory, one at a time; `analytics` by name
    (ANALYTICS_VIEWS); each campaign's clean list as Parquet and as a dialler file in each of its `profiles`
    (`dialler_files`).

    Only one campaign's scrubbed rows are read at a time, in their scrubbed order, and each of its files is cut
    from them as it is written: holding every campaign's rows, or every file until all are written, would hold
    two copies of the night's rows (5 GB at 10M leads)."""
    for campaign in scrubbed.select("campaign").unique().sort("campaign").collect().get_column("campaign"):
        leads = scrubbed.filter(pl.col("campaign") == campaign).collect()
        clean = leads.filter(pl.col("outcome") == "clean").select(
            "campaign", "lead_id", "phone_e164", "phone_type", "phone_region", "source_file", "source_row",
            "exemption_reason", *TIMING_COLUMNS,
        )  # fmt: skip
        yield f"clean/{campaign}.parquet", clean
        yield from dialler_files(clean, campaign=campaign, profiles=profiles(campaign)).items()
        yield (
            f"suppressed/{campaign}.parquet",
            leads.filter(pl.col("outcome") == "suppressed").drop("quarantine_reason", "raw_record", *TIMING_COLUMNS),
        )
        yield (
            f"invalid/{campaign}.parquet",
            leads.filter(pl.col("outcome") == "invalid").drop(
                "quarantine_reason",
                "raw_record",
                "suppression_sources",
                "exemptions",
                "exemption_reason",
                *TIMING_COLUMNS,
            ),
        )
        # The window of a number deferred for its call limit says when the limit would have let it be called.
        yield (
            f"deferred/{campaign}.parquet",
            leads.filter(pl.col("outcome") == "deferred").drop(
                "quarantine_reason", "raw_record", "suppression_sources"
            ),
        )
        yield (
            f"quarantined/{campaign}.parquet",
            leads.filter(pl.col("outcome") == "quarantined").select(_QUARANTINED_COLUMNS),
        )
    yield "analytics/numbers.parquet", number_analytics
    yield "crm/contacts.parquet", contacts
    yield "suppression/suppression_list.parquet", suppression_list
    yield NUMBER_OUTCOMES, number_outcomes
    for name, frame in (analytics or {}).items():
        yield analytics_path(name), frame


class PublishedRun(NamedTuple):
    """Where a run was published, which links moved to it, and where analyst work found in the warehouse went."""

    run_dir: Path
    links_moved: list[str]
    analyst_work_kept: Path | None


def publish_run(
    outputs: Mapping[str, Frame] | Iterable[tuple[str, Frame]],
    *,
    published_dir: Path,
    warehouse: Path,
    run_id: str,
    run_date: date,
    run_created_at: datetime,
    manifest: Manifest,
    certificates: Mapping[str, Certificate] | None = None,
    lists: Mapping[str, Sequence[str]] | None = None,
    data_docs: Path | None = None,
    sign: Callable[[Path], Path] | None = None,
) -> PublishedRun:
    """Write `outputs` (by path; lazy frames collected one at a time, as each is written), each campaign's scrub
    certificate and `manifest.json` to a new run directory, build the
    warehouse over it, then point `<run date>` and `latest` at it where the run they point at was created
    before `run_created_at`, and swap the warehouse in with `latest`. `certificates` are by campaign, completed
    here with their list's checksums; `lists` name each campaign's list files (`dialler_files.list_files`; default
    its Parquet and generic CSV), each of which gets a `<file>.sha256` beside it; `data_docs`, the run's Great
    Expectations site, is copied in as `data_docs/`; `sign`
    (`signing.sign_file` with the key), when given, signs each certificate's JSON and the manifest. A failure
    before the links move removes the run directory.
    """
    certificates = certificates or {}
    lists = {campaign: (lists or {}).get(campaign, list_files(campaign, [GENERIC])) for campaign in certificates}
    run_dir = _commit_run_dir(
        outputs,
        published_dir=published_dir,
        run_id=run_id,
        manifest=manifest.model_copy(update={CREATED_AT: run_created_at}),
        certificates=certificates,
        lists=lists,
        data_docs=data_docs,
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
        if (run / MANIFEST).is_file()
        and run.resolve() != latest
        and Manifest.read(run / MANIFEST).started_at < started_before
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


def _commit_run_dir(
    outputs: Mapping[str, Frame] | Iterable[tuple[str, Frame]],
    *,
    published_dir: Path,
    run_id: str,
    manifest: Manifest,
    certificates: Mapping[str, Certificate],
    lists: Mapping[str, Sequence[str]],
    data_docs: Path | None,
    sign: Callable[[Path], Path] | None,
) -> Path:
    """Write the run in its staging folder (signed when `sign` is given) and rename it into `runs/` whole."""
    staging = published_dir / STAGING / run_id
    final = published_dir / RUNS / run_id
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging.mkdir(parents=True)
        files = {
            path: ListedFile(rows=_write(frame, staging / path), sha256=file_sha256(staging / path))
            for path, frame in (outputs.items() if isinstance(outputs, Mapping) else outputs)
        }
        if data_docs is not None and data_docs.is_dir():
            shutil.copytree(data_docs, staging / DATA_DOCS)
        for path in (path for paths in lists.values() for path in paths):
            _write_checksum(staging / path, files[path].sha256)
        written = [
            path
            for campaign, certificate in certificates.items()
            for path in _write_certificate(certificate, staging, campaign=campaign, files=files, listed=lists[campaign])
        ]
        certified = {path: file_sha256(staging / path) for path in written}
        completed = manifest.model_copy(update={"outputs": files, "certificates": certified})
        (staging / MANIFEST).write_text(completed.to_json())
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
        recorded = Manifest.read(current).run_created_at
        if recorded is not None and recorded >= created_at:
            return False
    _point(link, at=run_dir.relative_to(link.parent))
    return True


def _write_checksum(path: Path, sha256: str) -> None:
    """`<file>.sha256` beside a list, in the format `sha256sum --check` reads (run in the file's folder)."""
    path.with_name(f"{path.name}{CHECKSUM_SUFFIX}").write_text(f"{sha256}  {path.name}\n")


def _write_certificate(
    certificate: Certificate,
    staging: Path,
    *,
    campaign: str,
    files: Mapping[str, ListedFile],
    listed: Sequence[str],
) -> list[str]:
    """Write `clean/<campaign>.certificate.json` and `.txt`, naming the list's files (`listed`) and SHA-256, and
    the list's companion `clean/<campaign>.validity.json`: what a dialler needs to know when to stop using it."""
    listed = {path: files[path] for path in listed}
    certified = certificate.model_copy(update={"listed": listed})
    paths = [
        f"clean/{campaign}{CERTIFICATE_SUFFIX}.json",
        f"clean/{campaign}{CERTIFICATE_SUFFIX}.txt",
        f"clean/{campaign}{VALIDITY_SUFFIX}",
    ]
    companion = Validity(
        run_id=certified.run_id,
        campaign=campaign,
        valid_through=certified.valid_through,
        counts=certified.counts,
        listed=listed,
        certificate=paths[0],
    )
    (staging / paths[0]).write_text(certified.to_json())
    (staging / paths[1]).write_text(certificate_text(certified))
    (staging / paths[2]).write_text(companion.to_json())
    return paths


def _write(frame: Frame, path: Path) -> int:
    """Write `frame` (collected first when lazy) as CSV or Parquet, by `path`'s suffix; its rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    if path.suffix == ".csv":
        # Instants are UTC, written as ISO 8601 with a Z and only the fractions of a second they have.
        spreadsheet_safe(frame).write_csv(path, datetime_format="%Y-%m-%dT%H:%M:%S%.fZ")
    else:
        write_parquet(frame, path)
    return frame.height


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
