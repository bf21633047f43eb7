"""A registry copy older than its maximum age on the run's date is stale, and says by how much."""

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import Registry
from pipelines.registries.freshness import registry_ages, staleness_problems

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
            "age_from": [registry.downloaded_on],
            "age_evidence": ["downloaded_on"],
            "max_age_days": [max_age_days],
            "age_days": [age_days],
            "is_fresh": [is_fresh],
            "is_consistent": [True],
        }
    )
    assert_frame_equal(registry_ages([registry], today=TODAY, newest_change_lists={}), expected)


def test_registries_with_a_download_date_are_aged_and_only_a_maximum_age_makes_one_stale() -> None:
    registries = [
        Registry(name="internal", format="plain", path="x", region="US"),
        Registry(name="dated", format="plain", path="x", region="US", downloaded_on=date(2026, 1, 1)),
        national("tps", date(2026, 10, 1)),
    ]
    ages = registry_ages(registries, today=TODAY, newest_change_lists={})
    assert ages.select("registry", "age_days", "is_fresh").rows() == [("dated", 330, True), ("tps", 57, False)]


def test_each_stale_registry_is_named_with_its_age_and_what_to_do() -> None:
    registries = [
        national("us_dnc", date(2026, 10, 1)),
        national("tps", date(2026, 11, 20)),
        national("dncl", date(2026, 12, 1)),
    ]
    assert staleness_problems(registry_ages(registries, today=TODAY, newest_change_lists={}), today=TODAY) == [
        "registry 'us_dnc' is 57 days old on 2026-11-27 (downloaded_on 2026-10-01, maximum 31 days); "
        "download a fresh copy and update downloaded_on",
        "registry 'dncl' has downloaded_on 2026-12-01, after the run's date 2026-11-27; correct the date",
    ]


def with_changes(downloaded_on: date, full_list_downloaded_on: date) -> Registry:
    return national("us_dnc", downloaded_on, changes="changes/*.txt", full_list_downloaded_on=full_list_downloaded_on)


@pytest.mark.parametrize(
    ("registry", "newest", "age_from", "evidence", "problem"),
    [
        (with_changes(date(2026, 11, 21), date(2026, 10, 1)), (date(2026, 11, 21), "2026-11-21.txt"),
         date(2026, 11, 21), "change list 2026-11-21.txt", None),
        (with_changes(date(2026, 11, 27), date(2026, 10, 1)), (date(2026, 11, 21), "2026-11-21.txt"),
         date(2026, 11, 21), "change list 2026-11-21.txt",
         "registry 'us_dnc' has downloaded_on 2026-11-27, but its newest download is change list 2026-11-21.txt, "
         "dated 2026-11-21; set downloaded_on: 2026-11-21"),
        (with_changes(date(2026, 11, 27), date(2026, 6, 5)), (date(2026, 6, 6), "2026-06-06.txt"),
         date(2026, 6, 6), "change list 2026-06-06.txt",
         "registry 'us_dnc' is 174 days old on 2026-11-27 (change list 2026-06-06.txt 2026-06-06, maximum 31 days); "
         "download a fresh copy and update downloaded_on"),
        (with_changes(date(2026, 11, 20), date(2026, 11, 20)), None,
         date(2026, 11, 20), "full_list_downloaded_on", None),
        (with_changes(date(2026, 11, 28), date(2026, 11, 28)), None, date(2026, 11, 28), "full_list_downloaded_on",
         "registry 'us_dnc' has full_list_downloaded_on 2026-11-28, after the run's date 2026-11-27; correct the date"),
    ],
    ids=["newest_change_list", "typed_as_the_run_date", "old_change_lists", "full_list_only", "full_list_in_future"],
)  # fmt: skip
def test_a_copy_with_change_lists_is_as_old_as_its_newest_file_and_downloaded_on_must_say_so(
    registry: Registry, newest: tuple[date, str] | None, age_from: date, evidence: str, problem: str | None
) -> None:
    ages = registry_ages([registry], today=TODAY, newest_change_lists={"us_dnc": newest} if newest else {})
    assert ages.select("age_from", "age_evidence").row(0) == (age_from, evidence)
    assert staleness_problems(ages, today=TODAY) == ([problem] if problem else [])
