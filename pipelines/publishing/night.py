"""A night's publish in one call: the run folder's files, its manifest and certificates, the archive of registry
copies, retention, the ledger, then the atomic publish (`publish.publish_run`) and the warehouse.

The `published_run` asset resolves its inputs and the run's clock and calls `publish_night`; everything it
decides is here, where it is tested without Dagster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import chain
from pathlib import Path

import polars as pl

from pipelines.config import ScrublineConfig
from pipelines.operations.run_folders import WORK, prune_run_folders, work_dir
from pipelines.parquet_files import scanned
from pipelines.publishing.certificate import scrub_certificates
from pipelines.publishing.dialler_files import list_files
from pipelines.publishing.expiry import campaigns_valid_through, list_valid_through, registries_valid_through
from pipelines.publishing.history import number_outcomes
from pipelines.publishing.layout import MANIFEST, RUNS
from pipelines.publishing.publish import Frame, PublishedRun, archive_old_runs, publish_run, run_outputs
from pipelines.publishing.registry_archive import archive_registry_copies
from pipelines.publishing.signing import private_key, public_key_pem, signature
from pipelines.records import ListedFile, Manifest
from pipelines.registries.store import snapshot_lineage
from pipelines.registries.unusable_entries import unusable_report
from pipelines.registries.versions import LEDGER, keep_ledger, ledger_with, registry_ledger, registry_versions
from pipelines.suppression.invariants import reconciliation
from pipelines.suppression.sellers import campaign_sellers
from pipelines.validation.data_docs import DATA_DOCS


@dataclass(frozen=True)
class NightFrames:
    """The frames a run folder is made of, as the assets of the same names hand them over.

    The large ones may be lazy (scans of the run's intermediates), or their Parquet files: each is read only when the
    file cut from it is written, or only the columns a count or a certificate needs, so the night's rows are never all
    held; a frame published whole is published as its file, neither read nor encoded again."""

    scrubbed_leads: Frame
    dialler_leads: pl.DataFrame
    number_analytics: Frame
    contacts: Frame
    suppression_list: Frame
    established_relationships: pl.DataFrame
    unusable_entries: pl.DataFrame
    registry_entries: pl.DataFrame
    registry_snapshots: pl.DataFrame
    calling_windows: Frame
    # cli_days, cli_health, pool_capacity, dialled_numbers, call_limit_breaches: published with a call log only.
    call_analytics: Mapping[str, Frame]


@dataclass(frozen=True)
class Night:
    """Which run publishes, on what clock, and what its checks said."""

    run_id: str
    started_at: datetime
    created_at: datetime
    clock: str
    checks: Sequence[Mapping[str, object]]


@dataclass(frozen=True)
class PublishedNight:
    """What a night published: where, the files and their rows, each campaign's counts, what retention pruned."""

    published: PublishedRun
    files: dict[str, ListedFile]
    reconciliation: pl.DataFrame
    pruned: dict[str, list[str]]


def publish_night(
    frames: NightFrames,
    *,
    night: Night,
    config: ScrublineConfig,
    ages: pl.DataFrame,
    data_dir: Path,
    home: Path,
    published_dir: Path,
    warehouse: Path,
) -> PublishedNight:
    """Publish the night whole. `ages` (`freshness.registry_ages`) are each dated registry's age on the run's
    date; `data_dir` holds the inputs, the signing key and the archive of registry copies; `home` (the data
    directory, or the client's folder in a data directory of clients) the ledger and the run folders retention
    prunes."""
    config.check_dialler_file_campaigns(frames.dialler_leads.get_column("campaign").unique().to_list())
    scrubbed = scanned(frames.scrubbed_leads)
    outputs = run_outputs(
        scrubbed,
        number_analytics=frames.number_analytics,
        contacts=frames.contacts,
        suppression_list=frames.suppression_list,
        number_outcomes=number_outcomes(
            scrubbed,
            run_id=night.run_id,
            run_started_at=night.started_at,
            run_created_at=night.created_at,
        ),
        analytics={
            "calling_windows": frames.calling_windows,
            **(frames.call_analytics if config.calls.is_configured else {}),
        },
        profiles=config.dialler_files.profiles_for,
    )
    inputs_until = [
        registries_valid_through(ages),
        list_valid_through(night.started_at.date(), max_list_age_days=config.max_list_age_days),
    ]
    validity = campaigns_valid_through(
        scrubbed.select("campaign", "phone_e164", "outcome", "exemption_reason"),
        frames.established_relationships,
        registries_until=min(until for until in inputs_until if until),
    )
    counts = reconciliation(frames.dialler_leads, scrubbed.select("campaign", "outcome").collect())
    versions = registry_versions(frames.registry_entries, frames.registry_snapshots)
    ledger = ledger_with(
        registry_ledger(published_dir / RUNS, kept=home / LEDGER),
        versions,
        run_id=night.run_id,
        run_started_at=night.started_at,
    )
    key = private_key(config.signing, data_dir=data_dir) if config.signing else None
    archived = (
        archive_registry_copies(
            ((file["file"], file["sha256"]) for files in versions.get_column("files") for file in files),
            data_dir=data_dir,
            max_bytes=config.registry_archive.max_bytes,
        )
        if config.registry_archive.enabled
        else None
    )
    # Before publishing, so that the new warehouse's number_history reads the runs archived now.
    pruned = apply_retention(config, home=home, published_dir=published_dir, night=night)
    published = publish_run(
        chain(outputs, [(LEDGER, ledger)]),
        published_dir=published_dir,
        warehouse=warehouse,
        run_id=night.run_id,
        run_date=night.started_at.date(),
        run_created_at=night.created_at,
        manifest=Manifest(
            run_id=night.run_id,
            run_started_at=night.started_at,
            valid_through=validity.get_column("valid_through").min(),
            clock=night.clock,
            published_at=datetime.now(UTC),
            inputs=dict(_lineage(frames).unique().sort("source_file").iter_rows()),
            reconciliation=counts.to_dicts(),
            registries=versions.to_dicts(),
        ),
        certificates=scrub_certificates(
            counts,
            versions,
            registries=config.registries,
            retired=config.retired_registries,
            ages=ages,
            validity=validity,
            public_key=public_key_pem(key) if key else None,
            checks=night.checks,
            scrubbed=scrubbed.select("campaign", "outcome", "reason", "suppression_sources"),
            sellers=campaign_sellers(config, frames.dialler_leads.get_column("campaign")),
            unusable=unusable_report(frames.unusable_entries),
            crm=config.crm,
            calling_rules=config.calling_time.rules,
            archived=archived,
            run_id=night.run_id,
            run_started_at=night.started_at,
        ),
        lists={
            campaign: list_files(campaign, config.dialler_files.profiles_for(campaign))
            for campaign in counts.get_column("campaign")
        },
        data_docs=work_dir(home, night.run_id) / DATA_DOCS,
        sign=partial(signature, key=key) if key else None,
    )
    keep_ledger(ledger, home / LEDGER)
    return PublishedNight(published, Manifest.read(published.run_dir / MANIFEST).outputs, counts, pruned)


def apply_retention(config: ScrublineConfig, *, home: Path, published_dir: Path, night: Night) -> dict[str, list[str]]:
    """Prune what `retention` no longer keeps, on the run's clock; the folders pruned and runs archived."""
    retention, now = config.retention, night.started_at
    pruned = {
        "pruned_work_dirs": prune_run_folders(
            home / WORK, keep=night.run_id, written_before=now - timedelta(days=retention.failed_work_days)
        ),
        "pruned_quarantine": prune_run_folders(
            home / "quarantine", keep=night.run_id, written_before=now - timedelta(days=retention.quarantine_days)
        ),
    }
    archived = (
        archive_old_runs(published_dir, started_before=now - timedelta(days=retention.run_days))
        if retention.run_days is not None
        else []
    )
    return {**{key: [folder.name for folder in folders] for key, folders in pruned.items()}, "archived_runs": archived}


def _lineage(frames: NightFrames) -> pl.DataFrame:
    """Every input file the night read, with its SHA-256: dialler lists, the CRM, registries, stored snapshots."""
    return pl.concat(
        [
            *(
                scanned(frame).select("source_file", "source_sha256").unique().collect()
                for frame in (frames.scrubbed_leads, frames.contacts, frames.registry_entries)
            ),
            snapshot_lineage(frames.registry_snapshots),
        ]
    )
