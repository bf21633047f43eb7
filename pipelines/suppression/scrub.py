"""Scrubbing dialler lists against the suppression list.

Every dialler record gets exactly one `outcome`: `clean`, `suppressed`, `invalid` or `quarantined`,
with a `reason` for every outcome but clean. Suppressed rows list every matching source (name, file,
checksum, download date and, for a wildcard, the block that covers the number; for an opt-out, when
it was requested and the seller it binds); an opt-out scoped to a seller binds that seller's every campaign.
A national or state registry entry lifted by an established business relationship does not
suppress: the row lists it under `exemptions` (with `exemption_reason`, e.g. `us_dnc:ebr_purchase`),
clean or not. A number repeated within a campaign is dialled once and its later rows are suppressed
as duplicates.

A fifth outcome, `deferred`, is decided after the scrub (`pipelines.calling.deferral.defer_uncallable`):
a clean row whose number cannot be called in the list's day. The reconciliation counts all five.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pipelines.phones.e164 import e164_as_int

OUTCOMES = ("clean", "suppressed", "invalid", "quarantined", "deferred")
DUPLICATE_IN_CAMPAIGN = "duplicate_in_campaign"
# The scrub's input: one dialler row, normalised, with its seller and lineage (`canonical_leads`).
SCRUB_SCHEMA = {
    "campaign": pl.String, "seller": pl.String, "lead_id": pl.String, "phone_raw": pl.String, "phone_e164": pl.String,
    "phone_valid": pl.Boolean, "phone_type": pl.String, "phone_region": pl.String, "phone_reason": pl.String,
    "source_file": pl.String, "source_row": pl.Int64, "source_sha256": pl.String, "quarantine_reason": pl.String,
    "raw_record": pl.String,
}  # fmt: skip
SCRUB_COLUMNS = tuple(SCRUB_SCHEMA)

SOURCE_FIELDS = ("source_name", "source_file", "source_sha256", "downloaded_on", "block_prefix")
SUPPRESSION_SOURCE_FIELDS = (*SOURCE_FIELDS, "requested_at", "seller_scope")
EXEMPTION_FIELDS = (*SOURCE_FIELDS, "exemption", "ebr_contact_id", "ebr_date")
_E164_SPAN = 10**15  # E.164 numbers have at most 15 digits
_GATHER_ROWS = 1 << 18
# Each number's sources are listed by source, file, opt-out time, seller scope and block.
_SOURCE_ORDER = ("source_name", "source_file", "requested_at", "seller_scope", "block_prefix")


def canonical_leads(
    dialler: pl.DataFrame, *, id_column: str, phone_column: str, sellers: Mapping[str, str]
) -> pl.DataFrame:
    """Dialler records under Scrubline's own column names, whatever the export called them, with each campaign's
    seller (`sellers`, by campaign: `pipelines.suppression.sellers.campaign_sellers`)."""
    return dialler.select(
        campaign="campaign",
        seller=pl.col("campaign").replace_strict(dict(sellers), return_dtype=pl.String),
        lead_id=pl.col(id_column),
        phone_raw=pl.col(phone_column),
        **{
            f"phone_{suffix}": pl.col(f"{phone_column}_{suffix}")
            for suffix in ("e164", "valid", "type", "region", "reason")
        },
        source_file="source_file",
        source_row="source_row",
        source_sha256="source_sha256",
        quarantine_reason="quarantine_reason",
        raw_record="raw_record",
    )


def scrub_leads(leads: pl.DataFrame, suppression_list: pl.DataFrame) -> pl.DataFrame:
    """Classify every canonical lead row; one output row per input row, ordered by campaign, file and row."""
    rows = _in_source_order(leads.select(SCRUB_COLUMNS))
    keys = rows.select("campaign", "seller", _number=e164_as_int(pl.col("phone_e164"))).with_columns(
        _key=_campaign_number_key()
    )
    firsts = keys.with_row_index("_row").unique("_key", keep="first")
    is_repeat = pl.repeat(True, rows.height, eager=True).alias("is_repeat").scatter(firsts.get_column("_row"), False)
    matches = _matches(firsts, suppression_list)
    at_match = (
        keys.select("_key")
        .join(matches.select("_key").with_row_index("_match"), on="_key", how="left", maintain_order="left")
        .get_column("_match")
    )
    answers = _gathered(matches.drop("_key"), at_match)
    decided = pl.concat(
        [rows.select("quarantine_reason", "phone_valid", "phone_reason").rechunk(), answers, is_repeat.to_frame()],
        how="horizontal",
    ).select(outcome=_outcome(), reason=_reason())
    # The wide rows are never joined, gathered or realigned: only their keys are; the answers go beside them.
    return rows.hstack([*answers.select("suppression_sources", "exemptions", "exemption_reason"), *decided])


def _in_source_order(rows: pl.DataFrame) -> pl.DataFrame:
    """`rows` sorted by campaign, file and row number.

    Dialler lists usually arrive in that order: checking it is far cheaper than sorting 10M wide rows.
    """
    campaign, file, row = pl.col("campaign"), pl.col("source_file"), pl.col("source_row")
    follows_previous = (campaign > campaign.shift()) | (
        (campaign == campaign.shift()) & ((file > file.shift()) | ((file == file.shift()) & (row > row.shift())))
    )
    if rows.select(follows_previous.slice(1).all(ignore_nulls=False)).item():
        return rows
    return rows.sort("campaign", "source_file", "source_row")


def _gathered(frame: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """`frame`'s rows at `rows` (all null where `rows` is null), gathered a slice of rows at a time.

    Gathering lists of structs holds a transient many times the result while it runs (0.9 GB for 2M rows' lineage,
    gone once done); slice by slice it stays that of one slice.
    """
    return pl.concat(
        frame.select(pl.all().gather(rows.slice(start, _GATHER_ROWS)))
        for start in range(0, max(len(rows), 1), _GATHER_ROWS)
    )


def _campaign_number_key() -> pl.Expr:
    """One 64-bit key per (campaign, number): the campaign's category code, then the 15 digits E.164 allows.

    Hashing one integer is far cheaper than a campaign string and a number string, at 10M rows.
    """
    campaign_code = pl.col("campaign").cast(pl.Categorical).to_physical().cast(pl.Int64)
    return campaign_code * _E164_SPAN + pl.col("_number")


def _matches(firsts: pl.DataFrame, suppression_list: pl.DataFrame) -> pl.DataFrame:
    """Per `_key` of `firsts` (`_key`, `seller`, `_number`): the entries binding its seller, and those lifted.

    `suppression_sources` (ordered by source, file, time) and `source_names` are null when nothing binds;
    `exemptions` and `exemption_reason` (e.g. `us_dnc:ebr_purchase`) are null when nothing is lifted.
    The join carries only integers; each matching entry's fields are then gathered by its row in the list.
    """
    number = pl.col("_number")
    entries = (
        suppression_list.select(
            "seller_scope", _number=e164_as_int(pl.col("phone_e164")), _entry=pl.int_range(pl.len(), dtype=pl.UInt32)
        )
        .sort("_number")
        .with_columns(_is_only=~(number.eq_missing(number.shift(1)) | number.eq_missing(number.shift(-1))))
    )
    applicable = (
        firsts.join(entries, on="_number")
        .filter(pl.col("seller_scope").is_null() | (pl.col("seller_scope") == pl.col("seller")))
        .select("_entry", "_key", "_is_only")
    )
    fields = suppression_list.select(*SUPPRESSION_SOURCE_FIELDS, *EXEMPTION_FIELDS[len(SOURCE_FIELDS) :]).rechunk()
    matched = fields[applicable.get_column("_entry")].hstack(applicable.select("_key", "_is_only"))
    return pl.concat([_only_entries(matched.filter("_is_only")), _several_entries(matched.filter(~pl.col("_is_only")))])


_IS_BINDING = pl.col("exemption").is_null()
_SOURCE = pl.struct(*SUPPRESSION_SOURCE_FIELDS)
_EXEMPTION = pl.struct(*EXEMPTION_FIELDS)
_EXEMPTION_REASON = pl.concat_str("source_name", pl.lit(":"), "exemption")


def _only_entries(matched: pl.DataFrame) -> pl.DataFrame:
    """The keys whose number has one entry: one-item lists, built without grouping (most keys, at scale)."""
    return matched.select(
        "_key",
        suppression_sources=pl.when(_IS_BINDING).then(pl.concat_list(_SOURCE)),
        source_names=pl.when(_IS_BINDING).then("source_name"),
        exemptions=pl.when(~_IS_BINDING).then(pl.concat_list(_EXEMPTION)),
        exemption_reason=pl.when(~_IS_BINDING).then(_EXEMPTION_REASON),
    )


def _several_entries(matched: pl.DataFrame) -> pl.DataFrame:
    """The keys whose number has several entries: lists in source order, and distinct names joined by commas."""
    return (
        matched.sort(*_SOURCE_ORDER, nulls_last=True)
        .group_by("_key")
        .agg(
            suppression_sources=_SOURCE.filter(_IS_BINDING),
            source_names=pl.col("source_name").filter(_IS_BINDING).unique().sort(),
            exemptions=_EXEMPTION.filter(~_IS_BINDING),
            exemption_reason=_EXEMPTION_REASON.filter(~_IS_BINDING).unique().sort(),
        )
        .with_columns(
            _unless_empty("suppression_sources"),
            _unless_empty("source_names").list.join(","),
            _unless_empty("exemptions"),
            _unless_empty("exemption_reason").list.join(","),
        )
    )


def _unless_empty(column: str) -> pl.Expr:
    """A list column with its empty lists as nulls: nothing binds (or nothing is lifted) there."""
    return pl.when(pl.col(column).list.len() > 0).then(column)


def _outcome() -> pl.Expr:
    """Quarantined before invalid before suppressed (a listed number, or a repeat in its campaign) before clean."""
    return (
        pl.when(pl.col("quarantine_reason").is_not_null())
        .then(pl.lit("quarantined"))
        .when(~pl.col("phone_valid"))
        .then(pl.lit("invalid"))
        .when(pl.col("suppression_sources").is_not_null() | pl.col("is_repeat"))
        .then(pl.lit("suppressed"))
        .otherwise(pl.lit("clean"))
    )


def _reason() -> pl.Expr:
    """Why a row is not clean: the quarantine or parse reason, the suppressing sources, or a repeat."""
    return (
        pl.when(pl.col("quarantine_reason").is_not_null())
        .then("quarantine_reason")
        .when(~pl.col("phone_valid"))
        .then("phone_reason")
        .when(pl.col("suppression_sources").is_not_null())
        .then("source_names")
        .when("is_repeat")
        .then(pl.lit(DUPLICATE_IN_CAMPAIGN))
    )
