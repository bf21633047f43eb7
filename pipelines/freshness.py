"""Registry freshness: a copy older than its maximum age on the run's date is never used silently.

Age is counted in whole days from `downloaded_on` to the run's date: a US copy downloaded on
2026-10-27 may be used on 2026-11-27 (31 days) but not on 2026-11-28. A download date after the
run's date is a typo, never a fresh copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from pipelines.config import Registry


def registry_ages(registries: Sequence[Registry], *, today: date) -> pl.DataFrame:
    """One row per registry with a maximum age: its download date, age in days on `today`, and whether it is fresh."""
    ruled = [registry for registry in registries if registry.maximum_age_days is not None]
    ages = pl.DataFrame(
        {
            "registry": [registry.name for registry in ruled],
            "downloaded_on": [registry.downloaded_on for registry in ruled],
            "max_age_days": [registry.maximum_age_days for registry in ruled],
        },
        schema={"registry": pl.String, "downloaded_on": pl.Date, "max_age_days": pl.Int64},
    )
    age_days = (pl.lit(today) - pl.col("downloaded_on")).dt.total_days()
    is_fresh = pl.col("age_days").is_between(0, pl.col("max_age_days"))
    return ages.with_columns(age_days=age_days).with_columns(is_fresh=is_fresh)


def staleness_problems(ages: pl.DataFrame, *, today: date) -> list[str]:
    """One sentence per registry that must not be used: which, how old, and what to do."""
    return [
        f"registry '{name}' has downloaded_on {downloaded_on}, after the run's date {today}; correct downloaded_on"
        if age_days < 0
        else f"registry '{name}' is {age_days} days old on {today} (downloaded_on {downloaded_on}, "
        f"maximum {max_age_days} days); download a fresh copy and update downloaded_on"
        for name, downloaded_on, max_age_days, age_days in ages.filter(~pl.col("is_fresh"))
        .select("registry", "downloaded_on", "max_age_days", "age_days")
        .iter_rows()
    ]
