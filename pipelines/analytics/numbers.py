"""Per-number analytics: where each number appears and whether it is suppressed."""

from __future__ import annotations

import polars as pl

_PHONE = "phone_e164"


def number_appearances(crm_numbers: pl.DataFrame, leads: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One row per valid E.164 number found in the CRM or a dialler list (`leads`: campaign, number, validity), in
    number order: its CRM contacts, dialler rows and campaigns. It depends on the inputs alone."""
    crm = _distinct_pairs(crm_numbers, "contact_id").agg(count_crm_contacts=pl.len().cast(pl.Int64))
    dialler = _distinct_pairs(leads.lazy().filter("phone_valid"), "campaign", count="count_rows").agg(
        count_dialler_rows=pl.col("count_rows").sum().cast(pl.Int64), campaigns="campaign"
    )
    numbers = pl.concat([crm.select(_PHONE), dialler.select(_PHONE)]).unique()
    return (
        numbers.join(crm, on=_PHONE, how="left")
        .join(dialler, on=_PHONE, how="left")
        .select(
            _PHONE,
            pl.col("count_crm_contacts", "count_dialler_rows").fill_null(0),
            pl.col("campaigns").fill_null([]),
        )
        .sort(_PHONE)
        .collect()
    )


def number_analytics(appearances: pl.DataFrame, suppression_list: pl.DataFrame) -> pl.DataFrame:
    """`number_appearances` with the sources that suppress each number (names, in order; an empty list when none):
    the entries of the day's `suppression_list` given, in number order."""
    suppression = _distinct_pairs(suppression_list.lazy().filter(pl.col(_PHONE).is_not_null()), "source_name").agg(
        suppression_sources="source_name", is_suppressed=pl.lit(True)
    )
    return (
        appearances.lazy()
        .join(suppression, on=_PHONE, how="left", maintain_order="left")
        .select(
            pl.exclude("is_suppressed", "suppression_sources"),
            pl.col("is_suppressed").fill_null(False),
            pl.col("suppression_sources").fill_null([]),
        )
        .collect()
    )


def _distinct_pairs(
    frame: pl.DataFrame | pl.LazyFrame, value: str, *, count: str | None = None
) -> pl.lazyframe.group_by.LazyGroupBy:
    """The distinct (number, `value`) pairs in number then value order (with their rows as `count`), grouped by
    number in that order: each number's values come out distinct and sorted, without sorting lists of them.

    Grouping the pairs first is several times cheaper than `unique().sort()` inside each number's group.
    """
    pairs = frame.lazy().group_by(_PHONE, value)
    counted = pairs.agg(pl.len().alias(count)) if count else pairs.agg()
    return counted.sort(_PHONE, value).group_by(_PHONE, maintain_order=True)
