"""What the service answers from: the published run `published/latest.json` names, and the inputs it was scrubbed
against, loaded once per run.

The registries read row by row, the CRM and the call log are read with the nightly run's own readers and
normalised by the same engine, but only if every file is the one the run's manifest recorded (SHA-256): a
registry copied in since the run is tonight's, not the run's, and answering from it would disagree with the
published lists. What was read is kept under `serving/<run id>/`, so a restart (or a new download arriving)
later in the day answers from exactly the run's inputs. A stored registry (the US snapshot) is memory-mapped
from a sorted int64 array made once per snapshot (`serving/snapshots/<snapshot>.npy`), never read per request.

Anything missing, unreadable, changed or past `valid_through` makes the run unavailable, with the reason: the
service then fails closed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from pipelines.config import Registry, ScrublineConfig, load_config, matching_files
from pipelines.errors import ScrublineError
from pipelines.inputs.calls import no_call_records, normalise_call_records, read_call_records
from pipelines.inputs.crm import normalise_crm, read_crm
from pipelines.inputs.records import file_sha256, lineage_path
from pipelines.publishing.latest import read_latest, resolve_latest
from pipelines.registries.entries import normalise_registries, read_registries
from pipelines.serving.journal_file import JOURNAL_PATH, LIVE_OPT_OUTS
from pipelines.storage import LocalStorage
from pipelines.suppression.sellers import scope_aliases

SERVING_DIR = "serving"
_CACHED = ("registry_entries", "crm_contacts", "call_records")


class UnavailableError(ScrublineError):
    """The service has nothing it may answer from; the message says why (every check then fails closed)."""


@dataclass(frozen=True)
class StoredSnapshot:
    """A stored registry's numbers as a sorted int64 array (memory-mapped), with the lineage its rows carry."""

    registry: str
    source_file: str
    source_sha256: str
    downloaded_on: date | None
    numbers: np.ndarray


@dataclass(frozen=True)
class ServedRun:
    """One published run and its inputs, as loaded: everything a decision reads except the live opt-outs."""

    run_id: str
    run_dir: Path
    manifest: dict
    run_started_at: datetime
    valid_through: datetime | None
    config: ScrublineConfig
    campaigns: dict[str, str]
    registry_entries: pl.DataFrame
    crm_contacts: pl.DataFrame
    call_records: pl.DataFrame
    stored: list[StoredSnapshot] = field(default_factory=list)

    @property
    def file_registries(self) -> list[Registry]:
        """The registries read from files (not stored, not the journal), as the run configured them."""
        return [registry for registry in self.config.registries if not registry.is_stored]

    def campaign_valid_through(self, campaign: str) -> datetime | None:
        """The instant the campaign's published list stops being usable (its `.validity.json`), else the run's."""
        validity = self.run_dir / "clean" / f"{campaign}.validity.json"
        if validity.is_file():
            recorded = json.loads(validity.read_text(encoding="utf-8")).get("valid_through")
            return None if recorded is None else datetime.fromisoformat(recorded)
        return self.valid_through


def latest_run_dir(data_dir: Path) -> Path:
    """The run `published/latest.json` names; `UnavailableError` naming the withdrawal, or the absence of any run."""
    published = data_dir / "published"
    storage = LocalStorage(published)
    try:
        current = read_latest(storage)
        resolve_latest(storage)  # the manifest is there, with the SHA-256 the pointer records
    except (OSError, ValueError, ScrublineError) as error:
        raise UnavailableError(f"the latest run under {published} cannot be read: {error}") from error
    if current is None:
        raise UnavailableError(f"no published run under {published}: run `scrubline run` first; nothing is callable")
    withdrawn = current.latest.withdrawn
    if withdrawn is not None:
        valid_through = None if withdrawn.valid_through is None else withdrawn.valid_through.isoformat()
        raise UnavailableError(
            f"the latest list (run {current.latest.run_id}) was withdrawn: past its valid_through "
            f"{valid_through}; nothing is callable until a new run publishes"
        )
    return published / Path(current.latest.manifest).parent


def load_served_run(data_dir: Path, run_dir: Path) -> ServedRun:
    """Load `run_dir` (a published run) and its inputs; `UnavailableError` with the reason when they cannot be used."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        config = load_config(data_dir)
    except (OSError, ValueError, ScrublineError) as error:
        raise UnavailableError(f"published run {run_dir.name} cannot be read: {error}") from error
    config = config.model_copy(
        update={"registries": [registry for registry in config.registries if registry.name != LIVE_OPT_OUTS]}
    )
    run_id = manifest["run_id"]
    valid_through = manifest.get("valid_through")
    cache = data_dir / SERVING_DIR / run_id
    frames = _cached_inputs(cache) or _read_inputs(data_dir, config, manifest, cache)
    campaigns = [row["campaign"] for row in manifest.get("reconciliation", [])]
    aliases = scope_aliases(config) or {}
    sellers = {campaign: config.seller_of(campaign) or aliases.get(campaign, campaign) for campaign in campaigns}
    if config.sellers is not None:
        sellers |= {campaign: seller for seller, listed in config.sellers.items() for campaign in listed}
    return ServedRun(
        run_id=run_id,
        run_dir=run_dir,
        manifest=manifest,
        run_started_at=datetime.fromisoformat(manifest["run_started_at"]),
        valid_through=None if valid_through is None else datetime.fromisoformat(valid_through),
        config=config,
        campaigns=sellers,
        stored=_stored_snapshots(data_dir, config, manifest),
        **frames,
    )


def _read_inputs(data_dir: Path, config: ScrublineConfig, manifest: dict, cache: Path) -> dict[str, pl.DataFrame]:
    """The run's registries (read row by row), CRM and call log, read and normalised as the run did them, after
    checking each file is the one the manifest recorded; kept in `cache` for the rest of the run's life."""
    registries = [registry for registry in config.registries if not registry.is_stored]
    # The call log is not a run input the manifest records (it feeds the call limits): it is read as it is now.
    _check_unchanged(data_dir, [registry.path for registry in registries] + [config.crm.path], manifest)
    try:
        entries = normalise_registries(read_registries(registries, data_dir=data_dir), registries)
        crm = normalise_crm(read_crm(config.crm, data_dir=data_dir), config.crm, default_region=config.default_region)
        records = config.calls.records
        calls = no_call_records() if records is None else read_call_records(records, data_dir=data_dir)
        calls = normalise_call_records(calls, default_region=config.default_region)
    except (OSError, ScrublineError) as error:
        raise UnavailableError(f"the inputs of run {manifest['run_id']} cannot be read: {error}") from error
    frames = {"registry_entries": entries, "crm_contacts": crm, "call_records": calls}
    cache.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        partial = cache / f".{name}.{os.getpid()}.parquet"
        frame.write_parquet(partial)
        os.replace(partial, cache / f"{name}.parquet")
    return frames


def _cached_inputs(cache: Path) -> dict[str, pl.DataFrame] | None:
    paths = [cache / f"{name}.parquet" for name in _CACHED]
    if not all(path.is_file() for path in paths):
        return None
    return {name: pl.read_parquet(path) for name, path in zip(_CACHED, paths, strict=True)}


def _check_unchanged(data_dir: Path, patterns: list[str], manifest: dict) -> None:
    """Every file the patterns match is an input the run read, with the SHA-256 it recorded."""
    recorded = manifest.get("inputs", {})
    for pattern in patterns:
        for path in matching_files(data_dir, pattern):
            name = lineage_path(path, data_dir)
            if name == JOURNAL_PATH:
                continue
            if name not in recorded:
                raise UnavailableError(
                    f"{name} arrived after run {manifest['run_id']} published; the service answers only from the "
                    "inputs of a published run: answers resume when the next run publishes"
                )
            if file_sha256(path) != recorded[name]:
                raise UnavailableError(
                    f"{name} changed after run {manifest['run_id']} published; the service answers only from the "
                    "inputs of a published run: answers resume when the next run publishes"
                )


def _stored_snapshots(data_dir: Path, config: ScrublineConfig, manifest: dict) -> list[StoredSnapshot]:
    """Each stored registry's snapshot the run used, as a memory-mapped sorted array."""
    inputs = manifest.get("inputs", {})
    snapshots = []
    for registry in config.registries:
        if not registry.is_stored:
            continue
        folder = f"registries/{registry.name}/"
        used = [name for name in inputs if name.startswith(folder) and name.endswith(".parquet")]
        if len(used) != 1:
            raise UnavailableError(f"run {manifest['run_id']} names no single snapshot of registry '{registry.name}'")
        (name,) = used
        snapshots.append(
            StoredSnapshot(
                registry=registry.name,
                source_file=name,
                source_sha256=inputs[name],
                downloaded_on=registry.downloaded_on,
                numbers=_mapped_numbers(data_dir, name, inputs[name]),
            )
        )
    return snapshots


def _mapped_numbers(data_dir: Path, snapshot: str, sha256: str) -> np.ndarray:
    """The snapshot's numbers as a sorted int64 array, memory-mapped from `serving/snapshots/<sha256>.npy` (made
    once per snapshot, from the Parquet after checking its SHA-256)."""
    array = data_dir / SERVING_DIR / "snapshots" / f"{sha256}.npy"
    if not array.is_file():
        parquet = data_dir / snapshot
        if not parquet.is_file() or file_sha256(parquet) != sha256:
            raise UnavailableError(f"snapshot {snapshot} is missing or changed since its run published")
        array.parent.mkdir(parents=True, exist_ok=True)
        partial = array.with_name(f".{array.name}.{os.getpid()}.partial.npy")
        _write_array(parquet, partial)
        os.replace(partial, array)
    return np.load(array, mmap_mode="r")


def _write_array(parquet: Path, path: Path) -> None:
    """The snapshot's `e164_int` column as a sorted `.npy` file, written one row group at a time into the mapped
    file, so memory stays near one row group however large the registry (250 million numbers: 2 GB on disk)."""
    source = pq.ParquetFile(parquet)
    numbers = np.lib.format.open_memmap(path, mode="w+", dtype=np.int64, shape=(source.metadata.num_rows,))
    position, previous, is_sorted = 0, None, True
    for group in range(source.num_row_groups):
        chunk = source.read_row_group(group, columns=["e164_int"]).column(0).to_numpy().astype(np.int64, copy=False)
        if chunk.size:
            is_sorted &= bool(np.all(chunk[1:] >= chunk[:-1])) and (previous is None or int(chunk[0]) >= previous)
            previous = int(chunk[-1])
        numbers[position : position + chunk.size] = chunk
        position += chunk.size
    if not is_sorted:
        numbers.sort()
    numbers.flush()
    del numbers
