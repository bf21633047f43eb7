"""List expiry: a published list is usable only until the first input it relied on stops being usable.

`valid_through` is the first instant (UTC) at which a list must no longer be dialled:
- each registry with a maximum age: the day after its last legal day (the date its age counts from
  plus its maximum age), at 00:00 UTC, since ages are whole days on the run's UTC date;
- each clean row dialable only through an established business relationship: the day after the
  relationship's last day (`ebr_until`), at 00:00 UTC;
- the list itself: the day after its run's date plus `max_list_age_days` (10), since opt-outs taken
  after the scrub must be honoured within 10 business days (47 CFR 64.1200(d)(3)).

Once `valid_through` has passed, the list is withdrawn: `published/latest.json` gains `withdrawn` (which run, why
and since when), so a dialler following it gets nothing rather than a stale list; on a local folder the `latest`
link goes and `published/EXPIRED` says the same. The next run that publishes points `latest.json` at itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from pipelines.publishing.latest import read_latest, resolve_latest, withdraw_latest
from pipelines.publishing.links import show_latest
from pipelines.records import Manifest, Withdrawal
from pipelines.storage import LocalStorage

_DATED_LINK = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"  # `published/<run date>`, as publish names it
_INSTANT = pl.Datetime("us", "UTC")


def registries_valid_through(ages: pl.DataFrame) -> datetime | None:
    """The first instant any registry with a maximum age is too old to use (`freshness.registry_ages`)."""
    last_days = ages.filter(pl.col("max_age_days").is_not_null()).select(
        (pl.col("age_from") + pl.duration(days=pl.col("max_age_days"))).min()
    )
    return _day_after(last_days.item())


def list_valid_through(run_date: date, *, max_list_age_days: int) -> datetime:
    """The first instant a list is too old in itself, whatever it was scrubbed against."""
    return _day_after(run_date + timedelta(days=max_list_age_days))


def campaigns_valid_through(
    scrubbed: pl.DataFrame | pl.LazyFrame, relationships: pl.DataFrame, *, registries_until: datetime | None
) -> pl.DataFrame:
    """One row per campaign: when its clean list stops being usable, the earliest of the registries' limit and the
    end of any relationship one of its clean rows is dialled under."""
    scrubbed = scrubbed.lazy()
    exempted = (
        scrubbed.filter((pl.col("outcome") == "clean") & pl.col("exemption_reason").is_not_null())
        .join(relationships.lazy().select("phone_e164", "ebr_until"), on="phone_e164")
        .group_by("campaign")
        .agg(ebr_until=pl.col("ebr_until").min())
    )
    ebr_limit = (pl.col("ebr_until") + pl.duration(days=1)).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    registries_limit = pl.lit(registries_until, _INSTANT)
    return (
        scrubbed.select("campaign")
        .unique()
        .join(exempted, on="campaign", how="left")
        .select("campaign", valid_through=pl.min_horizontal(registries_limit, ebr_limit))
        .sort("campaign")
        .collect()
    )


def withdraw_if_expired(published_dir: Path, *, now: datetime) -> dict[str, object] | None:
    """Mark the run `latest.json` names as withdrawn (and on the local folder remove the `latest` link and write
    `EXPIRED`) when its list is past its `valid_through`.

    Returns the withdrawal (run, `valid_through`, when withdrawn, why), or None when there is nothing to withdraw.
    """
    storage = LocalStorage(published_dir)
    current, recorded = read_latest(storage), resolve_latest(storage)
    if current is None or recorded is None or recorded.valid_through is None or now < recorded.valid_through:
        return None
    withdrawal = Withdrawal(
        run_id=recorded.run_id,
        run_dir=str(Path(current.latest.manifest).parent),
        valid_through=recorded.valid_through,
        withdrawn_at=now.astimezone(UTC),
        reason="the list is past its valid_through: a registry copy it was scrubbed against is older than the "
        "law allows, or a business relationship it relied on has ended; publish a new run",
    )
    withdraw_latest(storage, current, withdrawal)
    show_latest(published_dir, read_latest(storage).latest)
    return withdrawal.model_dump(mode="json")


def withdraw_expired_dated_links(published_dir: Path, *, now: datetime) -> list[str]:
    """Remove each `<run date>` link whose run is past its `valid_through`; return the dates withdrawn.

    A dialler that reads a list by its date must not keep dialling it once it has expired, any more than one
    that reads `latest`. The run itself stays under `runs/`, with its manifest and certificates, for audit.
    """
    withdrawn = []
    for link in sorted(published_dir.glob(_DATED_LINK)):
        if link.is_symlink() and _expired_manifest(link, now=now) is not None:
            link.unlink()
            withdrawn.append(link.name)
    return withdrawn


def _expired_manifest(run_link: Path, *, now: datetime) -> Manifest | None:
    """The manifest of the run `run_link` points at, when that run is past its `valid_through` at `now`."""
    manifest = run_link / "manifest.json"
    if not manifest.is_file():
        return None
    recorded = Manifest.read(manifest)
    return None if recorded.valid_through is None or now < recorded.valid_through else recorded


def list_status(run_dir: Path, withdrawal: dict[str, object] | None = None) -> pl.DataFrame:
    """The warehouse's `list_status`: the run it shows, its `valid_through`, and `current` or `expired`."""
    manifest = Manifest.read(run_dir / "manifest.json")
    return pl.DataFrame(
        {
            "run_id": [manifest.run_id],
            "valid_through": [manifest.valid_through],
            "status": ["current" if withdrawal is None else "expired"],
            "withdrawn_at": [None if withdrawal is None else datetime.fromisoformat(str(withdrawal["withdrawn_at"]))],
        },
        schema={"run_id": pl.String, "valid_through": _INSTANT, "status": pl.String, "withdrawn_at": _INSTANT},
    )


def expired_marker(published_dir: Path) -> dict[str, object] | None:
    """The current withdrawal, if the latest list was withdrawn and nothing newer has been published since."""
    current = read_latest(LocalStorage(published_dir))
    withdrawn = None if current is None else current.latest.withdrawn
    return None if withdrawn is None else withdrawn.model_dump(mode="json")


def _day_after(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
