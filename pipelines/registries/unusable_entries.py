"""Suppression entries that are not a valid number, or are written with letters: reported, and still suppressing
every number they could mean.

A typo in an opt-out must never make a number callable: an unusable entry suppresses by the digit rule (its
digits, and again with O read as 0 and I or l as 1, without any region's international or national prefix,
against every known number's E.164 digits and national significant number). A registry with more than its
`max_invalid_share` of unusable entries, or whose last line is cut short, is a broken download.
The rule, its examples and its sources: docs/registries.md, Unusable entries.
"""

from __future__ import annotations

from collections.abc import Sequence

import phonenumbers
import polars as pl

from pipelines.config import CrmSource, Registry
from pipelines.phones.e164 import result_column
from pipelines.phones.masking import country_code_length, masked_digits

UNUSABLE_SCHEMA = {
    "source_name": pl.String, "source_file": pl.String, "source_row": pl.Int64, "source_sha256": pl.String,
    "downloaded_on": pl.Date, "requested_at": pl.Datetime("us", "UTC"), "seller_scope": pl.String,
    "phone_raw": pl.String, "phone_reason": pl.String,
}  # fmt: skip
EXAMPLES_PER_SOURCE = 5
_METADATA = [phonenumbers.PhoneMetadata.metadata_for_region(region) for region in phonenumbers.SUPPORTED_REGIONS]
# Every region's international prefix (a pattern) and national prefix, to read an entry written anywhere.
_INTERNATIONAL_PREFIXES = sorted(
    {metadata.international_prefix for metadata in _METADATA if metadata.international_prefix}
)
_NATIONAL_PREFIXES = sorted({metadata.national_prefix for metadata in _METADATA if metadata.national_prefix})
# Letters typed for the digits they look like; phonenumbers would read them as keypad letters instead.
_LOOK_ALIKE_DIGITS = {"O": "0", "o": "0", "I": "1", "i": "1", "l": "1"}
# An extension or a `tel:` scheme carries letters without being a typo.
_NOT_A_TYPO = r"(?i)^tel:|(?:;ext=|ext\.?|extension|x|#)\s*[0-9]*\s*$"
_IS_NUMBER_LIST_ENTRY = pl.col("block_prefix").is_null()


def is_unusable(phone: pl.Expr, phone_valid: pl.Expr) -> pl.Expr:
    """Not a valid number, or written with letters (which phonenumbers reads as keypad digits)."""
    has_letters = phone.str.replace_all(_NOT_A_TYPO, "").str.contains("[A-Za-z]").fill_null(False)
    return ~phone_valid.fill_null(False) | has_letters


def unusable_entries(
    registry_entries: pl.DataFrame, crm: pl.DataFrame, *, source: CrmSource, crm_source_name: str
) -> pl.DataFrame:
    """Every unusable entry (`UNUSABLE_SCHEMA`): the registries' and the CRM's, by source, file and row."""
    return pl.concat(
        [unusable_registry_entries(registry_entries), unusable_crm_flags(crm, source=source, name=crm_source_name)]
    ).sort("source_name", "source_file", "source_row")


def unusable_registry_entries(registry_entries: pl.DataFrame) -> pl.DataFrame:
    """Normalised registry entries, not blocks, that are unusable: no valid number, or written with letters."""
    return registry_entries.filter(_is_unusable_entry()).select(
        source_name="registry", **{name: name for name in list(UNUSABLE_SCHEMA)[1:-2]}, phone_raw="phone",
        phone_reason="phone_reason",
    )  # fmt: skip


def unusable_crm_flags(crm: pl.DataFrame, *, source: CrmSource, name: str) -> pl.DataFrame:
    """Unusable phone values of do-not-call CRM records; a blank cell holds no number."""
    return pl.concat(
        [
            crm.filter(
                pl.col("is_do_not_call")
                & is_unusable(pl.col(column), pl.col(result_column(column, "valid")))
                & (pl.col(result_column(column, "reason")).fill_null("") != "empty")
            ).select(
                source_name=pl.lit(name),
                source_file="source_file",
                source_row="source_row",
                source_sha256="source_sha256",
                downloaded_on=pl.lit(None, pl.Date),
                requested_at=pl.lit(None, UNUSABLE_SCHEMA["requested_at"]),
                seller_scope=pl.lit(None, pl.String),
                phone_raw=pl.col(column),
                phone_reason=pl.col(result_column(column, "reason")),
            )
            for column in source.phone_columns
        ]
    )


def digit_matches(unusable: pl.DataFrame, known_numbers: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """The known numbers each unusable entry covers by the digit rule, within its registry's jurisdiction, as
    suppression rows; CRM flags, in no registry, cover everywhere."""
    readings = unusable.with_columns(_digits=entry_readings(pl.col("phone_raw"))).explode("_digits")
    numbers = known_numbers.select(
        "phone_e164", "phone_region", _digits=_number_readings(pl.col("phone_e164"))
    ).explode("_digits")
    in_jurisdiction = pl.col("jurisdiction").is_null() | pl.col("jurisdiction").list.contains(pl.col("phone_region"))
    return (
        readings.filter(pl.col("_digits") != "")
        .join(numbers, on="_digits")
        .join(scopes.select(source_name="registry", jurisdiction="jurisdiction"), on="source_name", how="left")
        .filter(in_jurisdiction)
        .select(
            "phone_e164",
            "source_name",
            "source_file",
            "source_sha256",
            "downloaded_on",
            block_prefix=pl.lit(None, pl.String),
            requested_at="requested_at",
            seller_scope="seller_scope",
        )  # fmt: skip
        .unique(maintain_order=True)
    )


def entry_readings(raw: pl.Expr) -> pl.Expr:
    """The digit rule's readings of a written entry: its digits (and its look-alike letters as digits), as
    written and without any region's international or national prefix."""
    written = [
        raw.str.replace_all(r"[^0-9]", ""),
        raw.str.replace_many(_LOOK_ALIKE_DIGITS).str.replace_all(r"[^0-9]", ""),
    ]
    readings = [
        reading
        for digits in written
        for reading in (
            digits,
            *(digits.str.replace(f"^(?:{prefix})", "") for prefix in _INTERNATIONAL_PREFIXES),
            *(digits.str.strip_prefix(prefix) for prefix in _NATIONAL_PREFIXES),
        )
    ]
    return pl.concat_list(readings).list.unique()


def _number_readings(phone_e164: pl.Expr) -> pl.Expr:
    """A valid number's E.164 digits, and its national significant number."""
    digits = phone_e164.str.strip_prefix("+")
    return pl.concat_list(digits, digits.str.slice(country_code_length(digits))).list.unique()


def unusable_shares(registry_entries: pl.DataFrame, registries: Sequence[Registry]) -> pl.DataFrame:
    """One row per registry read row by row: its entries, the unusable ones, their share and its limit."""
    counts = registry_entries.group_by("registry").agg(
        download=pl.lit(None, pl.String),
        count_entries=pl.len().cast(pl.Int64),
        count_unusable=_is_unusable_entry().sum().cast(pl.Int64),
    )
    return _within_limits(counts, registries)


def stored_unusable_shares(snapshots: pl.DataFrame, registries: Sequence[Registry]) -> pl.DataFrame:
    """One row per download of each stored registry (`registry_snapshots`): its full list, then each change
    list's additions, with its distinct numbers, the unusable ones its snapshot leaves out, and their share."""
    readings = snapshots.select("registry", pl.col("readings").explode().struct.unnest())
    counts = readings.filter(pl.col("count_read").is_not_null()).select(
        "registry",
        download=pl.coalesce(pl.lit("change list ") + pl.col("change_list"), pl.lit("full list")),
        count_entries="count_read",
        count_unusable="count_unusable",
    )
    return _within_limits(counts, registries)


def _within_limits(counts: pl.DataFrame, registries: Sequence[Registry]) -> pl.DataFrame:
    """`counts` with each registry's `max_invalid_share`, the unusable share (0 of nothing read) and whether it is
    within the limit."""
    limits = pl.DataFrame(
        {
            "registry": [registry.name for registry in registries],
            "max_invalid_share": [registry.max_invalid_share for registry in registries],
        },
        schema={"registry": pl.String, "max_invalid_share": pl.Float64},
    )
    share = pl.when(pl.col("count_entries") > 0).then(pl.col("count_unusable") / pl.col("count_entries"))
    return (
        counts.join(limits, on="registry")
        .with_columns(unusable_share=share.otherwise(0.0))
        .with_columns(is_within_limit=pl.col("unusable_share") <= pl.col("max_invalid_share"))
        .sort("registry", "download", nulls_last=False)
    )


def cut_downloads(registry_entries: pl.DataFrame) -> pl.DataFrame:
    """(registry, source file, row) of files whose last line has no line break and is no valid number or block: a
    download cut short, whatever the share of unusable entries."""
    return (
        registry_entries.filter(pl.col("is_unterminated") & _is_unusable_entry())
        .select("registry", "source_file", "source_row")
        .sort("registry", "source_file")
    )


def cut_download_problems(cut: pl.DataFrame) -> list[str]:
    """One sentence per file cut short."""
    return [
        f"registry '{name}': {source_file} ends in row {row} with no line break, and that row is no valid number: "
        "the download was cut short; download it again"
        for name, source_file, row in cut.iter_rows()
    ]


def unusable_share_problems(shares: pl.DataFrame) -> list[str]:
    """One sentence per registry over its limit: a mostly unreadable registry is a broken download."""
    return [
        f"registry '{name}'{f' ({download})' if download else ''} has {count_unusable} of {count_entries} "
        f"{'entries' if download is None else 'distinct numbers'} ({share:.1%}) that are not valid numbers, more "
        f"than its max_invalid_share {limit:.1%}; the download is likely broken: download it again"
        + (", or correct the entries listed in the suppression_list metadata" if download is None else "")
        for name, download, count_entries, count_unusable, share, limit in shares.filter(~pl.col("is_within_limit"))
        .select("registry", "download", "count_entries", "count_unusable", "unusable_share", "max_invalid_share")
        .iter_rows()
    ]


def unusable_report(unusable: pl.DataFrame) -> list[dict[str, object]]:
    """Per source: how many entries are unusable, and the first few with file, row, reason and masked value."""
    return (
        unusable.group_by("source_name", maintain_order=True)
        .agg(
            count_unusable=pl.len(),
            examples=pl.struct(
                "source_file", "source_row", "phone_reason", phone_masked=masked_digits(pl.col("phone_raw"))
            ).head(EXAMPLES_PER_SOURCE),
        )
        .to_dicts()
    )


def _is_unusable_entry() -> pl.Expr:
    """A registry entry that is a number (not a block) and unusable."""
    return _IS_NUMBER_LIST_ENTRY & is_unusable(pl.col("phone"), pl.col("phone_valid"))
