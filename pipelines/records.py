"""The records that prove a scrub, as typed models: a run's manifest, each list's certificate and its validity file,
and the `latest` pointer to the run readers use.

Each record is built in one place (the manifest by the `published_run` asset and `publish.publish_run`, a
certificate by `certificate.scrub_certificates`, the validity file by `publish`) and every reader goes through
the same model (`Manifest.read`, `Certificate.read`, `Validity.read`): `scrubline verify`, the shrink guard's
ledger, list expiry, the inbox sensor, `scrubline run`'s summary. The JSON is `Record.to_json()`: fields in
declaration order, instants as ISO 8601 with `T` and zone (`2026-11-27T02:00:00+00:00`), two-space indent.

Fields that older runs did not record are optional, so a run published before them still reads back.
See docs/audit.md for what each field means to an auditor.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationInfo, model_validator

# Validation context of a record read back from a published run.
_PUBLISHED = "published"
# An instant written as Python's isoformat (`+00:00`), as every published record has written it.
Instant = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]


class Record(BaseModel):
    """A published JSON record. Building one, an unknown key is an error, so a misspelt field never goes unseen;
    reading one a run published (`read`), keys an older release wrote and this one no longer knows are skipped."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=2)

    @classmethod
    def read(cls, path: Path) -> Self:
        return cls.parse(path.read_bytes())

    @classmethod
    def parse(cls, data: bytes) -> Self:
        """The record from the bytes a run published (read from a file or an object)."""
        return cls.model_validate_json(data, context={_PUBLISHED: True})

    @model_validator(mode="before")
    @classmethod
    def _skip_retired_keys(cls, data: object, info: ValidationInfo) -> object:
        if not (info.context or {}).get(_PUBLISHED) or not isinstance(data, dict):
            return data
        known = {*cls.model_fields, *(field.alias for field in cls.model_fields.values() if field.alias)}
        return {key: value for key, value in data.items() if key in known}


class ListedFile(Record):
    """A published file: its rows and SHA-256."""

    rows: int
    sha256: str


class CampaignCounts(Record):
    """One campaign's reconciliation: every dialler row read ends in exactly one outcome."""

    campaign: str
    count_rows_in: int
    count_clean: int
    count_suppressed: int
    count_invalid: int
    # Not counted by runs published before quarantine and calling time existed.
    count_quarantined: int | None = None
    count_deferred: int | None = None
    count_rows_out: int


class RegistryFile(Record):
    """A registry file read by a run (`<zip>!<member>` for a zipped copy) and its SHA-256."""

    file: str
    sha256: str


class RegistryVersion(Record):
    """A registry's version (SHA-256 of its files' sorted SHA-256s) and its count of numbers, or blocks."""

    registry: str
    version: str
    count_numbers: int
    files: list[RegistryFile] = []


class Manifest(Record):
    """`published/runs/<run id>/manifest.json`: the run, its inputs and outputs with their SHA-256, per-campaign
    reconciliation, each registry's version, each certificate's SHA-256."""

    run_id: str
    # Runs published before it was recorded have only `published_at`.
    run_started_at: Instant | None = None
    valid_through: Instant | None = None
    clock: str | None = None
    published_at: Instant
    inputs: dict[str, str] = {}
    reconciliation: list[CampaignCounts] = []
    registries: list[RegistryVersion] = []
    # When the run was created (real time): links move only to later runs. Added by `publish_run`.
    run_created_at: Instant | None = None
    outputs: dict[str, ListedFile] = {}
    certificates: dict[str, str] = {}

    @property
    def started_at(self) -> datetime:
        """The run's instant; runs published before manifests recorded it give when they were published."""
        return self.run_started_at or self.published_at


class Signature(Record):
    """How a certificate is signed: the detached signature is `<certificate>.json.sig`."""

    algorithm: str
    public_key: str


class SuppressedBreakdown(Record):
    """A campaign's suppressed rows by reason, and by each binding source (a row two sources list counts twice)."""

    by_reason: dict[str, int] = {}
    by_source: dict[str, int] = {}


class CheckResult(Record):
    """A blocking check the run evaluated, and whether it passed."""

    asset: str
    check: str
    passed: bool


class ArchivedCopy(Record):
    """Where the archive keeps a registry file's exact bytes (`registry_archive/<sha256>`, relative to the data
    directory), or why it does not (`path` null and a `reason`)."""

    sha256: str
    path: str | None
    reason: str | None = None


class CertifiedFile(RegistryFile):
    """A registry file as a certificate names it: its SHA-256 and its archived copy."""

    archived: ArchivedCopy | None = None


class CertifiedRegistry(Record):
    """A registry as a certificate states it: version, files, size, age at scrub time and the rules applied."""

    name: str
    format: str
    version: str
    files: list[CertifiedFile]
    count_numbers: int
    count_unit: Literal["numbers", "blocks"] = "numbers"
    downloaded_on: date | None = None
    age_days: int | None = None
    age_from: date | None = None
    age_evidence: str | None = None
    max_age_days: int | None = None
    max_shrink: float
    max_invalid_share: float | None = None
    jurisdiction: list[str] | None = None
    # Null in certificates published before it was recorded.
    is_ebr_exemptible: bool | None = None


class Rules(Record):
    """The rules in force: EBR windows (null when the CRM column is not configured), the opt-out honour period,
    the CRM's do-not-call column and the calling-time rule table the list's windows were computed with."""

    ebr_purchase_months: int | None
    ebr_inquiry_months: int | None
    crm_do_not_call_column: str | None
    # Null in certificates published before it was recorded.
    opt_out_honour_years: int | None = None
    calling_day: date | None = None
    calling_time: dict[str, Any] = {}


class Certificate(Record):
    """`clean/<campaign>.certificate.json`: proof of what a list was scrubbed against and how."""

    certificate_version: int
    run_id: str
    scrubbed_at: Instant
    software: dict[str, str | None] = {}
    signature: Signature | None = None
    campaign: str
    valid_through: Instant | None = None
    seller: str | None = None
    counts: dict[str, int | None]
    suppressed: SuppressedBreakdown = SuppressedBreakdown()
    checks: list[CheckResult] = []
    registries: list[CertifiedRegistry]
    unusable_entries: list[dict[str, Any]] = []
    retired_registries: list[dict[str, Any]] = []
    rules: Rules
    # The list's files with their rows and SHA-256; added when the list is written (`publish_run`).
    listed: dict[str, ListedFile] = Field(default={}, alias="list")


class Validity(Record):
    """`clean/<campaign>.validity.json`: what a loader needs beside a list — which run, until when it may be
    dialled, its counts, its files' SHA-256 and where the certificate is."""

    run_id: str
    campaign: str
    valid_through: Instant | None
    counts: dict[str, int | None] | None = None
    listed: dict[str, ListedFile] = Field(alias="list")
    certificate: str


class Withdrawal(Record):
    """Why the run `latest` points at may no longer be dialled: past its `valid_through` since `withdrawn_at`."""

    run_id: str
    run_dir: str
    valid_through: Instant | None
    withdrawn_at: Instant
    reason: str


class Latest(Record):
    """`published/latest.json`, the pointer to the run readers use: its manifest (relative to `published/`) and
    that manifest's SHA-256, when the run was created (the pointer moves only to later runs), and `withdrawn` once
    its list is past its `valid_through`. Swapped whole by compare-and-swap (`publishing.latest`)."""

    run_id: str
    manifest: str
    manifest_sha256: str
    # Null when adopted from a run published before manifests recorded it.
    run_created_at: Instant | None
    withdrawn: Withdrawal | None = None
