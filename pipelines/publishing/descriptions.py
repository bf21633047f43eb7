"""What each published table and column means, in one place: the warehouse's `COMMENT ON` and the Dagster assets'
column schemas (`dagster/column_schema`) both read it, so an analyst and the UI see the same words.

Columns are described by name, since a name means the same in every table (`phone_e164` is always the number in
E.164); a CRM's own columns (named in `scrubline.yaml`) are described by the suffix the engine gives them
(`<col>_e164`, `<col>_valid`, …) or as read from the source file.
"""

from __future__ import annotations

# One sentence per warehouse view or table: its grain first.
TABLES = {
    "clean_call_lists": "One row per lead to dial, per campaign, from the latest run: the number in E.164 and the "
    "list day's calling window (the Parquet lists under published/latest/clean/).",
    "suppressed": "One row per dialler record not to dial: the reason and every binding source with its file, "
    "SHA-256 and download date.",
    "invalid": "One row per dialler record whose number is not a valid phone number, with the reason code.",
    "deferred": "One row per clean record that may not be called in the list's day: no calling rule, no window "
    "left, or its call limit reached.",
    "number_analytics": "One row per E.164 number in the CRM or a dialler list: where it appears and what "
    "suppresses it.",
    "contacts": "One row per CRM record, every configured phone column normalised to E.164.",
    "suppression_list": "One row per (number, source, file, opt-out time, seller scope): registry numbers, blocks, "
    "CRM do-not-call flags and exemptions.",
    "calling_windows": "One row per clean or deferred list row: the recipient's time zones, jurisdictions, the list "
    "day's window in UTC, its call limit and calls in the last 24 hours.",
    "cli_days": "One row per CLI per UTC day: calls, recipients, answers, short calls, calls outside hours or over "
    "a number's call limit, complaints, cap.",
    "cli_health": "One row per CLI in the estate or the call log: health (healthy, watch, rest, retire) and why.",
    "pool_capacity": "One row per CLI pool: CLIs owned and usable today against the CLIs its daily volume needs.",
    "dialled_numbers": "One row per dialled number: attempts in the last 24 hours, 7 and 30 days, last call, "
    "contact rate, calls over its limit, status today.",
    "call_limit_breaches": "One row per call made when its number's call limit was already reached.",
    "number_history": "One row per (run date, campaign, number) over every published run: the outcome, reason and "
    "binding sources of the last run of that date.",
    "quarantined": "One row per dialler record that could not be read: its file, row and why (its raw text stays "
    "under quarantine/<run id>/).",
    "list_status": "One row: the run the warehouse shows, its valid_through, and whether it is current or expired.",
    "outcomes": "One row per dialler record of the latest run, whatever its outcome (clean, suppressed, invalid, "
    "quarantined, deferred), with its reason.",
    "suppression_reasons": "One row per suppressed dialler record and binding source (a record two sources list "
    "has two rows), from the latest run.",
    "runs": "One row per published run and campaign: counts of each outcome, valid_through, and the registry "
    "versions it was scrubbed against.",
    "clients": "One row per client of the data directory: the run its published/latest.json names, which the "
    "cross-client views read (null: none published, or withdrawn).",
}

COLUMNS = {
    "client": "The client the row belongs to: its folder clients/<client>/ and its Dagster partition.",
    "run_dir": "The client's latest run folder, relative to the data directory.",
    "campaign": "The campaign: the dialler file's stem.",
    "seller": "The seller the campaign belongs to (`sellers:` in scrubline.yaml; `default` without it).",
    "lead_id": "The lead's id in the dialler file.",
    "phone_raw": "The phone number as written in the source file.",
    "phone_e164": "The number in E.164 (`+` and digits), exactly as phonenumbers formats it.",
    "phone_valid": "Whether phonenumbers calls the number valid.",
    "phone_type": "The number's type by phonenumbers' metadata (mobile, fixed_line, fixed_line_or_mobile, …).",
    "phone_region": "The ISO 3166 region the number belongs to.",
    "phone_reason": "Why the value is not a valid number (empty, not_a_number, too_short, …); null when valid.",
    "phone_extension": "The extension written after the number, if any.",
    "phone_time_zones": "The recipient's possible time zones (IANA), from the number.",
    "phone_subdivision": "The recipient's state or province (`US-FL`), from the area code; null when unknown.",
    "phone_jurisdictions": "The calling-time rules that apply to the number (country, then state or province).",
    "source_file": "The file the record was read from, relative to the data directory.",
    "source_row": "The record's row in its source file (1 is the first after the header).",
    "source_sha256": "The SHA-256 of the source file the record was read from.",
    "source_name": "The suppression source: a registry's name, or crm_do_not_call.",
    "outcome": "The record's outcome: clean, suppressed, invalid, quarantined or deferred.",
    "reason": "Why the record has its outcome: the binding sources (comma-separated), an invalid-number code, "
    "duplicate_in_campaign, a quarantine reason or a deferral reason; null for clean.",
    "suppression_sources": "Every source that lists the number and binds the campaign: name, file, SHA-256, "
    "download date, block, opt-out time and seller scope.",
    "exemptions": "Sources the number is on but exempt from (an established business relationship), with the "
    "contact and date that establish it.",
    "exemption_reason": "Why a listed number may still be dialled (an established business relationship); null "
    "otherwise.",
    "window_start_utc": "When the list day's legal calling window opens for the recipient (UTC).",
    "window_end_utc": "When the list day's legal calling window closes for the recipient (UTC).",
    "not_before_utc": "When the number's call limit lets it be called again (UTC); null when no limit is reached.",
    "window_date": "The list's day (the UTC date of the run).",
    "max_calls_per_24h": "The most calls the number may receive in 24 hours under its rules; null for no limit.",
    "count_calls_24h": "Calls made to the number in the 24 hours before the run.",
    "deferred_reason": "Why a clean row may not be called in the list's day; null when it may.",
    "contact_id": "The contact's id in the CRM export.",
    "quarantine_reason": "Why the record could not be read; null for readable records.",
    "raw_record": "The unreadable record's text; null for readable records.",
    "is_do_not_call": "Whether the CRM flags the contact do-not-call.",
    "last_purchase_on": "The contact's last purchase date (establishes a business relationship).",
    "last_inquiry_on": "The contact's last inquiry date (establishes a business relationship).",
    "count_crm_contacts": "CRM contacts with this number.",
    "count_dialler_rows": "Dialler records with this number, over every campaign.",
    "campaigns": "The campaigns whose lists hold the number.",
    "is_suppressed": "Whether any source suppresses the number (before campaign scopes and exemptions).",
    "downloaded_on": "The date the registry copy was downloaded.",
    "block_prefix": "For a wildcard entry, the E.164 prefix it blocks; null for a single number.",
    "requested_at": "When the opt-out was requested; null when the source does not say.",
    "seller_scope": "The seller or campaign an opt-out was given to; null for every seller.",
    "count_entries": "Entries of the source file for this number.",
    "exemption": "The exemption this row grants (an established business relationship); null for suppression.",
    "ebr_contact_id": "The CRM contact whose purchase or inquiry establishes the relationship.",
    "ebr_date": "The purchase or inquiry date that establishes the relationship.",
    "call_id": "The call's id in the call log.",
    "cli_e164": "The caller ID (CLI) presented, in E.164.",
    "dialled_e164": "The number dialled, in E.164.",
    "dialled_subdivision": "The dialled number's state or province (`US-FL`).",
    "started_at": "When the call started (UTC).",
    "count_calls_before_24h": "Calls to the number in the 24 hours before this one.",
    "day_utc": "The UTC day.",
    "pool": "The CLI pool the number belongs to in the estate.",
    "attestation": "The CLI's STIR/SHAKEN attestation level.",
    "reputation_label": "The reputation label a service gave the CLI (spam_likely, …); null when clean or unknown.",
    "count_calls": "Calls made.",
    "count_recipients": "Distinct numbers called.",
    "count_answered": "Calls answered.",
    "answer_rate": "Answered calls over calls made.",
    "count_short_calls": "Answered calls shorter than `calls.short_call_s`.",
    "short_call_share": "Short calls over answered calls.",
    "count_outside_hours": "Calls outside the recipient's legal calling window.",
    "count_over_call_limit": "Calls made when the number's call limit was already reached.",
    "count_complaints": "Calls that drew a complaint.",
    "is_over_cap": "Whether the CLI made more calls than `calls.daily_cap` that day.",
    "count_calls_recent": "Calls in the recent period (`health.recent_days`).",
    "answer_rate_recent": "Answer rate in the recent period.",
    "answer_rate_trailing": "Answer rate in the trailing period before it (`health.trailing_days`).",
    "short_call_share_recent": "Short-call share in the recent period.",
    "count_cap_breach_days": "Days in the recent period over the daily cap.",
    "health_status": "healthy, watch, rest or retire.",
    "health_reason": "Why the CLI has its health status, in words.",
    "count_clis": "CLIs in the pool.",
    "count_clis_usable": "CLIs in the pool usable today (not resting or retired).",
    "calls_per_day": "The pool's average calls per day.",
    "count_clis_needed": "CLIs the pool's volume needs at the daily cap.",
    "count_clis_short": "CLIs the pool lacks (needed minus usable; 0 when enough).",
    "count_attempts_24h": "Calls to the number in the last 24 hours.",
    "count_attempts_7d": "Calls to the number in the last 7 days.",
    "count_attempts_30d": "Calls to the number in the last 30 days.",
    "last_called_at": "When the number was last called (UTC).",
    "last_disposition": "The last call's disposition.",
    "contact_rate_30d": "Answered calls over calls in the last 30 days.",
    "count_over_call_limit_30d": "Calls over the number's limit in the last 30 days.",
    "is_on_suppression_list": "Whether the number is on tonight's suppression list.",
    "is_call_limit_reached": "Whether the number has reached its call limit now.",
    "suppression_status": "The number's status today: suppressed, limit_reached or callable.",
    "run_id": "The Dagster run that published it.",
    "run_date": "The run's UTC date.",
    "run_started_at": "When the run started (its clock, UTC).",
    "run_created_at": "When the run was created (real time, UTC).",
    "first_lead_id": "The number's first lead in the campaign (later rows are its duplicates).",
    "count_rows": "Dialler records of the number in the campaign.",
    "valid_through": "The first instant (UTC) the list must no longer be dialled.",
    "status": "current, or expired once past valid_through (the list is withdrawn).",
    "withdrawn_at": "When the list was withdrawn; null while current.",
    "count_rows_in": "Dialler records read.",
    "count_clean": "Records in the clean list.",
    "count_suppressed": "Records suppressed.",
    "count_invalid": "Records whose number is not valid.",
    "count_quarantined": "Records that could not be read.",
    "count_deferred": "Clean records that may not be called in the list's day.",
    "count_rows_out": "Records with an outcome (equals count_rows_in).",
    "registry_versions": "Each registry's name, version (SHA-256 of its files' SHA-256s) and count of numbers or "
    "blocks the run was scrubbed against.",
    "binding_source": "One source that suppresses the record: a registry's name, or crm_do_not_call.",
    "binding_file": "The file of the binding source, relative to the data directory.",
    "binding_downloaded_on": "The binding source's download date; null when it has none.",
    "binding_block_prefix": "The wildcard block that matched; null for a single number.",
    "binding_requested_at": "When the binding opt-out was requested; null when the source does not say.",
}

# The engine's columns for each configured phone column `<col>` (`pipelines.phones`), by suffix.
_PHONE_SUFFIXES = {
    "_e164": "in E.164",
    "_valid": ": whether phonenumbers calls it valid",
    "_type": ": its type by phonenumbers' metadata",
    "_region": ": its ISO 3166 region",
    "_reason": ": why it is not a valid number; null when valid",
    "_extension": ": the extension written after it",
}


def column_description(column: str) -> str:
    """What a published column means; a CRM's own column (named in scrubline.yaml) is described as read."""
    if column in COLUMNS:
        return COLUMNS[column]
    for suffix, meaning in _PHONE_SUFFIXES.items():
        if column.endswith(suffix):
            return f"The phone column {column.removesuffix(suffix)} {meaning}."
    return f"{column}, as read from the source file (named in scrubline.yaml)."
