"""A registry copy older than its maximum age on the run's date is stale, and says by how much."""

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import Registry
from pipelines.freshness import registry_ages, staleness_problems

TODAY = date(2026, 11, 27)


def national(registry_format: str, downloaded_on: date, **options: object) -> Registry:
    return Registry(name=registry_format, format=registry_format, path="x", downloaded_on=downloaded_on, **options)


@pytest.mark.parametrize(
    ("registry", "age_days", "max_age_days", "is_fresh"),
    [
        (national("us_dnc", date(2026, 10, 27)), 31, 31, True),
        (national("us_dnc", date(2026, 10, 26)), 32, 31, False),
        (national("dncl", date(2026, 10, 27)), 31, 31, True),
        (national("dncl", date(2026, 10, 26)), 32, 31, False),
        (national("tps", date(2026, 10, 30)), 28, 28, True),
        (national("tps", date(2026, 10, 29)), 29, 28, False),
        (national("us_dnc", date(2026, 11, 17), max_age_days=7), 10, 7, False),
        (national("us_dnc", TODAY), 0, 31, True),
        (national("us_dnc", date(2026, 11, 28)), -1, 31, False),
        (Registry(name="plain", format="plain", path="x", region="US", downloaded_on=date(2026, 11, 1),
                  max_age_days=30), 26, 30, True),
    ],
    ids=["us_31", "us_32", "dncl_31", "dncl_32", "tps_28", "tps_29", "configured", "same_day", "future", "plain"],
)  # fmt: skip
def test_age_is_whole_days_to_the_run_date_against_the_format_s_maximum(
    registry: Registry, age_days: int, max_age_days: int, is_fresh: bool
) -> None:
    expected = pl.DataFrame(
        {
            "registry": [registry.name],
            "downloaded_on": [registry.downloaded_on],
            "max_age_days": [max_age_days],
            "age_days": [age_days],
            "is_fresh": [is_fresh],
        }
    )
    assert_frame_equal(registry_ages([registry], today=TODAY), expected)


def test_only_registries_with_a_maximum_age_are_judged() -> None:
    registries = [
        Registry(name="internal", format="plain", path="x", region="US"),
        Registry(name="dated", format="plain", path="x", region="US", downloaded_on=date(2026, 1, 1)),
        national("tps", date(2026, 11, 1)),
    ]
    assert registry_ages(registries, today=TODAY).get_column("registry").to_list() == ["tps"]


def test_each_stale_registry_is_named_with_its_age_and_what_to_do() -> None:
    registries = [
        national("us_dnc", date(2026, 10, 1)),
        national("tps", date(2026, 11, 20)),
        national("dncl", date(2026, 12, 1)),
    ]
    assert staleness_problems(registry_ages(registries, today=TODAY), today=TODAY) == [
        "registry 'us_dnc' is 57 days old on 2026-11-27 (downloaded_on 2026-10-01, maximum 31 days); "
        "download a fresh copy and update downloaded_on",
        "registry 'dncl' has downloaded_on 2026-12-01, after the run's date 2026-11-27; correct downloaded_on",
    ]
