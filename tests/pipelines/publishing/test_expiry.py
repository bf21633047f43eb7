"""A list is usable until the first input it relied on stops being usable, and is withdrawn from then on."""

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import Registry
from pipelines.publishing.expiry import (
    campaigns_valid_through,
    expired_marker,
    list_status,
    list_valid_through,
    registries_valid_through,
    withdraw_expired_dated_links,
    withdraw_if_expired,
)
from pipelines.publishing.latest import commit_manifest, point_latest, read_latest
from pipelines.publishing.links import EXPIRED, show_latest
from pipelines.records import Manifest
from pipelines.registries.freshness import registry_ages
from pipelines.storage import LocalStorage

TODAY = date(2026, 11, 27)
DOWNLOADED = date(2026, 11, 20)


def ages(*registries: Registry) -> pl.DataFrame:
    return registry_ages(list(registries), today=TODAY, newest_change_lists={})


def national(registry_format: str, **options: object) -> Registry:
    return Registry(name=registry_format, format=registry_format, path="x", downloaded_on=DOWNLOADED, **options)


def test_a_registry_is_usable_through_its_last_legal_day_and_the_earliest_registry_decides() -> None:
    assert registries_valid_through(ages(national("us_dnc"))) == datetime(2026, 12, 22, tzinfo=UTC)
    assert registries_valid_through(ages(national("us_dnc"), national("tps"))) == datetime(2026, 12, 19, tzinfo=UTC)
    assert registries_valid_through(ages(national("tps", max_age_days=7))) == datetime(2026, 11, 28, tzinfo=UTC)


def test_registries_without_a_maximum_age_set_no_limit_and_the_list_itself_expires_after_10_days() -> None:
    dated_plain = Registry(name="p", format="plain", path="x", region="US", downloaded_on=DOWNLOADED)
    assert registries_valid_through(ages(dated_plain)) is None
    assert list_valid_through(TODAY, max_list_age_days=10) == datetime(2026, 12, 8, tzinfo=UTC)
    assert list_valid_through(TODAY, max_list_age_days=1) == datetime(2026, 11, 29, tzinfo=UTC)


SCRUBBED = pl.DataFrame(
    {
        "campaign": ["spring", "spring", "winback", "winback"],
        "phone_e164": ["+12015550123", "+12125550142", "+12015550123", "+12125550142"],
        "outcome": ["clean", "clean", "suppressed", "clean"],
        "exemption_reason": ["us_dnc:ebr_inquiry", None, "us_dnc:ebr_inquiry", None],
    }
)
RELATIONSHIPS = pl.DataFrame({"phone_e164": ["+12015550123"], "ebr_until": [date(2026, 12, 1)]})


@pytest.mark.parametrize(
    ("registries_until", "spring", "winback"),
    [
        (datetime(2026, 12, 22, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 22, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)),
        (None, datetime(2026, 12, 2, tzinfo=UTC), None),
    ],
    ids=["relationship_ends_first", "registry_first", "no_registry_limit"],
)  # fmt: skip
def test_a_campaign_dialled_under_a_relationship_is_usable_only_through_its_last_day(
    registries_until: datetime | None, spring: datetime | None, winback: datetime | None
) -> None:
    validity = campaigns_valid_through(SCRUBBED, RELATIONSHIPS, registries_until=registries_until)
    assert validity.rows() == [("spring", spring), ("winback", winback)]


def published(tmp_path: Path, valid_through: str | None) -> Path:
    """A published folder whose `latest.json` (and `latest` link) names run r1, valid through `valid_through`."""
    storage = LocalStorage(tmp_path)
    until = None if valid_through is None else datetime.fromisoformat(valid_through)
    created = datetime(2026, 11, 27, 2, tzinfo=UTC)
    sha256 = commit_manifest(storage, Manifest(run_id="r1", valid_through=until, published_at=created))
    assert point_latest(storage, run_id="r1", run_created_at=created, manifest_sha256=sha256)
    show_latest(tmp_path, read_latest(storage).latest)
    return tmp_path


def test_a_list_is_withdrawn_at_its_valid_through_not_a_moment_before(tmp_path: Path) -> None:
    published_dir = published(tmp_path, "2026-12-19T00:00:00+00:00")
    limit = datetime(2026, 12, 19, tzinfo=UTC)
    assert withdraw_if_expired(published_dir, now=limit - timedelta(microseconds=1)) is None
    assert (published_dir / "latest").is_symlink()
    withdrawal = withdraw_if_expired(published_dir, now=limit)
    assert not (published_dir / "latest").exists()
    assert withdrawal is not None
    assert (withdrawal["run_id"], withdrawal["run_dir"], withdrawal["withdrawn_at"]) == (
        "r1", "runs/r1", "2026-12-19T00:00:00+00:00",
    )  # fmt: skip
    assert expired_marker(published_dir) == json.loads((published_dir / EXPIRED).read_text()) == withdrawal
    assert json.loads((published_dir / "latest.json").read_text())["withdrawn"] == withdrawal
    assert withdraw_if_expired(published_dir, now=limit) is None


def test_a_list_without_valid_through_or_without_latest_is_left_alone(tmp_path: Path) -> None:
    assert withdraw_if_expired(tmp_path, now=datetime(2030, 1, 1, tzinfo=UTC)) is None
    published_dir = published(tmp_path, None)
    assert withdraw_if_expired(published_dir, now=datetime(2030, 1, 1, tzinfo=UTC)) is None
    assert (published_dir / "latest").is_symlink()


def test_the_list_status_says_current_or_expired_since_when(tmp_path: Path) -> None:
    published_dir = published(tmp_path, "2026-12-19T00:00:00+00:00")
    run_dir = published_dir / "runs/r1"
    assert list_status(run_dir).rows() == [("r1", datetime(2026, 12, 19, tzinfo=UTC), "current", None)]
    withdrawal = withdraw_if_expired(published_dir, now=datetime(2026, 12, 20, tzinfo=UTC))
    assert list_status(run_dir, withdrawal).row(0)[2:] == ("expired", datetime(2026, 12, 20, tzinfo=UTC))


def test_a_date_link_is_withdrawn_once_its_run_expires_and_the_run_stays_for_audit(tmp_path: Path) -> None:
    for run_id, run_date, valid_through in [("r1", "2026-11-26", datetime(2026, 12, 6, tzinfo=UTC)),
                                            ("r2", "2026-11-27", datetime(2026, 12, 7, tzinfo=UTC)),
                                            ("r3", "2026-11-28", None)]:  # fmt: skip
        run_dir = tmp_path / "runs" / run_id
        run_dir.mkdir(parents=True)
        manifest = Manifest(run_id=run_id, valid_through=valid_through, published_at=datetime(2026, 11, 28, tzinfo=UTC))
        (run_dir / "manifest.json").write_text(manifest.to_json())
        (tmp_path / run_date).symlink_to(Path("runs") / run_id)

    assert withdraw_expired_dated_links(tmp_path, now=datetime(2026, 12, 6, 23, 59, tzinfo=UTC)) == ["2026-11-26"]
    assert withdraw_expired_dated_links(tmp_path, now=datetime(2026, 12, 7, tzinfo=UTC)) == ["2026-11-27"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["2026-11-28", "runs"]
    assert (tmp_path / "runs/r1/manifest.json").is_file()
