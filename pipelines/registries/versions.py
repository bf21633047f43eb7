"""Registry versions, the ledger of accepted versions, and the guards on it: a copy with far fewer numbers
than the last accepted one is broken, and a registry that disappears from the config is lost.

A registry's version is the SHA-256 of its files' sorted SHA-256s (renaming a file does not change
it); a stored registry's change lists chain onto it (`changed_version`). Each published run records
every registry's version and count of valid numbers (blocks, for a wildcard list) in its manifest,
and publishes the ledger of every version any run accepted (`LEDGER`), inside the atomic publish.
The shrink guard compares with the newest accepted count in the ledger, so deleting or renaming a
run folder loses nothing; a registry renamed in the config carries its baseline over through
`retired_registries[].replaced_by`. An operator accepts a real drop with `accept_shrink: <version>`,
which names one version and so cannot outlive the next download.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import polars as pl

from pipelines.config import Registry, RetiredRegistry
from pipelines.records import Manifest

# Within a published run, and kept at the same path under the data directory: every registry version any
# published run accepted, up to and including the newest.
LEDGER = "registries/ledger.parquet"
LEDGER_SCHEMA = {
    "run_id": pl.String,
    "run_started_at": pl.Datetime("us", "UTC"),
    "registry": pl.String,
    "version": pl.String,
    "count_numbers": pl.Int64,
}
MANIFEST_FILE = "manifest.json"
# Runs in the order they started; two runs of one instant (replays) in the order of their ids.
LEDGER_ORDER = ("run_started_at", "run_id", "registry")
_SHRINKAGE_COLUMNS = (
    "registry", "accepted_run_id", "count_accepted", "count_numbers", "shrink", "max_shrink", "version",
    "is_acknowledged", "is_within_limit",
)  # fmt: skip


def registry_versions(entries: pl.DataFrame, snapshots: pl.DataFrame) -> pl.DataFrame:
    """One row per registry: its version, files with their SHA-256, and how many valid numbers or blocks it holds.

    Registries read row by row are versioned from their `entries`; stored ones by their `snapshots`.
    """
    is_usable = pl.col("phone_valid").fill_null(False) | pl.col("block_prefix").is_not_null()
    versions = (
        entries.group_by("registry", maintain_order=True)
        .agg(
            count_numbers=pl.coalesce("phone_e164", "block_prefix").filter(is_usable).n_unique().cast(pl.Int64),
            files=pl.struct(file="source_file", sha256="source_sha256").unique().sort(),
            checksums=pl.col("source_sha256").unique().sort(),
        )
        .sort("registry")
    )
    read = versions.with_columns(
        version=pl.Series(
            [version_of(checksums) for checksums in versions.get_column("checksums").to_list()], dtype=pl.String
        )
    ).select("registry", "version", "count_numbers", "files")
    return pl.concat([read, snapshots.select(read.columns)]).sort("registry")


def version_of(checksums: Sequence[str]) -> str:
    """A registry version: the SHA-256 of its files' SHA-256s, sorted and one a line."""
    return hashlib.sha256("".join(f"{checksum}\n" for checksum in sorted(checksums)).encode()).hexdigest()


def changed_version(parent: str, change_checksum: str) -> str:
    """The version a change list makes of its parent version: the SHA-256 of both, in that order."""
    return hashlib.sha256(f"{parent}\n{change_checksum}\n".encode()).hexdigest()


def registry_ledger(runs_dir: Path, *, kept: Path) -> pl.DataFrame:
    """Every registry version a published run accepted (`LEDGER_SCHEMA`): the copy `kept` outside the published
    runs, and the ledger of every complete run still there.

    Each run publishes the whole ledger as it stood (`LEDGER`) and replaces `kept` with it, so it survives
    deleted run folders, even all of them; runs published before the ledger existed contribute their
    manifest's `registries`.
    """
    # A folder without a manifest is a run still being written, or one that died writing: not published.
    runs = [run for run in sorted(runs_dir.glob("*")) if (run / MANIFEST_FILE).is_file()]
    ledgers = [pl.read_parquet(path) for path in [kept, *(run / LEDGER for run in runs)] if path.is_file()]
    recorded = [_manifest_rows(run / MANIFEST_FILE) for run in runs]
    return (
        pl.concat([pl.DataFrame(schema=LEDGER_SCHEMA), *ledgers, *recorded], how="vertical_relaxed")
        .unique()
        .sort(*LEDGER_ORDER)
    )


def ledger_with(ledger: pl.DataFrame, versions: pl.DataFrame, *, run_id: str, run_started_at: datetime) -> pl.DataFrame:
    """The ledger and this run's registry versions: what this run publishes as `LEDGER`. It only grows."""
    tonight = versions.select(
        pl.lit(run_id).alias("run_id"),
        pl.lit(run_started_at).cast(LEDGER_SCHEMA["run_started_at"]).alias("run_started_at"),
        "registry",
        "version",
        pl.col("count_numbers").cast(pl.Int64),
    )
    return pl.concat([ledger, tonight]).unique().sort(*LEDGER_ORDER)


def keep_ledger(ledger: pl.DataFrame, kept: Path) -> None:
    """Replace the copy of the ledger kept outside the published runs, atomically, once a run has published."""
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_name(f".{kept.name}.partial")
    ledger.write_parquet(partial)
    partial.replace(kept)


def accepted_versions(ledger: pl.DataFrame, retired: Sequence[RetiredRegistry]) -> pl.DataFrame:
    """Each registry's count in the newest published run that recorded it: the shrink guard's baseline.

    A retired registry `replaced_by` another hands its baseline on to it until the new name has one of its own.
    """
    newest = ledger.sort(*LEDGER_ORDER).group_by("registry", maintain_order=True).last()
    handed_on = newest.join(
        pl.DataFrame(
            {"registry": [entry.name for entry in retired], "successor": [entry.replaced_by for entry in retired]},
            schema={"registry": pl.String, "successor": pl.String},
        ).drop_nulls(),
        on="registry",
    ).with_columns(registry="successor")
    inherited = handed_on.join(newest, on="registry", how="anti")
    return (
        pl.concat([newest, inherited.select(newest.columns)])
        .select("registry", accepted_run_id="run_id", count_accepted="count_numbers")
        .sort("registry")
    )


def missing_registries(
    ledger: pl.DataFrame, registries: Sequence[Registry], retired: Sequence[RetiredRegistry]
) -> list[str]:
    """Registries some published run used that are neither configured nor retired: a suppression source lost."""
    present = {registry.name for registry in registries} | {entry.name for entry in retired}
    return sorted(set(ledger.get_column("registry").unique().to_list()) - present)


def missing_problems(missing: Sequence[str], ledger: pl.DataFrame) -> list[str]:
    """One sentence per lost registry: the last run that used it, and what to do."""
    last_run = dict(
        ledger.sort(*LEDGER_ORDER)
        .group_by("registry", maintain_order=True)
        .last()
        .select("registry", "run_id")
        .iter_rows()
    )
    return [
        f"registry '{name}' was used by published run {last_run[name]} but is not in scrubline.yaml; restore its "
        f"entry, or retire it deliberately with retired_registries: [{{name: {name}, retired_on: YYYY-MM-DD, "
        "reason: ...}]"
        for name in missing
    ]


def _manifest_rows(path: Path) -> pl.DataFrame:
    """A manifest's registry versions as ledger rows (runs published before the ledger existed)."""
    manifest = Manifest.read(path)
    return pl.DataFrame(
        [
            {"run_id": manifest.run_id, "run_started_at": manifest.started_at, "registry": row.registry,
             "version": row.version, "count_numbers": row.count_numbers}
            for row in manifest.registries
        ],
        schema=LEDGER_SCHEMA,
    )  # fmt: skip


def registry_shrinkage(versions: pl.DataFrame, accepted: pl.DataFrame, registries: Sequence[Registry]) -> pl.DataFrame:
    """One row per registry with an accepted version: old and new counts, the drop, its limit, whether it passes."""
    rules = pl.DataFrame(
        {
            "registry": [registry.name for registry in registries],
            "max_shrink": [registry.max_shrink for registry in registries],
            "accept_shrink": [registry.accept_shrink for registry in registries],
        },
        schema={"registry": pl.String, "max_shrink": pl.Float64, "accept_shrink": pl.String},
    )
    shrink = (pl.col("count_accepted") - pl.col("count_numbers")) / pl.col("count_accepted")
    is_acknowledged = pl.col("accept_shrink").eq_missing(pl.col("version"))
    return (
        versions.select("registry", "version", "count_numbers")
        .join(accepted, on="registry", how="inner")
        .join(rules, on="registry", how="left")
        .with_columns(shrink=shrink)
        .with_columns(
            is_acknowledged=is_acknowledged,
            is_within_limit=(pl.col("shrink") <= pl.col("max_shrink")) | is_acknowledged,
        )
        .select(_SHRINKAGE_COLUMNS)
        .sort("registry")
    )


def shrink_problems(shrinkage: pl.DataFrame) -> list[str]:
    """One sentence per registry that shrank past its limit: old and new counts, the drop, and what to do."""
    return [
        f"registry '{name}' has {count_numbers} valid numbers, {count_accepted - count_numbers} ({shrink:.1%}) fewer "
        f"than the {count_accepted} of the last published run {run_id}, more than its max_shrink {max_shrink:.1%}; "
        f"a partial download is likely: download it again, or if the drop is real set "
        f"accept_shrink: {version} on this registry (it accepts this version only)"
        for name, run_id, count_accepted, count_numbers, shrink, max_shrink, version in shrinkage.filter(
            ~pl.col("is_within_limit")
        )
        .select("registry", "accepted_run_id", "count_accepted", "count_numbers", "shrink", "max_shrink", "version")
        .iter_rows()
    ]


def unused_acknowledgements(versions: pl.DataFrame, registries: Sequence[Registry]) -> list[str]:
    """Registries whose `accept_shrink` names a version they no longer have: the line can be removed."""
    current = dict(versions.select("registry", "version").iter_rows())
    return [
        registry.name
        for registry in registries
        if registry.accept_shrink is not None and registry.accept_shrink != current.get(registry.name)
    ]
