"""The single-number path: the engine's decision (`decisions.decide`) without a frame per request.

The number-independent parts of the suppression list are indexed once per `Prepared` (day and journal
version), from the engine's own frames: every registry entry and CRM do-not-call flag by number (as
`build_suppression_list` lists them), blocks by prefix, unusable entries by each digit-rule reading,
EBR exemptions by number. A check is then dictionary and array lookups, the engine's grouping and
ordering of sources rebuilt in Python, and the calling window from the engine's own window functions,
cached per (zones, jurisdictions, day). `tests/pipelines/serving/test_fast.py` holds it equal to the
engine path on every sample row and on random numbers of many regions.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from pipelines.calling.deferral import CALL_LIMIT_REACHED, NO_CALLING_RULE, NO_CALLING_WINDOW
from pipelines.calling.rules import applicable_jurisdictions
from pipelines.calling.windows import lowest_limit, subdivision_for_area_code, time_zones, window_utc
from pipelines.phones.e164 import EXCEL_SCIENTIFIC, NANPA_REGIONS, SURROUNDING, WHOLE_FLOAT, parse_phone
from pipelines.phones.masking import CALLING_CODES
from pipelines.registries.store import LISTED_SCHEMA
from pipelines.registries.unusable_entries import entry_readings
from pipelines.registries.us_states import SUBDIVISIONS
from pipelines.serving.decisions import Prepared
from pipelines.suppression.sellers import seller_scope
from pipelines.suppression.suppression_list import build_suppression_list, registry_scopes

_WHOLE_FLOAT_RE = re.compile(WHOLE_FLOAT)
_EXCEL_RE = re.compile(EXCEL_SCIENTIFIC)
_LIMIT_PERIOD = timedelta(hours=24)
_GROUP = ("source_name", "source_file", "source_sha256", "downloaded_on", "requested_at", "seller_scope")


@dataclass(frozen=True)
class FastIndex:
    """The number-independent suppression rows of a `Prepared`, keyed for lookups."""

    by_number: dict[str, list[dict[str, Any]]]
    blocks: dict[str, list[dict[str, Any]]]
    block_lengths: list[int]
    readings: dict[str, list[dict[str, Any]]]
    jurisdictions: dict[str, list[str] | None]
    exemptible: frozenset[str]
    relationships: dict[str, tuple[str, str, date]]
    recent_calls: dict[str, list[datetime]]


def build_index(prepared: Prepared) -> FastIndex:
    """Index `prepared` once: rows exactly as `build_suppression_list` makes them for any known number."""
    run = prepared.run
    scopes = registry_scopes(prepared.registries)
    jurisdictions = dict(zip(scopes["registry"].to_list(), scopes["jurisdiction"].to_list(), strict=True))
    empty_known = pl.DataFrame(schema={"phone_e164": pl.String, "phone_region": pl.String})
    listed = build_suppression_list(
        prepared.entries.drop("_number"),
        prepared.crm_numbers.drop("_number"),
        stored_listings=pl.DataFrame(schema=LISTED_SCHEMA),
        registries=prepared.registries,
        known_numbers=empty_known,
        relationships=prepared.relationships.clear(),
        scopes_as_sellers=prepared.scopes_as_sellers,
        unusable=prepared.unusable.clear(),
    )
    by_number: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in listed.select(*_GROUP, "phone_e164", "block_prefix").iter_rows(named=True):
        by_number[row.pop("phone_e164")].append(row)
    blocks: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in prepared.blocks.select(
        "block_prefix", source_name="registry", source_file="source_file", source_sha256="source_sha256",
        downloaded_on="downloaded_on",
    ).iter_rows(named=True):  # fmt: skip
        blocks[row["block_prefix"]].append({**row, "requested_at": None, "seller_scope": None})
    resolved = prepared.unusable.with_columns(
        seller_scope=seller_scope(pl.col("seller_scope"), prepared.scopes_as_sellers)
    )
    readings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in (
        resolved.with_columns(_digits=entry_readings(pl.col("phone_raw")))
        .select(*_GROUP, "_digits")
        .iter_rows(named=True)
    ):
        for reading in row.pop("_digits"):
            if reading:
                readings[reading].append({**row, "block_prefix": None})
    relationships = {
        number: (exemption, contact, ebr_date)
        for number, exemption, contact, ebr_date in prepared.relationships.select(
            "phone_e164", "exemption", "contact_id", "ebr_date"
        ).iter_rows()
    }
    calls = run.call_records.filter(pl.col("is_attempt")).select(phone_e164="dialled_e164", started_at="started_at")
    recent: dict[str, list[datetime]] = defaultdict(list)
    for number, started_at in calls.drop_nulls().iter_rows():
        recent[number].append(started_at)
    return FastIndex(
        by_number=dict(by_number),
        blocks=dict(blocks),
        block_lengths=sorted({len(prefix) for prefix in blocks}),
        readings=dict(readings),
        jurisdictions=jurisdictions,
        exemptible=frozenset(scopes.filter("is_ebr_exemptible").get_column("registry").to_list()),
        relationships=relationships,
        recent_calls={number: sorted(times, reverse=True) for number, times in recent.items()},
    )


def parse_one(value: str, region: str) -> tuple[str | None, bool, str | None, str | None, str | None]:
    """The E.164 engine's answer for one value (pre-cleaning, then phonenumbers): e164, valid, type, region, reason."""
    stripped = value.strip(SURROUNDING)
    cleaned = stripped
    if _WHOLE_FLOAT_RE.search(stripped):
        cleaned = re.sub(r"\.0+$", "", stripped)
    if region in NANPA_REGIONS and cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not cleaned:
        return None, False, None, None, "empty"
    if _EXCEL_RE.search(cleaned):
        return None, False, None, None, "excel_mangled"
    e164, valid, number_type, number_region, reason, _ = parse_phone(cleaned, region)
    return e164, valid, number_type, number_region, reason


def decide_one(
    prepared: Prepared, index: FastIndex, value: str, *, region: str, seller: str, now: datetime
) -> dict[str, Any]:
    """The decision for one value, as `decisions.decide` gives it (one row of `DECISION_COLUMNS`)."""
    e164, valid, number_type, number_region, phone_reason = parse_one(value, region)
    row: dict[str, Any] = {
        "phone_raw": value, "phone_e164": e164, "phone_valid": valid, "phone_type": number_type,
        "phone_region": number_region, "phone_reason": phone_reason, "outcome": "invalid", "reason": phone_reason,
        "suppression_sources": None, "exemptions": None, "exemption_reason": None,
        "window_start_utc": None, "window_end_utc": None, "not_before_utc": None,
    }  # fmt: skip
    if not valid or e164 is None:
        return row
    binding, exempt = _sources(prepared, index, e164, number_region, seller)
    if binding:
        row["suppression_sources"] = binding
    if exempt:
        row["exemptions"] = exempt
        row["exemption_reason"] = ",".join(
            sorted({f"{source['source_name']}:{source['exemption']}" for source in exempt})
        )
    if binding:
        row["outcome"] = "suppressed"
        row["reason"] = ",".join(sorted({source["source_name"] for source in binding}))
        return row
    row["outcome"], row["reason"] = "clean", None
    start, end, not_before, deferred = _timing(prepared, index, e164, number_type, number_region, now)
    # As `defer_uncallable`: a deferred number keeps the window it was judged on.
    row["window_start_utc"], row["window_end_utc"], row["not_before_utc"] = start, end, not_before
    if deferred is not None:
        row["outcome"], row["reason"] = "deferred", deferred
    return row


def _sources(
    prepared: Prepared, index: FastIndex, e164: str, region: str | None, seller: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The number's binding sources for `seller`, and those an EBR lifts, in the engine's order and grouping."""
    candidates = list(index.by_number.get(e164, ()))
    for length in index.block_lengths:
        for row in index.blocks.get(e164[:length], ()):
            if _in_jurisdiction(index, row["source_name"], region):
                candidates.append(row)
    digits = e164[1:]
    national = digits[_country_code_length(digits) :]
    for reading in {digits, national}:
        for row in index.readings.get(reading, ()):
            if _in_jurisdiction(index, row["source_name"], region):
                candidates.append(row)
    number = int(digits)
    for snapshot in prepared.run.stored:
        if _in_jurisdiction(index, snapshot.registry, region) and _holds(snapshot.numbers, number):
            candidates.append({
                "source_name": snapshot.registry, "source_file": snapshot.source_file,
                "source_sha256": snapshot.source_sha256, "downloaded_on": snapshot.downloaded_on,
                "requested_at": None, "seller_scope": None, "block_prefix": None,
            })  # fmt: skip
    grouped: dict[tuple, dict[str, Any]] = {}
    for row in candidates:
        key = tuple(row[name] for name in _GROUP)
        kept = grouped.get(key)
        if kept is None or len(row["block_prefix"] or "") > len(kept["block_prefix"] or ""):
            grouped[key] = dict(row)
    relationship = index.relationships.get(e164)
    binding, exempt = [], []
    for row in grouped.values():
        if row["seller_scope"] is not None and row["seller_scope"] != seller:
            continue
        if relationship is not None and row["source_name"] in index.exemptible:
            exemption, contact, ebr_date = relationship
            exempt.append({
                "source_name": row["source_name"], "source_file": row["source_file"],
                "source_sha256": row["source_sha256"], "downloaded_on": row["downloaded_on"],
                "block_prefix": row["block_prefix"], "exemption": exemption, "ebr_contact_id": contact,
                "ebr_date": ebr_date,
            })  # fmt: skip
        else:
            binding.append({name: row[name] for name in (*_GROUP[:4], "block_prefix", *_GROUP[4:])})
    order = ("source_name", "source_file", "requested_at", "seller_scope", "block_prefix")
    binding.sort(key=lambda row: tuple(_nulls_last(row.get(name)) for name in order))
    exempt.sort(key=lambda row: tuple(_nulls_last(row.get(name)) for name in order))
    return binding, exempt


def _timing(
    prepared: Prepared, index: FastIndex, e164: str, number_type: str | None, region: str | None, now: datetime
) -> tuple[datetime | None, datetime | None, datetime | None, str | None]:
    """The clock's day's window, `not_before_utc`, and the deferral reason (None when callable that day)."""
    rules = prepared.run.config.calling_time.rules
    zones = tuple(_zones(e164, number_type, region))
    subdivision = None
    if region in SUBDIVISIONS:
        subdivision = subdivision_for_area_code(region, e164[2:5])
    jurisdictions = tuple(applicable_jurisdictions(rules, region, subdivision))
    day = now.astimezone(UTC).date()
    start, end = _cached_window(prepared.day_key, zones, jurisdictions, day, rules_id=id(rules), rules=rules)
    limit = lowest_limit(list(jurisdictions), rules)
    recent = [at for at in index.recent_calls.get(e164, ()) if now - _LIMIT_PERIOD < at <= now]
    not_before = recent[limit - 1] + _LIMIT_PERIOD if limit is not None and len(recent) >= limit else None
    if not jurisdictions:
        return start, end, not_before, NO_CALLING_RULE
    if end is None or end <= now:
        return start, end, not_before, NO_CALLING_WINDOW
    if not_before is not None and not_before >= end:
        return start, end, not_before, CALL_LIMIT_REACHED
    if start is None:
        return start, end, not_before, NO_CALLING_WINDOW
    return start, end, not_before, None


@functools.lru_cache(maxsize=65536)
def _zones(e164: str, number_type: str | None, region: str | None) -> list[str]:
    return time_zones(e164, region=region)


_WINDOWS: dict[tuple, tuple[datetime | None, datetime | None]] = {}


def _cached_window(
    day_key: tuple, zones: tuple, jurisdictions: tuple, day: date, *, rules_id: int, rules: Any
) -> tuple[datetime | None, datetime | None]:
    key = (rules_id, zones, jurisdictions, day)
    window = _WINDOWS.get(key)
    if window is None:
        if len(_WINDOWS) > 100_000:
            _WINDOWS.clear()
        window = window_utc(list(zones), list(jurisdictions), day, rules)
        _WINDOWS[key] = window
    return window


def _in_jurisdiction(index: FastIndex, registry: str, region: str | None) -> bool:
    covered = index.jurisdictions.get(registry)
    return covered is None or region in covered


def _holds(numbers: np.ndarray, number: int) -> bool:
    position = int(np.searchsorted(numbers, number))
    return position < numbers.size and int(numbers[position]) == number


def _country_code_length(digits: str) -> int:
    """As `masking.country_code_length`: calling codes are prefix-free, so the one that matches is it."""
    return next((length for length in (1, 2, 3) if digits[:length] in CALLING_CODES), len(digits))


def _nulls_last(value: Any) -> tuple[bool, Any]:
    return (value is None, value if value is not None else "")
