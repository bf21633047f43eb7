"""The decision for any number, as the nightly run would make it: the same engine, the same rules, the same sources.

A checked batch is scrubbed as a one-campaign dialler list of its own through the run's functions:
`normalise_phones`, `build_suppression_list` (every registry entry and block, the stored snapshot, CRM
do-not-call flags, unusable entries by their digits, EBR exemptions), `scrub_leads`, then `number_windows`
and `defer_uncallable` for the calling window of the clock's day. Only what depends on the checked numbers
is computed per request; the rest (`Prepared`) once per published run, day and journal version.

A number repeated within a campaign is a property of a list, not of the number: the service answers every
occurrence with the decision of the number itself, which is the decision the nightly run gives its first row
(its later rows are suppressed as `duplicate_in_campaign` only because the list already holds it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl

from pipelines.calling.deferral import defer_uncallable, number_windows
from pipelines.config import Registry
from pipelines.inputs.crm import crm_numbers
from pipelines.phones.e164 import e164_as_int, normalise_phones
from pipelines.registries.entries import normalise_registries
from pipelines.registries.store import LISTED_SCHEMA
from pipelines.registries.unusable_entries import unusable_entries
from pipelines.serving.journal_file import JOURNAL_PATH, LIVE_OPT_OUTS
from pipelines.serving.published import ServedRun
from pipelines.suppression.relationships import established_relationships
from pipelines.suppression.scrub import scrub_leads
from pipelines.suppression.sellers import scope_aliases
from pipelines.suppression.suppression_list import CRM_DO_NOT_CALL, build_suppression_list

# The campaign a batch is scrubbed as when the caller names none (one seller only).
ANY_CAMPAIGN = "*"
DECISION_COLUMNS = (
    "phone_raw", "phone_e164", "phone_valid", "phone_type", "phone_region", "phone_reason", "outcome", "reason",
    "suppression_sources", "exemptions", "exemption_reason", "window_start_utc", "window_end_utc", "not_before_utc",
)  # fmt: skip


def live_registry(default_region: str) -> Registry:
    """The journal as the nightly run configures it (`pipelines.config.with_live_opt_outs`)."""
    return Registry(
        name=LIVE_OPT_OUTS, format="plain", path=JOURNAL_PATH, phone_column="phone",
        requested_at_column="requested_at", seller_column="seller", region=default_region,
    )  # fmt: skip


@dataclass(frozen=True)
class Prepared:
    """What every decision of one day reads, whatever the numbers: entries (the journal's included) with their
    numbers as integers, CRM numbers, EBR relationships on the day, unusable entries, every registry's scope."""

    run: ServedRun
    day_key: tuple[str, object, int]
    registries: list[Registry]
    entries: pl.DataFrame
    blocks: pl.DataFrame
    crm_numbers: pl.DataFrame
    relationships: pl.DataFrame
    unusable: pl.DataFrame
    scopes_as_sellers: dict[str, str] | None


def prepare(run: ServedRun, live_entries: pl.DataFrame, *, now: datetime, journal_version: int) -> Prepared:
    """The per-day, per-journal-version part of every decision (see `Prepared`)."""
    config = run.config
    live = live_registry(config.default_region)
    registries = [*config.registries, live]
    live_normalised = normalise_registries(live_entries, [live]) if live_entries.height else None
    entries = pl.concat(
        [run.registry_entries, *([live_normalised] if live_normalised is not None else [])], how="vertical_relaxed"
    )
    numbers = crm_numbers(run.crm_contacts, config.crm)
    relationships = established_relationships(
        numbers,
        entries,
        source=config.crm,
        opt_out_registries=[registry.name for registry in registries if not registry.is_ebr_exemptible],
        today=now.astimezone(UTC).date(),
    )
    unusable = unusable_entries(entries, run.crm_contacts, source=config.crm, crm_source_name=CRM_DO_NOT_CALL)
    with_ints = entries.with_columns(_number=e164_as_int(pl.col("phone_e164")))
    return Prepared(
        run=run,
        day_key=(run.run_id, now.astimezone(UTC).date(), journal_version),
        registries=registries,
        entries=with_ints.filter(pl.col("block_prefix").is_null()),
        blocks=with_ints.filter(pl.col("block_prefix").is_not_null()),
        crm_numbers=numbers.with_columns(_number=e164_as_int(pl.col("phone_e164"))),
        relationships=relationships,
        unusable=unusable,
        scopes_as_sellers=scope_aliases(config),
    )


def decide(
    prepared: Prepared, values: Sequence[str], *, region: str, campaign: str | None, now: datetime
) -> pl.DataFrame:
    """One row per value, in order (`DECISION_COLUMNS`): the number as the engine reads it in `region`, its outcome
    (`clean`, `suppressed`, `invalid`, `deferred`) and reason, the sources that bind it for the campaign's seller
    (with lineage) or are lifted by an EBR, and for a clean or deferred number the clock's day's calling window."""
    run = prepared.run
    seller = run.campaigns[campaign] if campaign is not None else run.config.seller_of(ANY_CAMPAIGN)
    leads = _leads(values, region=region, campaign=campaign or ANY_CAMPAIGN, seller=str(seller))
    known = leads.filter(pl.col("phone_valid")).select("phone_e164", "phone_region").unique("phone_e164")
    keys = known.select(e164_as_int(pl.col("phone_e164"))).to_series()
    is_known = pl.col("_number").is_in(keys.implode())
    suppression = build_suppression_list(
        pl.concat([prepared.entries.filter(is_known), prepared.blocks]).drop("_number"),
        prepared.crm_numbers.filter(is_known).drop("_number"),
        stored_listings=_stored_listings(run, known),
        registries=prepared.registries,
        known_numbers=known,
        relationships=prepared.relationships,
        scopes_as_sellers=prepared.scopes_as_sellers,
        unusable=prepared.unusable,
    )
    scrubbed = scrub_leads(leads, suppression)
    clean = scrubbed.filter(pl.col("outcome") == "clean")
    windows = number_windows(clean, run.call_records, rules=run.config.calling_time.rules, as_of=now)
    decided = defer_uncallable(scrubbed, windows).select(DECISION_COLUMNS)
    return _each_number_as_itself(decided, leads.get_column("source_row"))


def _leads(values: Sequence[str], *, region: str, campaign: str, seller: str) -> pl.DataFrame:
    """The values as canonical dialler rows of one campaign, in order (`source_row` is the position, from 1)."""
    raw = pl.DataFrame({"phone": list(values)}, schema={"phone": pl.String})
    normalised = normalise_phones(raw, "phone", region=region)
    nothing = pl.lit(None, pl.String)
    return normalised.select(
        campaign=pl.lit(campaign), seller=pl.lit(seller), lead_id=pl.int_range(1, pl.len() + 1).cast(pl.String),
        phone_raw="phone", phone_e164="phone_e164", phone_valid=pl.col("phone_valid").fill_null(False),
        phone_type="phone_type", phone_region="phone_region", phone_reason="phone_reason",
        source_file=pl.lit("request"), source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        source_sha256=nothing, quarantine_reason=nothing, raw_record=nothing,
    )  # fmt: skip


def _stored_listings(run: ServedRun, known: pl.DataFrame) -> pl.DataFrame:
    """The checked numbers each stored snapshot holds (`LISTED_SCHEMA`): a binary search in its sorted array."""
    numbers = known.select(e164_as_int(pl.col("phone_e164"))).to_series().to_numpy()
    listed = [pl.DataFrame(schema=LISTED_SCHEMA)]
    for snapshot in run.stored:
        held = _held(snapshot.numbers, numbers)
        listed.append(
            known.filter(pl.Series(held)).with_columns(
                registry=pl.lit(snapshot.registry),
                source_file=pl.lit(snapshot.source_file),
                source_sha256=pl.lit(snapshot.source_sha256),
                downloaded_on=pl.lit(snapshot.downloaded_on, pl.Date),
            )
        )
    return pl.concat(listed)


def _held(sorted_numbers: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Which of `numbers` the sorted array holds."""
    if sorted_numbers.size == 0 or numbers.size == 0:
        return np.zeros(numbers.size, dtype=bool)
    positions = np.searchsorted(sorted_numbers, numbers)
    inside = positions < sorted_numbers.size
    found = np.zeros(numbers.size, dtype=bool)
    found[inside] = sorted_numbers[positions[inside]] == numbers[inside]
    return found


def _each_number_as_itself(decided: pl.DataFrame, positions: pl.Series) -> pl.DataFrame:
    """Every row of a repeated valid number with the decision of its first row (the number's own, not the list's)."""
    first = (
        decided.with_columns(_position=positions)
        .filter(pl.col("phone_valid"))
        .unique("phone_e164", keep="first", maintain_order=True)
        .drop("phone_raw", "_position")
    )
    valid = decided.select("phone_raw", "phone_e164").join(first, on="phone_e164", how="left", maintain_order="left")
    return decided.with_columns(
        pl.when(decided.get_column("phone_valid")).then(valid.get_column(name)).otherwise(decided.get_column(name))
        for name in DECISION_COLUMNS
        if name not in ("phone_raw", "phone_e164")
    )
