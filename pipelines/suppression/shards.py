"""The scrub split by number range: a plan of shards, the rows of one shard, and the merge back in audit order.

A shard is a range of E.164 numbers as strings, `lower <= phone_e164 < upper` (a null bound is open). Every row
of one number falls in one shard, so a number repeated within a campaign is a repeat there exactly as in one
scrub, and a shard needs only the suppression entries (and the calls) of its own numbers: a range filter on the
number column, which a Parquet scan applies as it reads. Rows without a number (unparseable or quarantined)
belong to the first shard. `scrub.scrub_leads` of each shard, merged, equals `scrub_leads` of all the leads, row
for row.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

# One row per shard: its index and its range of E.164 numbers, lower bound inclusive, upper exclusive.
SHARD_PLAN_SCHEMA = {"shard": pl.UInt32, "lower": pl.String, "upper": pl.String}
AUDIT_ORDER = ("campaign", "source_file", "source_row")


def shard_plan(numbers: pl.Series, *, shards: int) -> pl.DataFrame:
    """At most `shards` ranges over the E.164 `numbers` of the leads (one per lead row), about as many rows in each.

    The bounds are the numbers at even steps of their sorted order, so a number's rows all fall on one side of
    every bound; a number holding more than a shard's share of rows leaves fewer, larger shards. No bound is the
    lowest number, so no shard is left with only the rows without a number.
    """
    bounds = _bounds(numbers.drop_nulls(), shards=shards)
    return pl.DataFrame(
        {"shard": range(bounds.len() + 1), "lower": [None, *bounds], "upper": [*bounds, None]},
        schema=SHARD_PLAN_SCHEMA,
    )


def _bounds(numbers: pl.Series, *, shards: int) -> pl.Series:
    """The distinct numbers at even steps of `numbers` in order, above the lowest; none for one shard."""
    if shards == 1 or numbers.is_empty():
        return numbers.clear()
    ordered = numbers.sort()
    at_steps = ordered.gather([ordered.len() * step // shards for step in range(1, shards)])
    return at_steps.filter(at_steps > ordered[0]).unique().sort()


def shard_rows(frame: pl.LazyFrame, shard: pl.DataFrame, *, number_column: str) -> pl.LazyFrame:
    """The rows of `frame` whose `number_column` lies in the range of `shard` (one row of a plan); the first
    shard also takes the rows without a number. A filter on one column, so a Parquet scan skips what it can."""
    lower, upper = shard.item(0, "lower"), shard.item(0, "upper")
    number = pl.col(number_column)
    is_above = pl.lit(True) if lower is None else number >= lower
    is_below = pl.lit(True) if upper is None else number < upper
    holds_unnumbered = number.is_null() if lower is None else pl.lit(False)
    return frame.filter((is_above & is_below) | holds_unnumbered)


def merged_in_audit_order(shards: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The scrubbed shards as one frame, in the order `scrub_leads` gives: by campaign, source file and row.

    Each shard is in that order already, and there is one row per source record, so the order is the same whatever
    the shards; one shard is returned as it is.
    """
    if len(shards) == 1:
        return shards[0]
    return pl.concat(shards, rechunk=False).sort(*AUDIT_ORDER, maintain_order=True)
