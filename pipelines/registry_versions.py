"""Registry versions and the shrink guard: a copy with far fewer numbers than the last published one is broken.

A registry's version is the SHA-256 of its files' sorted SHA-256s (renaming a file does not change
it); a stored registry's change lists chain onto it (`changed_version`). Each published run
records every registry's version and count of valid numbers (blocks, for a wildcard list) in its
`manifest.json`, inside the atomic publish; the last accepted version is the
one the `latest` run recorded. An operator accepts a real drop with `accept_shrink: <version>`,
which names one version and so cannot outlive the next download.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from pipelines.config import Registry

MANIFEST_KEY = "registries"
_SHRINKAGE_COLUMNS = (
    "registry", "accepted_run_id", "count_accepted", "count_numbers", "shrink", "max_shrink", "version",
    "is_acknowledged", "is_within_limit",
)  # fmt: skip
_ACCEPTED_SCHEMA = {"registry": pl.String, "accepted_run_id": pl.String, "count_accepted": pl.Int64}


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


def accepted_versions(manifest_path: Path) -> pl.DataFrame:
    """Each registry's count of numbers in the last published run (its manifest); empty before the first run."""
    if not manifest_path.is_file():
        return pl.DataFrame(schema=_ACCEPTED_SCHEMA)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    recorded = manifest.get(MANIFEST_KEY, [])
    return pl.DataFrame(
        {
            "registry": [version["registry"] for version in recorded],
            "accepted_run_id": [manifest["run_id"]] * len(recorded),
            "count_accepted": [version["count_numbers"] for version in recorded],
        },
        schema=_ACCEPTED_SCHEMA,
    )


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
