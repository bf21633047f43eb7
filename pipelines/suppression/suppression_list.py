"""The suppression list: every number that must not be dialled, and which source says so.

A registry suppresses only numbers of its jurisdiction (a list of regions, or everywhere); an
opt-out list may scope an entry to one seller (every campaign of it) and date it (`requested_at`). A
wildcard block suppresses every known number (from the CRM and the dialler lists) its E.164 prefix
covers; the block is recorded with the number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import polars as pl

from pipelines.config import Registry
from pipelines.duck import query_frames
from pipelines.phones.e164 import e164_as_int, result_column
from pipelines.registries.unusable_entries import digit_matches
from pipelines.suppression.sellers import seller_scope

CRM_DO_NOT_CALL = "crm_do_not_call"

_SUPPRESSION_LIST = """
with entries as (
    select registry_entries.*, registry_scopes.jurisdiction
    from registry_entries
    join registry_scopes using (registry)
),

listed as (
    select phone_e164, registry as source_name, source_file, source_sha256, downloaded_on,
           null::varchar as block_prefix, requested_at, seller_scope
    from entries
    where phone_valid
      and (jurisdiction is null or list_contains(jurisdiction, phone_region))
),

blocks as (
    select block_prefix, length(block_prefix) as prefix_length, registry, source_file, source_sha256,
           downloaded_on, jurisdiction
    from entries
    where block_prefix is not null
),

prefix_lengths as (
    select distinct prefix_length from blocks
),

known_prefixes as (
    select known_numbers.phone_e164, known_numbers.phone_region,
           left(known_numbers.phone_e164, prefix_lengths.prefix_length) as block_prefix
    from known_numbers
    cross join prefix_lengths
),

blocked as (
    select known_prefixes.phone_e164, blocks.registry as source_name, blocks.source_file, blocks.source_sha256,
           blocks.downloaded_on, blocks.block_prefix, null::timestamptz as requested_at,
           null::varchar as seller_scope
    from known_prefixes
    join blocks using (block_prefix)
    where blocks.jurisdiction is null or list_contains(blocks.jurisdiction, known_prefixes.phone_region)
),

crm_flags as (
    select phone_e164, $crm_source as source_name, source_file, source_sha256, null::date as downloaded_on,
           null::varchar as block_prefix, null::timestamptz as requested_at, null::varchar as seller_scope
    from crm_numbers
    where is_do_not_call
),

suppressions as (
    select * from listed
    union all
    select * from blocked
    union all
    select * from crm_flags
    union all
    select * from digit_matched
),

grouped as (
    select phone_e164, source_name, source_file, source_sha256, downloaded_on,
           arg_max(block_prefix, length(block_prefix)) as block_prefix,
           requested_at, seller_scope,
           count(*) as count_entries
    from suppressions
    group by phone_e164, source_name, source_file, source_sha256, downloaded_on, requested_at, seller_scope
)

select * from grouped
"""
# The suppression list as the `suppress` stage passes it on: one row per (number, source, file, opt-out time, scope).
SUPPRESSION_LIST_SCHEMA = {
    "phone_e164": pl.String, "source_name": pl.String, "source_file": pl.String, "source_sha256": pl.String,
    "downloaded_on": pl.Date, "block_prefix": pl.String, "requested_at": pl.Datetime("us", "UTC"),
    "seller_scope": pl.String, "count_entries": pl.Int64, "exemption": pl.String, "ebr_contact_id": pl.String,
    "ebr_date": pl.Date,
}  # fmt: skip
_TIE_BREAKERS = ("source_name", "source_file", "requested_at", "seller_scope")


def build_suppression_list(
    registry_entries: pl.DataFrame,
    crm_numbers: pl.DataFrame,
    *,
    stored_listings: pl.DataFrame,
    registries: Sequence[Registry],
    known_numbers: pl.DataFrame,
    relationships: pl.DataFrame,
    scopes_as_sellers: Mapping[str, str] | None,
    unusable: pl.DataFrame,
) -> pl.DataFrame:
    """The suppression list of a day: its `suppression_entries` `with_exemptions` of that day's `relationships`."""
    entries = suppression_entries(
        registry_entries,
        crm_numbers,
        stored_listings=stored_listings,
        registries=registries,
        known_numbers=known_numbers,
        scopes_as_sellers=scopes_as_sellers,
        unusable=unusable,
    )
    return with_exemptions(entries, relationships, registries=registries)


def suppression_entries(
    registry_entries: pl.DataFrame,
    crm_numbers: pl.DataFrame,
    *,
    stored_listings: pl.DataFrame,
    registries: Sequence[Registry],
    known_numbers: pl.DataFrame,
    scopes_as_sellers: Mapping[str, str] | None,
    unusable: pl.DataFrame,
) -> pl.DataFrame:
    """One row per (number, source, source file, opt-out time and seller scope), in audit order: registry numbers
    and blocks in scope, and CRM do-not-call flags; `seller_scope` is the seller an opt-out binds (its written
    scope read through `scopes_as_sellers`, `sellers.scope_aliases`), null for every seller. They depend on the
    inputs alone, not on the day.

    `stored_listings` are the known numbers stored registries hold (`registry_store.listed_in_snapshots`):
    a stored registry is too large to list whole, so it contributes only the numbers this run can dial.
    `known_numbers` (`phone_e164`, `phone_region`) are the numbers wildcard blocks are resolved against;
    a block's row names its most specific matching prefix. `unusable` entries
    (`unusable_entries.unusable_entries`, scopes as written) suppress the known numbers their digits could mean.
    """
    scopes = registry_scopes(registries)
    as_sellers = {"seller_scope": seller_scope(pl.col("seller_scope"), scopes_as_sellers)}
    resolved = unusable.with_columns(**as_sellers)
    read = query_frames(
        _SUPPRESSION_LIST,
        params={"crm_source": CRM_DO_NOT_CALL},
        registry_entries=registry_entries.with_columns(**as_sellers),
        registry_scopes=scopes,
        crm_numbers=crm_numbers,
        known_numbers=known_numbers.select("phone_e164", "phone_region"),
        digit_matched=digit_matches(resolved, known_numbers, scopes),
    )
    stored = stored_suppressions(stored_listings, scopes)
    return pl.concat([read, stored], how="vertical_relaxed").pipe(_in_audit_order)


def with_exemptions(
    entries: pl.DataFrame, relationships: pl.DataFrame, *, registries: Sequence[Registry]
) -> pl.DataFrame:
    """`suppression_entries` with, on a national or state registry's row for a number with an established business
    relationship that day (`relationships`), the `exemption` and the contact and date behind it: such a row does
    not stop a call. Nothing else is ever exempt. The entries' order is kept."""
    exemptible = exemptions(relationships, registry_scopes(registries))
    return entries.join(exemptible, on=["phone_e164", "source_name"], how="left", maintain_order="left")


def exemptions(relationships: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """(number, registry) pairs an established business relationship lifts: every EBR-exemptible registry."""
    exemptible = scopes.filter("is_ebr_exemptible").select(source_name="registry")
    return relationships.select("phone_e164", "exemption", ebr_contact_id="contact_id", ebr_date="ebr_date").join(
        exemptible, how="cross"
    )


def stored_suppressions(stored_listings: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """A stored registry's rows: each listed number once, within the registry's jurisdiction.

    Built in polars, not DuckDB: the lineage is the same few strings on millions of rows, which polars
    shares rather than copies.
    """
    in_jurisdiction = pl.col("jurisdiction").is_null() | pl.col("jurisdiction").list.contains(pl.col("phone_region"))
    nothing = pl.lit(None, pl.String)
    return (
        stored_listings.join(scopes.select("registry", "jurisdiction"), on="registry")
        .filter(in_jurisdiction)
        .select(
            "phone_e164", source_name="registry", source_file="source_file", source_sha256="source_sha256",
            downloaded_on="downloaded_on", block_prefix=nothing, requested_at=pl.lit(None, pl.Datetime("us", "UTC")),
            seller_scope=nothing, count_entries=pl.lit(1, pl.Int64),
        )
    )  # fmt: skip


def _in_audit_order(suppression: pl.DataFrame) -> pl.DataFrame:
    """Sorted by number (as an integer), then source, file, opt-out time and seller scope: a stable order for audits.

    A five-column sort of millions of rows is slow: the rows are sorted by number alone, and only the
    numbers with several rows are sorted by the tie-breakers and merged back.
    """
    by_number = suppression.with_columns(_number=e164_as_int(pl.col("phone_e164"))).sort("_number")
    number = pl.col("_number")
    is_tied = number.eq_missing(number.shift(1)) | number.eq_missing(number.shift(-1))
    ties = by_number.filter(is_tied).sort("_number", *_TIE_BREAKERS, nulls_last=[False] + [True] * len(_TIE_BREAKERS))
    return by_number.filter(~is_tied).merge_sorted(ties, key="_number").drop("_number")


def registry_scopes(registries: Sequence[Registry]) -> pl.DataFrame:
    """One row per registry: the regions it covers (null for everywhere), and whether an EBR lifts it."""
    return pl.DataFrame(
        {
            "registry": [registry.name for registry in registries],
            "jurisdiction": [registry.covered_regions for registry in registries],
            "is_ebr_exemptible": [registry.is_ebr_exemptible for registry in registries],
        },
        schema={"registry": pl.String, "jurisdiction": pl.List(pl.String), "is_ebr_exemptible": pl.Boolean},
    )


def binding_suppressions(suppression_list: pl.DataFrame) -> pl.DataFrame:
    """The suppression list without its exempt rows: the entries that stop a call (in their seller scope)."""
    return suppression_list.filter(pl.col("exemption").is_null())


def known_numbers(crm_numbers: pl.DataFrame, leads: pl.DataFrame) -> pl.DataFrame:
    """Every valid number in the CRM or a dialler list, with its region: what wildcard blocks can cover.

    In no particular order: the numbers are made distinct as integers, far cheaper than as strings in order.
    """
    numbers = pl.concat(
        [
            crm_numbers.select("phone_e164", "phone_region"),
            leads.filter(pl.col("phone_valid")).select("phone_e164", "phone_region"),
        ]
    )
    return numbers.with_columns(_number=e164_as_int(pl.col("phone_e164"))).unique("_number").drop("_number")


def phones_of(frame: pl.LazyFrame, phone_columns: Sequence[str]) -> pl.LazyFrame:
    """Every valid number of `phone_columns` in a normalised frame, as `phone_e164` and `phone_region` (valid): what
    `known_numbers` reads, and no other column of the frame."""
    return pl.concat(
        [
            frame.filter(pl.col(result_column(column, "valid"))).select(
                phone_e164=pl.col(result_column(column, "e164")),
                phone_region=pl.col(result_column(column, "region")),
                phone_valid=pl.col(result_column(column, "valid")),
            )
            for column in phone_columns
        ]
    )


def future_opt_outs(entries: pl.DataFrame, *, now: datetime) -> pl.DataFrame:
    """Opt-outs dated after the run started: still suppressed (fail closed), but listed for someone to correct."""
    return entries.filter(pl.col("requested_at") > now).select("registry", "source_file", "source_row", "requested_at")


def registries_with_entries(
    suppression_list: pl.DataFrame, registry_entries: pl.DataFrame, snapshots: pl.DataFrame
) -> set[str]:
    """Registries that suppress a number in scope, list a block, or store a number in their jurisdiction.

    Blocks and stored numbers count even when they cover no number this run.
    """
    listed = suppression_list.get_column("source_name").unique().to_list()
    blocking = registry_entries.filter(pl.col("block_prefix").is_not_null()).get_column("registry").unique().to_list()
    stored = snapshots.filter(pl.col("count_numbers") > 0).get_column("registry").to_list()
    return set(listed) | set(blocking) | set(stored)
