"""Registry freshness: a copy older than its maximum age on the run's date is never used silently.

A copy's age is taken from the evidence, not from a typed date alone: a US registry with change lists
is as new as the newest of `full_list_downloaded_on` and the dates in its change lists' names, and
its `downloaded_on` must say that same date (otherwise it could be typed as today and zero the age).
A registry without change lists is as new as its `downloaded_on`. Age is counted in whole days to the
run's date: a US copy downloaded on 2026-10-27 may be used on 2026-11-27 (31 days) but not on
2026-11-28. A date after the run's date is a typo, never a fresh copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

from pipelines.config import Registry

DOWNLOADED_ON = "downloaded_on"
FULL_LIST_DOWNLOADED_ON = "full_list_downloaded_on"
_AGES_SCHEMA = {
    "registry": pl.String,
    "downloaded_on": pl.Date,
    "age_from": pl.Date,
    "age_evidence": pl.String,
    "max_age_days": pl.Int64,
}


def registry_ages(
    registries: Sequence[Registry], *, today: date, newest_change_lists: Mapping[str, tuple[date, str]]
) -> pl.DataFrame:
    """One row per registry with a download date: the date its age counts from and why, its age on `today`, its
    maximum age (null: none), and whether it is fresh and its `downloaded_on` agrees. `newest_change_lists` gives,
    by registry, the date and file name of its newest change list (`registry_store.newest_change_lists`)."""
    ruled = [registry for registry in registries if registry.downloaded_on is not None]
    evidence = [_age_evidence(registry, newest_change_lists.get(registry.name)) for registry in ruled]
    ages = pl.DataFrame(
        {
            "registry": [registry.name for registry in ruled],
            "downloaded_on": [registry.downloaded_on for registry in ruled],
            "age_from": [age_from for age_from, _ in evidence],
            "age_evidence": [why for _, why in evidence],
            "max_age_days": [registry.maximum_age_days for registry in ruled],
        },
        schema=_AGES_SCHEMA,
    )
    age_days = (pl.lit(today) - pl.col("age_from")).dt.total_days()
    return ages.with_columns(age_days=age_days).with_columns(
        is_fresh=(pl.col("age_days") >= 0) & (pl.col("age_days") <= pl.col("max_age_days")).fill_null(True),
        is_consistent=pl.col("downloaded_on") == pl.col("age_from"),
    )


def _age_evidence(registry: Registry, newest_change_list: tuple[date, str] | None) -> tuple[date | None, str]:
    """The date a copy's age counts from, and what says so: its newest change list, full list, or `downloaded_on`."""
    if registry.full_list_downloaded_on is None:
        return registry.downloaded_on, DOWNLOADED_ON
    if newest_change_list is None or newest_change_list[0] <= registry.full_list_downloaded_on:
        return registry.full_list_downloaded_on, FULL_LIST_DOWNLOADED_ON
    listed_on, name = newest_change_list
    return listed_on, f"change list {name}"


def staleness_problems(ages: pl.DataFrame, *, today: date) -> list[str]:
    """One sentence per registry that must not be used: which, how old or why its dates disagree, and what to do."""
    return [
        _problem(row, today=today) for row in ages.filter(~(pl.col("is_fresh") & pl.col("is_consistent"))).to_dicts()
    ]


def _problem(row: Mapping[str, object], *, today: date) -> str:
    name, age_from, evidence = row["registry"], row["age_from"], row["age_evidence"]
    if row["age_days"] < 0:
        return f"registry '{name}' has {evidence} {age_from}, after the run's date {today}; correct the date"
    if not row["is_fresh"]:
        return (
            f"registry '{name}' is {row['age_days']} days old on {today} ({evidence} {age_from}, maximum "
            f"{row['max_age_days']} days); download a fresh copy and update downloaded_on"
        )
    return (
        f"registry '{name}' has downloaded_on {row['downloaded_on']}, but its newest download is {evidence}, "
        f"dated {age_from}; set downloaded_on: {age_from}"
    )
