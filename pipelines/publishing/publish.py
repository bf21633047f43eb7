"""Publishing a run's outputs atomically, by the contract of `latest` (no rename); the warehouse over them is built
by `warehouse`.

Every file of the run is written under `published/runs/<run id>/`, its manifest last and create-only; the new
warehouse is built over it; then `latest.json` is swapped to it by compare-and-swap, only if it names a run
created earlier, and on a local folder the `latest` symlink follows it; `published/<run date>` (a symlink, local
folders only) moves by the same rule; last the warehouse is swapped in. `latest.json` is the source of truth: a
dialler or reader following it sees the previous complete run or the new one, never a half. A run that fails
before `latest.json` moves leaves nothing any reader follows, and removes its folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pyarrow.parquet as pq

from pipelines.calling.deferral import TIMING_COLUMNS
from pipelines.parquet_files import FrameFile, scanned, write_parquet
from pipelines.publishing.certificate import certificate_text
from pipelines.publishing.dialler_files import GENERIC, dialler_files, list_files
from pipelines.publishing.expiry import list_status
from pipelines.publishing.latest import (
    AlreadyPublishedError,
    adopt_latest,
    already_published,
    commit_manifest,
    point_latest,
    read_latest,
    run_path,
)
from pipelines.publishing.layout import ARCHIVE, LATEST, MANIFEST, NUMBER_OUTCOMES, RUNS, analytics_path
from pipelines.publishing.links import EXPIRED, point_link, show_latest
from pipelines.publishing.signing import SIGNATURE_SUFFIX
from pipelines.publishing.warehouse import build_warehouse, install_warehouse
from pipelines.records import Certificate, Latest, ListedFile, Manifest, Validity, Withdrawal
from pipelines.storage import LocalStorage, Storage
from pipelines.validation.data_docs import DATA_DOCS

CERTIFICATE_SUFFIX = ".certificate"
VALIDITY_SUFFIX = ".validity.json"
CHECKSUM_SUFFIX = ".sha256"
# What is left of a run past `retention.run_days`: manifest, certificates, number outcomes and Data Docs.
_ARCHIVED = (
    "manifest.json*", "history/*", "data_docs/*", f"clean/*{CERTIFICATE_SUFFIX}.*", f"clean/*{VALIDITY_SUFFIX}*",
)  # fmt: skip
# Manifest key: when the run was created (real time, not its `as_of` clock); links move only to later runs.
CREATED_AT = "run_created_at"
_FORMULA_START = r"^[=+\-@\t\r]"
# What a quarantined record publishes: its lineage and reason, not its raw text (kept under quarantine/).
_QUARANTINED_COLUMNS = (
    "campaign", "seller", "lead_id", "source_file", "source_row", "source_sha256", "outcome", "reason",
)  # fmt: skip


# A file's rows: a frame, a lazy frame collected only when the file is written, or a Parquet file published as it is.
Frame = pl.DataFrame | pl.LazyFrame | FrameFile


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
    sign: Callable[[bytes], bytes] | None = None,
) -> PublishedRun:
    """Write `outputs` (by path; lazy frames collected one at a time, as each is written), each campaign's scrub
    certificate and, last, `manifest.json` under `runs/<run id>/`, build
    the warehouse over it, then point `latest.json` (with its `latest` symlink) and `<run date>` at it where the
    run they name was created before `run_created_at`, and swap the warehouse in with `latest`. `certificates` are
    by campaign, completed here with their list's checksums; `lists` name each campaign's list files
    (`dialler_files.list_files`; default its Parquet and generic CSV), each of which gets a `<file>.sha256` beside
    it; `data_docs`, the run's Great Expectations site, is copied in as `data_docs/`; `sign` (`signing.signature`
    with the key), when given, signs each certificate's JSON and the manifest. A failure before `latest.json`
    moves removes the run directory; losing the race for it to another publisher raises `PublishRaceError`.
    """
    certificates = certificates or {}
    lists = {campaign: (lists or {}).get(campaign, list_files(campaign, [GENERIC])) for campaign in certificates}
    storage = LocalStorage(published_dir)
    run_dir = published_dir / RUNS / run_id
    try:
        manifest_sha256 = write_run(
            outputs,
            storage=storage,
            manifest=manifest.model_copy(update={CREATED_AT: run_created_at}),
            certificates=certificates,
            lists=lists,
            data_docs=data_docs,
            sign=sign,
        )
        building = build_warehouse(warehouse, run_dir=run_dir, status=list_status(run_dir))
    except AlreadyPublishedError:
        raise  # the folder is that published run's, not this attempt's
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    try:
        is_latest = point_latest(storage, run_id=run_id, run_created_at=run_created_at, manifest_sha256=manifest_sha256)
    except BaseException:
        building.unlink()
        raise
    dated = published_dir / run_date.isoformat()
    moved = [dated.name] if _point_if_newer(dated, run_dir=run_dir, created_at=run_created_at) else []
    if not is_latest:
        building.unlink()
        return PublishedRun(run_dir, moved, None)
    show_latest(published_dir, read_latest(storage).latest)
    return PublishedRun(run_dir, [*moved, LATEST], install_warehouse(building, warehouse, replaced_by=run_id))


def clear_unfinished_publishing(published_dir: Path, *, warehouse: Path) -> list[Path]:
    """Remove what dead runs left half-done — run folders without a manifest, run folders whose manifest is down but
    whose pointer swap never happened, a half-built warehouse, half-made links and pointer swaps — and make the
    local `latest` link and `EXPIRED` marker say what `latest.json` says (a run killed between the two leaves them
    behind). A folder published before `latest.json` existed gets one, adopted from its `latest` link.

    Call it only under the data directory's lock, when no other run can be publishing.
    """
    storage = LocalStorage(published_dir)
    current = read_latest(storage)
    if current is None and (linked := _linked_latest(published_dir)) is not None:
        adopt_latest(storage, linked)
        current = read_latest(storage)
    leftovers = [
        *(run for run in (published_dir / RUNS).glob("*") if run.is_dir() and not (run / MANIFEST).is_file()),
        *([] if current is None else _never_pointed_at(published_dir, current.latest)),
        *published_dir.glob(".*.swap"),
        *published_dir.glob(".*.partial"),
        *warehouse.parent.glob(f".{warehouse.name}.building*"),
    ]
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    if current is not None:
        show_latest(published_dir, current.latest)
    return leftovers


def _never_pointed_at(published_dir: Path, latest: Latest) -> list[Path]:
    """Complete run folders created after the run `latest.json` names: the pointer moves only forward, so such a
    run died between its manifest and its swap. No dialler ever saw it, and `number_history` must not list it."""
    if latest.run_created_at is None:
        return []
    return [
        run
        for run in sorted((published_dir / RUNS).glob("*"))
        if (run / MANIFEST).is_file()
        and (created_at := Manifest.read(run / MANIFEST).run_created_at) is not None
        and created_at > latest.run_created_at
    ]


def archive_old_runs(published_dir: Path, *, started_before: datetime) -> list[str]:
    """Archive every run started before `started_before` except the one `latest.json` names: its manifest,
    certificates and number outcomes move to `archive/<run id>/` (where `number_history` still reads them), the
    rest of its folder is removed, and a date link to it goes. Returns the runs archived."""
    current = read_latest(LocalStorage(published_dir))
    latest = None if current is None else current.latest.run_id
    old = [
        run
        for run in sorted((published_dir / RUNS).glob("*"))
        if (run / MANIFEST).is_file()
        and run.name != latest
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


def write_run(
    outputs: Mapping[str, Frame] | Iterable[tuple[str, Frame]],
    *,
    storage: Storage,
    manifest: Manifest,
    certificates: Mapping[str, Certificate],
    lists: Mapping[str, Sequence[str]],
    data_docs: Path | None,
    sign: Callable[[bytes], bytes] | None,
) -> str:
    """Write every file of the run under `runs/<run id>/` (signed when `sign` is given), then its manifest,
    create-only; returns the manifest's SHA-256."""
    run_id = manifest.run_id
    if storage.read(run_path(run_id, MANIFEST)) is not None:
        raise already_published(storage, run_id)
    files: dict[str, ListedFile] = {}
    for relative_path, frame in outputs.items() if isinstance(outputs, Mapping) else outputs:
        data, rows = _file_contents(frame, relative_path)
        storage.put(run_path(run_id, relative_path), data)
        files[relative_path] = ListedFile(rows=rows, sha256=_sha256(data))
    if data_docs is not None and data_docs.is_dir():
        for path, data in _folder_files(data_docs):
            storage.put(run_path(run_id, f"{DATA_DOCS}/{path}"), data)
    for path in (path for paths in lists.values() for path in paths):
        storage.put(run_path(run_id, _checksum_path(path)), f"{files[path].sha256}  {Path(path).name}\n".encode())
    written = {
        path: data
        for campaign, certificate in certificates.items()
        for path, data in _certificate_files(
            certificate, campaign=campaign, files=files, listed=lists[campaign]
        ).items()
    }
    for path, data in written.items():
        storage.put(run_path(run_id, path), data)
    completed = manifest.model_copy(
        update={"outputs": files, "certificates": {path: _sha256(data) for path, data in written.items()}}
    )
    if sign is not None:
        signed = {path: data for path, data in written.items() if path.endswith(f"{CERTIFICATE_SUFFIX}.json")}
        for path, data in {**signed, MANIFEST: completed.to_json().encode()}.items():
            storage.put(run_path(run_id, f"{path}{SIGNATURE_SUFFIX}"), sign(data))
    return commit_manifest(storage, completed)


def _linked_latest(published_dir: Path) -> Latest | None:
    """The pointer that a `latest` link, or the `EXPIRED` marker left when it was withdrawn, stood for before
    `latest.json` existed; None without either. The run is withdrawn when the marker names it."""
    marker = published_dir / EXPIRED
    withdrawn = Withdrawal.parse(marker.read_bytes()) if marker.is_file() else None
    link = published_dir / LATEST
    if (link / MANIFEST).is_file():
        run_id = link.resolve().name
    elif withdrawn is not None:
        run_id = Path(withdrawn.run_dir).name
    else:
        return None
    manifest = published_dir / run_path(run_id, MANIFEST)
    if not manifest.is_file():
        return None
    return Latest(
        run_id=run_id,
        manifest=run_path(run_id, MANIFEST),
        manifest_sha256=_sha256(manifest.read_bytes()),
        run_created_at=Manifest.read(manifest).run_created_at,
        withdrawn=withdrawn if withdrawn is not None and withdrawn.run_id == run_id else None,
    )


def _point_if_newer(link: Path, *, run_dir: Path, created_at: datetime) -> bool:
    """Point `link` at `run_dir` unless it points at a run created at or after `created_at`; whether it moved."""
    current = link / MANIFEST
    if current.is_file():
        recorded = Manifest.read(current).run_created_at
        if recorded is not None and recorded >= created_at:
            return False
    point_link(link, at=run_dir.relative_to(link.parent))
    return True


def _checksum_path(path: str) -> str:
    """`<file>.sha256` beside a list, in the format `sha256sum --check` reads (run in the file's folder)."""
    return f"{path}{CHECKSUM_SUFFIX}"


def _certificate_files(
    certificate: Certificate,
    *,
    campaign: str,
    files: Mapping[str, ListedFile],
    listed: Sequence[str],
) -> dict[str, bytes]:
    """`clean/<campaign>.certificate.json` and `.txt`, naming the list's files (`listed`) and SHA-256, and the
    list's companion `clean/<campaign>.validity.json`: what a dialler needs to know when to stop using it."""
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
    texts = [certified.to_json(), certificate_text(certified), companion.to_json()]
    return {path: text.encode() for path, text in zip(paths, texts, strict=True)}


def _folder_files(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Every file below `folder`, by its `/`-separated path relative to it, with its bytes."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path.relative_to(folder).as_posix(), path.read_bytes()


def _file_contents(frame: Frame, path: str) -> tuple[bytes, int]:
    """The bytes of the file `path` names and its rows: a Parquet file already written is published as it is (its
    frame was written by the same writer), any other frame collected and encoded."""
    if isinstance(frame, FrameFile) and path.endswith(".parquet"):
        return frame.path.read_bytes(), pq.read_metadata(frame.path).num_rows
    collected = scanned(frame).collect() if not isinstance(frame, pl.DataFrame) else frame
    return _encoded(collected, path), collected.height


def _encoded(frame: pl.DataFrame, path: str) -> bytes:
    """`frame` as the file `path` names: CSV for `.csv`, else Parquet."""
    buffer = io.BytesIO()
    if path.endswith(".csv"):
        # Instants are UTC, written as ISO 8601 with a Z and only the fractions of a second they have.
        spreadsheet_safe(frame).write_csv(buffer, datetime_format="%Y-%m-%dT%H:%M:%S%.fZ")
    else:
        write_parquet(frame, buffer)
    return buffer.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def write_quarantine(records: pl.DataFrame, *, quarantine_dir: Path, name: str) -> Path | None:
    """Write a run's unreadable records to `<quarantine_dir>/<name>.parquet`; None when there are none."""
    if records.height == 0:
        return None
    path = quarantine_dir / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_encoded(records, path.name))
    return path
