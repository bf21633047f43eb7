"""Scrub certificates: proof, beside each published clean list, of what it was scrubbed against and how.

A certificate names the list's files with their SHA-256 and rows, the campaign's row counts, every
registry's version, files, download date and age at scrub time, the rules in force, and the run. An
auditor recomputes the list's SHA-256 and compares. The JSON is the record; the text is its summary.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.calling.rules import CallingRule
from pipelines.clients import data_dir_of
from pipelines.config import CrmSource, Registry, RetiredRegistry
from pipelines.inputs.records import file_sha256
from pipelines.publishing.signing import ALGORITHM, signature_path, verify_file
from pipelines.records import (
    ArchivedCopy,
    Certificate,
    CertifiedFile,
    CertifiedRegistry,
    CheckResult,
    Rules,
    Signature,
)

CERTIFICATE_VERSION = 1
# The packages whose versions decide a scrub: phonenumbers' metadata decides validity, the rest compute it.
DECIDING_PACKAGES = ("scrubline", "phonenumbers", "polars", "duckdb", "great-expectations", "dagster")
_REPOSITORY = Path(__file__).resolve().parents[2]


def scrub_certificates(
    reconciliation: pl.DataFrame,
    versions: pl.DataFrame,
    *,
    registries: Sequence[Registry],
    retired: Sequence[RetiredRegistry],
    ages: pl.DataFrame,
    unusable: Sequence[Mapping[str, Any]],
    validity: pl.DataFrame,
    public_key: str | None,
    checks: Sequence[Mapping[str, object]],
    scrubbed: pl.DataFrame | pl.LazyFrame,
    crm: CrmSource,
    sellers: Mapping[str, str],
    calling_rules: Mapping[str, CallingRule],
    archived: Mapping[str, ArchivedCopy] | None = None,
    run_id: str,
    run_started_at: datetime,
) -> dict[str, Certificate]:
    """One certificate per campaign, by campaign; the list's checksums are added when it is written.

    `ages` (`freshness.registry_ages`) give each dated registry's age at scrub time and the date it counts from;
    `unusable` (`unusable_entries.unusable_report`) the entries that were no valid number, by source; `validity`
    (`expiry.campaigns_valid_through`) each campaign's `valid_through`; `public_key` the PEM key whose private
    half signs the certificate (None: the run is not signed, and the certificate says so); `checks` every blocking
    check the run evaluated (asset, check, passed); `scrubbed` the scrubbed rows, whose suppressed ones are
    counted by reason and by source; `sellers` each campaign's seller; `archived` each registry file's archived
    copy by SHA-256 (`registry_archive.archive_registry_copies`; none when the archive is off).
    """
    breakdown = suppression_breakdown(scrubbed)
    valid_through = dict(validity.select("campaign", "valid_through").iter_rows())
    by_name = {row["registry"]: row for row in versions.to_dicts()}
    software = software_versions()
    age_of = {row["registry"]: row for row in ages.to_dicts()}
    undated = {"age_days": None, "age_from": None, "age_evidence": None}
    registry_records = [
        CertifiedRegistry(
            name=registry.name,
            format=registry.format,
            version=by_name[registry.name]["version"],
            files=[
                CertifiedFile(**file, archived=(archived or {}).get(file["sha256"]))
                for file in by_name[registry.name]["files"]
            ],
            count_numbers=by_name[registry.name]["count_numbers"],
            count_unit="blocks" if registry.format == "wildcard" else "numbers",
            downloaded_on=registry.downloaded_on,
            **{key: age_of.get(registry.name, undated)[key] for key in undated},
            max_age_days=registry.maximum_age_days,
            max_shrink=registry.max_shrink,
            max_invalid_share=registry.max_invalid_share,
            jurisdiction=registry.covered_regions,
            is_ebr_exemptible=registry.is_ebr_exemptible,
        )
        for registry in registries
    ]
    rules = Rules(
        ebr_purchase_months=crm.ebr_purchase_months if crm.last_purchase_column else None,
        ebr_inquiry_months=crm.ebr_inquiry_months if crm.last_inquiry_column else None,
        crm_do_not_call_column=crm.do_not_call_column,
        opt_out_honour_years=crm.honour_years,
        calling_day=run_started_at.date(),
        calling_time={name: rule.model_dump(mode="json") for name, rule in sorted(calling_rules.items())},
    )
    return {
        counts["campaign"]: Certificate(
            certificate_version=CERTIFICATE_VERSION,
            run_id=run_id,
            scrubbed_at=run_started_at,
            software=software,
            signature=None if public_key is None else Signature(algorithm=ALGORITHM, public_key=public_key),
            campaign=counts["campaign"],
            valid_through=valid_through[counts["campaign"]],
            seller=sellers[counts["campaign"]],
            counts={key: value for key, value in counts.items() if key != "campaign"},
            suppressed=breakdown.get(counts["campaign"], {}),
            checks=[CheckResult.model_validate(check) for check in checks],
            registries=registry_records,
            unusable_entries=list(unusable),
            retired_registries=[entry.model_dump(mode="json") for entry in retired],
            rules=rules,
        )
        for counts in reconciliation.to_dicts()
    }


def suppression_breakdown(scrubbed: pl.DataFrame | pl.LazyFrame) -> dict[str, dict[str, dict[str, int]]]:
    """By campaign: suppressed rows counted by reason (`internal_optouts,us_dnc`, `duplicate_in_campaign`) and by
    each binding source (a row listed by two sources counts once for each)."""
    suppressed = scrubbed.lazy().filter(pl.col("outcome") == "suppressed")
    by_reason = suppressed.group_by("campaign", "reason").len().sort("campaign", "reason").collect()
    by_source = (
        suppressed.select(
            "campaign", source=pl.col("suppression_sources").list.eval(pl.element().struct.field("source_name"))
        )
        .explode("source")
        .drop_nulls("source")
        .group_by("campaign", "source")
        .len()
        .sort("campaign", "source")
        .collect()
    )
    breakdown: dict[str, dict[str, dict[str, int]]] = {}
    for campaign, reason, count in by_reason.iter_rows():
        breakdown.setdefault(campaign, {"by_reason": {}, "by_source": {}})["by_reason"][reason] = count
    for campaign, source, count in by_source.iter_rows():
        breakdown[campaign]["by_source"][source] = count
    return breakdown


def verify_certificate(path: Path, *, public_key: bytes | None) -> list[tuple[str, str, str]]:
    """Every check of a published certificate: (what, `ok`/`mismatch`/`absent`/`unsigned`, detail).

    The signature is checked against `public_key` (PEM), else against the key the certificate names (then
    only proving the file is unchanged since that key signed it); the list's files and each registry
    file still present in the data directory are checked against their SHA-256.
    """
    certificate = Certificate.read(path)
    run_dir = path.resolve().parents[1]
    data_dir = data_dir_of(run_dir.parents[2])  # registry copies are the data directory's, shared by its clients
    listed = [(f"list {name}", run_dir / name, entry.sha256) for name, entry in certificate.listed.items()]
    registry_files = [
        (f"registry {registry.name} file {file.file}", data_dir / file.file.split("!")[0], file.sha256)
        for registry in certificate.registries
        for file in registry.files
    ]
    archived_copies = [
        (f"registry {registry.name} archived copy {file.archived.path}", data_dir / file.archived.path, file.sha256)
        for registry in certificate.registries
        for file in registry.files
        if file.archived is not None and file.archived.path is not None
    ]
    checks = listed + registry_files + archived_copies
    return [_signature_check(path, certificate, public_key), *(_checksum(*check) for check in checks)]


def _signature_check(path: Path, certificate: Certificate, public_key: bytes | None) -> tuple[str, str, str]:
    if certificate.signature is None and not signature_path(path).exists():
        return "signature", "unsigned", "the run was not signed: nothing proves the certificate unchanged"
    key = public_key or (certificate.signature.public_key.encode() if certificate.signature else b"")
    problem = verify_file(path, key) if key else f"{path.name}: a signature but no public key to check it with"
    whose = "the key given" if public_key else "the key the certificate names (compare it with the key you hold)"
    return ("signature", "ok", f"valid for {whose}") if problem is None else ("signature", "mismatch", problem)


def _checksum(what: str, path: Path, sha256: str) -> tuple[str, str, str]:
    if not path.is_file():
        return what, "absent", f"{path} is no longer there"
    found = file_sha256(path)
    if found != sha256:
        return what, "mismatch", f"sha256 {found}, the certificate says {sha256}"
    return what, "ok", f"sha256 {sha256}"


def software_versions() -> dict[str, str | None]:
    """The installed version of each package that decided the scrub, and Scrubline's git commit when known."""
    versions: dict[str, str | None] = {name: version(name) for name in DECIDING_PACKAGES}
    return {**versions, "scrubline_commit": _commit()}


def _commit() -> str | None:
    """The checked-out commit of the code that ran, for a source checkout; None for an installed package."""
    try:
        found = subprocess.run(
            ["git", "-C", str(_REPOSITORY), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return found.stdout.strip()


def certificate_text(certificate: Certificate) -> str:
    """A short human-readable summary of a certificate: the list, its counts, each registry and the rules."""
    counts = certificate.counts
    valid_through = certificate.valid_through.isoformat() if certificate.valid_through else None
    lines = [
        f"Scrub certificate: campaign {certificate.campaign}, run {certificate.run_id}",
        f"Scrubbed at {certificate.scrubbed_at.isoformat()}",
        "Not signed: scrubline.yaml names no signing key"
        if certificate.signature is None
        else f"Signed with {certificate.signature.algorithm}: the signature is the .sig file beside the JSON",
        "Software: " + ", ".join(f"{name} {found}" for name, found in certificate.software.items() if found),
        f"Valid through {valid_through or 'no expiry (no input it relied on expires)'}",
        *(f"List {path}: {entry.rows} rows, sha256 {entry.sha256}" for path, entry in certificate.listed.items()),
        f"Rows: {counts['count_rows_in']} read, {counts['count_clean']} clean, "
        f"{counts['count_suppressed']} suppressed, {counts['count_invalid']} invalid, "
        f"{counts['count_quarantined']} quarantined, {counts['count_deferred']} deferred",
        "Registries:",
    ]
    for registry in certificate.registries:
        limit = "" if registry.max_age_days is None else f" (max {registry.max_age_days})"
        age = (
            "no download date"
            if registry.downloaded_on is None
            else f"{registry.age_days} days old{limit} from {registry.age_evidence} {registry.age_from}"
        )
        lines.append(
            f"  {registry.name} ({registry.format}): {registry.count_numbers} numbers, {age}, "
            f"max_shrink {registry.max_shrink:.1%}"
        )
        lines.extend(f"    {file.file} sha256 {file.sha256}{_archived(file.archived)}" for file in registry.files)
    lines.extend(
        f"Retired: {entry['name']} on {entry['retired_on']} ({entry['reason']})"
        for entry in certificate.retired_registries
    )
    lines.extend(
        f"Unusable entries in {source['source_name']}: {source['count_unusable']}, suppressing by their digits"
        for source in certificate.unusable_entries
    )
    rules = certificate.rules
    lines.append(f"EBR: purchase {_window(rules.ebr_purchase_months)}, inquiry {_window(rules.ebr_inquiry_months)}")
    lines.append(
        f"Calling time: windows for {rules.calling_day} (UTC date of the run) under the rules of "
        f"{', '.join(rules.calling_time)}"
    )
    return "".join(f"{line}\n" for line in lines)


def _archived(copy: ArchivedCopy | None) -> str:
    if copy is None:
        return ""
    return f", archived as {copy.path}" if copy.path else f", not archived: {copy.reason}"


def _window(months: int | None) -> str:
    return "not used" if months is None else f"{months} months"
