"""A registry copy with far fewer numbers than the last published one is refused unless that version is accepted."""

import hashlib
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import Registry, RetiredRegistry
from pipelines.registries.store import SNAPSHOTS_SCHEMA
from pipelines.registries.versions import (
    LEDGER,
    accepted_versions,
    changed_version,
    keep_ledger,
    ledger_with,
    missing_problems,
    missing_registries,
    registry_ledger,
    registry_shrinkage,
    registry_versions,
    shrink_problems,
    unused_acknowledgements,
    version_of,
)

ENTRIES = pl.DataFrame(
    {
        "registry": ["dnc", "dnc", "dnc", "dnc", "blocks"],
        "phone_e164": ["+12015550123", "+12015550123", "+12125550142", None, None],
        "phone_valid": [True, True, True, False, None],
        "block_prefix": [None, None, None, None, "+1201"],
        "source_file": ["dnc/a.txt", "dnc/b.txt", "dnc/b.txt", "dnc/b.txt", "blocks.txt"],
        "source_sha256": ["a" * 64, "b" * 64, "b" * 64, "b" * 64, "c" * 64],
    }
)
NEW_VERSION = version_of(["b" * 64, "a" * 64])
NO_SNAPSHOTS = pl.DataFrame(schema=SNAPSHOTS_SCHEMA)


def dnc(**options: object) -> Registry:
    return Registry(name="dnc", format="plain", path="x", region="US", **options)


def test_a_version_counts_distinct_valid_numbers_or_blocks_and_hashes_its_files_checksums() -> None:
    expected = pl.DataFrame(
        {
            "registry": ["blocks", "dnc"],
            "version": [version_of(["c" * 64]), NEW_VERSION],
            "count_numbers": [1, 2],
            "files": [
                [{"file": "blocks.txt", "sha256": "c" * 64}],
                [{"file": "dnc/a.txt", "sha256": "a" * 64}, {"file": "dnc/b.txt", "sha256": "b" * 64}],
            ],
        }
    )
    assert_frame_equal(registry_versions(ENTRIES, NO_SNAPSHOTS), expected)
    assert NEW_VERSION == hashlib.sha256(f"{'a' * 64}\n{'b' * 64}\n".encode()).hexdigest()


def test_a_stored_registry_brings_its_snapshot_s_version_files_and_count() -> None:
    files = [{"file": "us/full.txt", "sha256": "d" * 64}, {"file": "us/changes.txt", "sha256": "e" * 64}]
    version = changed_version(version_of(["d" * 64]), "e" * 64)
    snapshots = pl.DataFrame(
        [{"registry": "us_dnc", "version": version, "count_numbers": 250, "files": files}], schema=SNAPSHOTS_SCHEMA
    )
    versions = registry_versions(ENTRIES, snapshots)
    assert versions.get_column("registry").to_list() == ["blocks", "dnc", "us_dnc"]
    assert versions.row(2) == ("us_dnc", version, 250, files)


def test_a_change_list_s_version_depends_on_its_parent_and_its_own_checksum_in_order() -> None:
    assert changed_version("p" * 64, "e" * 64) == hashlib.sha256(f"{'p' * 64}\n{'e' * 64}\n".encode()).hexdigest()
    assert changed_version("p" * 64, "e" * 64) != changed_version("e" * 64, "p" * 64)


KEPT = "kept/ledger.parquet"


def publish(runs_dir: Path, run_id: str, started_at: datetime, counts: dict[str, int]) -> None:
    """A published run folder holding the ledger as `ledger_with` makes it."""
    versions = pl.DataFrame(
        {"registry": list(counts), "version": ["v"] * len(counts), "count_numbers": list(counts.values())}
    )
    ledger = ledger_with(
        registry_ledger(runs_dir, kept=runs_dir / KEPT), versions, run_id=run_id, run_started_at=started_at
    )
    (runs_dir / run_id / "registries").mkdir(parents=True)
    ledger.write_parquet(runs_dir / run_id / LEDGER)
    keep_ledger(ledger, runs_dir / KEPT)


def test_the_accepted_count_is_the_newest_run_s_and_none_before_the_first_run(tmp_path: Path) -> None:
    assert accepted_versions(registry_ledger(tmp_path, kept=tmp_path / KEPT), []).height == 0
    publish(tmp_path, "r1", datetime(2026, 11, 26, tzinfo=UTC), {"dnc": 40, "tps": 9})
    publish(tmp_path, "r2", datetime(2026, 11, 27, tzinfo=UTC), {"dnc": 41})
    assert accepted_versions(registry_ledger(tmp_path, kept=tmp_path / KEPT), []).rows() == [
        ("dnc", "r2", 41),
        ("tps", "r1", 9),
    ]


def test_the_ledger_only_grows_and_survives_deleted_run_folders_even_all_of_them(tmp_path: Path) -> None:
    publish(tmp_path, "r1", datetime(2026, 11, 26, tzinfo=UTC), {"dnc": 40})
    publish(tmp_path, "r2", datetime(2026, 11, 27, tzinfo=UTC), {"dnc": 41})
    ledger = registry_ledger(tmp_path, kept=tmp_path / KEPT)
    assert ledger.select("run_id", "count_numbers").rows() == [("r1", 40), ("r2", 41)]
    for run in ("r1", "r2"):
        shutil.rmtree(tmp_path / run)
    assert accepted_versions(registry_ledger(tmp_path, kept=tmp_path / KEPT), []).rows() == [("dnc", "r2", 41)]


def test_two_runs_of_one_instant_are_ordered_by_run_id(tmp_path: Path) -> None:
    publish(tmp_path, "r2", datetime(2026, 11, 27, tzinfo=UTC), {"dnc": 41})
    publish(tmp_path, "r1", datetime(2026, 11, 27, tzinfo=UTC), {"dnc": 40})
    assert accepted_versions(registry_ledger(tmp_path, kept=tmp_path / KEPT), []).rows() == [("dnc", "r2", 41)]


def test_runs_published_before_the_ledger_count_through_their_manifest(tmp_path: Path) -> None:
    (tmp_path / "r0").mkdir()
    (tmp_path / "r0/manifest.json").write_text(json.dumps({
        "run_id": "r0", "published_at": "2026-11-20T02:00:00+00:00",
        "registries": [{"registry": "dnc", "version": "v0", "count_numbers": 40}],
    }))  # fmt: skip
    (tmp_path / ".staging-r9").mkdir()
    assert accepted_versions(registry_ledger(tmp_path, kept=tmp_path / KEPT), []).rows() == [("dnc", "r0", 40)]


def test_a_renamed_registry_inherits_its_baseline_until_it_has_its_own(tmp_path: Path) -> None:
    publish(tmp_path, "r1", datetime(2026, 11, 26, tzinfo=UTC), {"dnc": 40})
    renamed = [RetiredRegistry(name="dnc", retired_on=date(2026, 11, 27), reason="renamed", replaced_by="us_dnc")]
    assert accepted_versions(registry_ledger(tmp_path, kept=tmp_path / KEPT), renamed).rows() == [
        ("dnc", "r1", 40),
        ("us_dnc", "r1", 40),
    ]
    publish(tmp_path, "r2", datetime(2026, 11, 27, tzinfo=UTC), {"us_dnc": 39})
    assert accepted_versions(registry_ledger(tmp_path, kept=tmp_path / KEPT), renamed).rows() == [
        ("dnc", "r1", 40),
        ("us_dnc", "r2", 39),
    ]


def test_a_registry_a_published_run_used_must_be_configured_or_retired(tmp_path: Path) -> None:
    publish(tmp_path, "r1", datetime(2026, 11, 26, tzinfo=UTC), {"dnc": 40, "litigators": 3})
    ledger = registry_ledger(tmp_path, kept=tmp_path / KEPT)
    assert missing_registries(ledger, [dnc()], []) == ["litigators"]
    retired = [RetiredRegistry(name="litigators", retired_on=date(2026, 11, 27), reason="contract ended")]
    assert missing_registries(ledger, [dnc()], retired) == []
    assert missing_problems(["litigators"], ledger) == [
        "registry 'litigators' was used by published run r1 but is not in scrubline.yaml; restore its entry, or "
        "retire it deliberately with retired_registries: [{name: litigators, retired_on: YYYY-MM-DD, reason: ...}]"
    ]


@pytest.mark.parametrize(
    ("count_accepted", "registry", "is_within_limit"),
    [
        (2, dnc(), True),
        (1, dnc(), True),
        (3, dnc(), False),
        (3, dnc(max_shrink=0.4), True),
        (3, dnc(accept_shrink=NEW_VERSION), True),
        (3, dnc(accept_shrink="f" * 64), False),
    ],
    ids=["same", "grown", "shrunk_a_third", "within_a_looser_limit", "this_version_accepted", "other_version_accepted"],
)
def test_a_registry_may_shrink_by_at_most_its_max_shrink_unless_this_version_is_accepted(
    count_accepted: int, registry: Registry, is_within_limit: bool
) -> None:
    accepted = pl.DataFrame({"registry": ["dnc"], "accepted_run_id": ["r1"], "count_accepted": [count_accepted]})
    shrinkage = registry_shrinkage(registry_versions(ENTRIES, NO_SNAPSHOTS), accepted, [registry])
    assert shrinkage.select("count_accepted", "count_numbers", "is_within_limit").rows() == [
        (count_accepted, 2, is_within_limit)
    ]


def test_a_shrunk_registry_is_named_with_old_and_new_counts_the_drop_and_what_to_do() -> None:
    accepted = pl.DataFrame({"registry": ["dnc", "new"], "accepted_run_id": ["r1"] * 2, "count_accepted": [100] * 2})
    shrinkage = registry_shrinkage(registry_versions(ENTRIES, NO_SNAPSHOTS), accepted, [dnc()])
    assert shrink_problems(shrinkage) == [
        "registry 'dnc' has 2 valid numbers, 98 (98.0%) fewer than the 100 of the last published run r1, more than "
        "its max_shrink 5.0%; a partial download is likely: download it again, or if the drop is real set "
        f"accept_shrink: {NEW_VERSION} on this registry (it accepts this version only)"
    ]


def test_an_acceptance_of_a_version_the_registry_no_longer_has_is_reported_as_unused() -> None:
    versions = registry_versions(ENTRIES, NO_SNAPSHOTS)
    assert unused_acknowledgements(versions, [dnc(accept_shrink=NEW_VERSION)]) == []
    assert unused_acknowledgements(versions, [dnc(accept_shrink="f" * 64)]) == ["dnc"]
