"""Suppression entries that are not a valid number: reported, and still suppressing what they could mean.

A typo in an opt-out must never make a number callable. An entry of a registry read row by row (not a
block), or a CRM do-not-call flag on a phone value, that the E.164 engine does not call valid is
*unusable*. It is listed per source with its file and row, and it still suppresses, by the digit rule:

1. take the entry's ASCII digits, ignoring everything else (`201.555.068.0` → `2015550680`);
2. read them three ways: as written, without a leading international prefix `00`, and without `011`;
   from each drop any leading zeros (a national prefix such as the UK's `0`);
3. the entry covers every known number (CRM or dialler, in the registry's jurisdiction) whose E.164
   digits (`12015550680`: country code and national number) or whose national significant number
   without leading zeros (`2015550680`) equal one of those readings.

A registry with more than its `max_invalid_share` of unusable entries is a broken download, not a list;
so is a file whose last line has no line break and is unusable (`702565`): it was cut short.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pipelines.config import CrmSource, Registry
from pipelines.masking import country_code_length, masked_digits

UNUSABLE_SCHEMA = {
    "source_name": pl.String, "source_file": pl.String, "source_row": pl.Int64, "source_sha256": pl.String,
    "downloaded_on": pl.Date, "requested_at": pl.Datetime("us", "UTC"), "seller_scope": pl.String,
    "phone_raw": pl.String, "phone_reason": pl.String,
}  # fmt: skip
MATCH_COLUMNS = (
    "phone_e164", "source_name", "source_file", "source_sha256", "downloaded_on", "block_prefix", "requested_at",
    "seller_scope",
)  # fmt: skip
EXAMPLES_PER_SOURCE = 5
_INTERNATIONAL_PREFIXES = ("00", "011")


def unusable_entries(
    registry_entries: pl.DataFrame, crm: pl.DataFrame, *, source: CrmSource, crm_source_name: str
) -> pl.DataFrame:
    """Every unusable entry (`UNUSABLE_SCHEMA`): the registries' and the CRM's, by source, file and row."""
    return pl.concat(
        [unusable_registry_entries(registry_entries), unusable_crm_flags(crm, source=source, name=crm_source_name)]
    ).sort("source_name", "source_file", "source_row")


def unusable_registry_entries(registry_entries: pl.DataFrame) -> pl.DataFrame:
    """Normalised registry entries that are neither a valid number nor a block."""
    is_unusable = ~pl.col("phone_valid").fill_null(False) & pl.col("block_prefix").is_null()
    return registry_entries.filter(is_unusable).select(
        source_name="registry", **{name: name for name in list(UNUSABLE_SCHEMA)[1:-2]}, phone_raw="phone",
        phone_reason="phone_reason",
    )  # fmt: skip


def unusable_crm_flags(crm: pl.DataFrame, *, source: CrmSource, name: str) -> pl.DataFrame:
    """Phone values of do-not-call CRM records that are not valid numbers; a blank cell holds no number."""
    return pl.concat(
        [
            crm.filter(
                pl.col("is_do_not_call") & ~pl.col(f"{column}_valid") & (pl.col(f"{column}_reason") != "empty")
            ).select(
                source_name=pl.lit(name),
                source_file="source_file",
                source_row="source_row",
                source_sha256="source_sha256",
                downloaded_on=pl.lit(None, pl.Date),
                requested_at=pl.lit(None, UNUSABLE_SCHEMA["requested_at"]),
                seller_scope=pl.lit(None, pl.String),
                phone_raw=pl.col(column),
                phone_reason=pl.col(f"{column}_reason"),
            )
            for column in source.phone_columns
        ]
    )


def digit_matches(unusable: pl.DataFrame, known_numbers: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """The known numbers each unusable entry covers by the digit rule, within its registry's jurisdiction, as
    suppression rows (`MATCH_COLUMNS`); CRM flags, in no registry, cover everywhere."""
    readings = unusable.with_columns(_digits=_entry_readings(pl.col("phone_raw"))).explode("_digits")
    numbers = known_numbers.select(
        "phone_e164", "phone_region", _digits=_number_readings(pl.col("phone_e164"))
    ).explode("_digits")
    in_jurisdiction = pl.col("jurisdiction").is_null() | pl.col("jurisdiction").list.contains(pl.col("phone_region"))
    return (
        readings.filter(pl.col("_digits") != "")
        .join(numbers, on="_digits")
        .join(scopes.select(source_name="registry", jurisdiction="jurisdiction"), on="source_name", how="left")
        .filter(in_jurisdiction)
        .select(*MATCH_COLUMNS[:5], pl.lit(None, pl.String).alias("block_prefix"), *MATCH_COLUMNS[6:])
        .unique(maintain_order=True)
    )


def _entry_readings(raw: pl.Expr) -> pl.Expr:
    """The digit rule's readings of a written entry: as written, without `00`, without `011`; leading zeros off."""
    digits = raw.str.replace_all(r"[^0-9]", "")
    readings = [digits, *(digits.str.strip_prefix(prefix) for prefix in _INTERNATIONAL_PREFIXES)]
    return pl.concat_list([reading.str.strip_chars_start("0") for reading in readings]).list.unique()


def _number_readings(phone_e164: pl.Expr) -> pl.Expr:
    """A valid number's E.164 digits, and its national significant number without leading zeros."""
    digits = phone_e164.str.strip_prefix("+")
    national = digits.str.slice(country_code_length(digits)).str.strip_chars_start("0")
    return pl.concat_list(digits, national).list.unique()


def unusable_shares(registry_entries: pl.DataFrame, registries: Sequence[Registry]) -> pl.DataFrame:
    """One row per registry read row by row: its entries, the unusable ones, their share and its limit."""
    limits = pl.DataFrame(
        {
            "registry": [registry.name for registry in registries],
            "max_invalid_share": [registry.max_invalid_share for registry in registries],
        },
        schema={"registry": pl.String, "max_invalid_share": pl.Float64},
    )
    is_unusable = ~pl.col("phone_valid").fill_null(False) & pl.col("block_prefix").is_null()
    return (
        registry_entries.group_by("registry")
        .agg(count_entries=pl.len().cast(pl.Int64), count_unusable=is_unusable.sum().cast(pl.Int64))
        .join(limits, on="registry")
        .with_columns(unusable_share=pl.col("count_unusable") / pl.col("count_entries"))
        .with_columns(is_within_limit=pl.col("unusable_share") <= pl.col("max_invalid_share"))
        .sort("registry")
    )


def cut_downloads(registry_entries: pl.DataFrame) -> pl.DataFrame:
    """(registry, source file, row) of files whose last line has no line break and is no valid number or block: a
    download cut short, whatever the share of unusable entries."""
    is_unusable = ~pl.col("phone_valid").fill_null(False) & pl.col("block_prefix").is_null()
    return (
        registry_entries.filter(pl.col("is_unterminated") & is_unusable)
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
        f"registry '{name}' has {count_unusable} of {count_entries} entries ({share:.1%}) that are not valid "
        f"numbers, more than its max_invalid_share {limit:.1%}; the download is likely broken: download it again, "
        "or correct the entries listed in the suppression_list metadata"
        for name, count_entries, count_unusable, share, limit in shares.filter(~pl.col("is_within_limit"))
        .select("registry", "count_entries", "count_unusable", "unusable_share", "max_invalid_share")
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
