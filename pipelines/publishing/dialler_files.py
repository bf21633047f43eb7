"""Dialler files: a clean list laid out as each dialler's list import expects, so it loads without editing.

A profile is a column layout. `generic` is Scrubline's own CSV (`clean/<campaign>.csv`); the others are named
`clean/<campaign>.<profile>.csv`. Every profile keeps the list's calling windows (`window_start_utc`,
`window_end_utc`, `not_before_utc`, ISO 8601 UTC): map them to custom fields, or set the dialler's own calling
hours no wider. Lineage (`source_file`, `source_row`) stays in the Parquet list and the warehouse, not in files
a dialler imports. Where each layout comes from: docs/outputs.md#dialler-files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from pipelines.calling.deferral import TIMING_COLUMNS
from pipelines.phones.masking import country_code_length

GENERIC = "generic"
# The North American Numbering Plan's country code, and its international prefix (how a NANP-based dialler
# reaches any other country).
_NANP = "1"
_NANP_INTERNATIONAL_PREFIX = "011"


def generic(clean: pl.DataFrame) -> pl.DataFrame:
    """Scrubline's CSV: the clean list without its lineage columns."""
    return clean.select(
        "campaign", "lead_id", "phone_e164", "phone_type", "phone_region", "exemption_reason", *TIMING_COLUMNS
    )


def vicidial(clean: pl.DataFrame) -> pl.DataFrame:
    """VICIdial's list loader: the lead's id as `vendor_lead_code`, the campaign as `source_id`, the country calling
    code as `phone_code` and the national number as `phone_number` (digits only), as `vicidial_list` stores them."""
    digits = pl.col("phone_e164").str.strip_prefix("+")
    code_length = country_code_length(digits)
    return clean.select(
        pl.col("lead_id").alias("vendor_lead_code"),
        pl.col("campaign").alias("source_id"),
        digits.str.slice(0, code_length).alias("phone_code"),
        digits.str.slice(code_length).alias("phone_number"),
        *TIMING_COLUMNS,
    )


def five9(clean: pl.DataFrame) -> pl.DataFrame:
    """Five9 contact lists: the number in `number1` as a North American dialler dials it (ten digits for +1
    numbers, `011` and the international number for any other), the lead's id as `lead_id` (a custom contact
    field, create it once)."""
    digits = pl.col("phone_e164").str.strip_prefix("+")
    is_nanp = digits.str.starts_with(_NANP)
    number1 = (
        pl.when(is_nanp)
        .then(digits.str.slice(len(_NANP)))
        .otherwise(pl.concat_str(pl.lit(_NANP_INTERNATIONAL_PREFIX), digits))
    )
    return clean.select(number1.alias("number1"), "lead_id", *TIMING_COLUMNS)


def genesys(clean: pl.DataFrame) -> pl.DataFrame:
    """Genesys Cloud contact lists: user-chosen columns; `phone_e164` is the one to mark as a phone column,
    `lead_id` the one to key on."""
    return clean.select("lead_id", "campaign", "phone_e164", "phone_type", *TIMING_COLUMNS)


PROFILES: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    GENERIC: generic,
    "vicidial": vicidial,
    "five9": five9,
    "genesys": genesys,
}


def dialler_file_path(campaign: str, profile: str) -> str:
    """Where a campaign's file in `profile` is published, relative to the run directory (stable across runs)."""
    return f"clean/{campaign}.csv" if profile == GENERIC else f"clean/{campaign}.{profile}.csv"


def dialler_files(clean: pl.DataFrame, *, campaign: str, profiles: Sequence[str]) -> dict[str, pl.DataFrame]:
    """Each requested profile's file of one campaign's clean list, by path relative to the run directory."""
    return {dialler_file_path(campaign, profile): PROFILES[profile](clean) for profile in profiles}


def list_files(campaign: str, profiles: Sequence[str]) -> list[str]:
    """A campaign's published list: its Parquet file, then its file in each profile; what its certificate names."""
    return [f"clean/{campaign}.parquet", *(dialler_file_path(campaign, profile) for profile in profiles)]
