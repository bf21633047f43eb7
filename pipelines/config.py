"""`scrubline.yaml`: the data directory's declaration of its inputs, validated on load."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Literal

import phonenumbers
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.calling.rules import CallingTime
from pipelines.errors import ConfigError
from pipelines.registries.formats import NATIONAL_FORMATS
from pipelines.serving.journal_file import JOURNAL_PATH, LIVE_OPT_OUTS, journal_has_entries
from pipelines.serving.settings import ServeSettings

CONFIG_FILE_NAME = "scrubline.yaml"
EBR_PURCHASE_MONTHS = 18
EBR_INQUIRY_MONTHS = 3
OPT_OUT_HONOUR_YEARS = 5
MAX_LIST_AGE_DAYS = 10
REGISTRY_ARCHIVE_MAX_BYTES = 200_000_000
MAX_SCRUB_SHARDS = 64
# With no `sellers:` every campaign belongs to this one seller.
DEFAULT_SELLER = "default"
DATA_DIR_VARIABLE = "SCRUBLINE_DATA_DIR"
DEFAULT_DATA_DIR = "data"


def data_dir_from_environment() -> str:
    """`$SCRUBLINE_DATA_DIR`, or `./data` (the committed sample) when unset."""
    return os.environ.get(DATA_DIR_VARIABLE, DEFAULT_DATA_DIR)


class _Section(BaseModel):
    """A config section: unknown keys are errors, so a typo never silently disables a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_region(region: str) -> str:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"'{region}' is not an ISO 3166 alpha-2 region phonenumbers supports (e.g. US, GB)")
    return region


def _check_optional_region(region: str | None) -> str | None:
    return None if region is None else _check_region(region)


class CrmSource(_Section):
    """CRM exports: one row per contact, several phone columns."""

    path: str
    id_column: str
    phone_columns: list[str]
    country_column: str | None = None
    do_not_call_column: str | None = None
    last_purchase_column: str | None = None
    last_inquiry_column: str | None = None
    # How long a purchase or an inquiry establishes a business relationship (47 CFR 64.1200(f)(5)): the law's
    # 18 and 3 months are the longest allowed; configuration may only shorten them.
    ebr_purchase_months: int = Field(default=EBR_PURCHASE_MONTHS, gt=0, le=EBR_PURCHASE_MONTHS)
    ebr_inquiry_months: int = Field(default=EBR_INQUIRY_MONTHS, gt=0, le=EBR_INQUIRY_MONTHS)
    # How long an opt-out ends every EBR exemption of its number, whatever purchases follow it (47 CFR
    # 64.1200(d)(6), (f)(5)(i)): five years at least; configuration may only lengthen it.
    honour_years: int = Field(default=OPT_OUT_HONOUR_YEARS, ge=OPT_OUT_HONOUR_YEARS)

    @field_validator("phone_columns")
    @classmethod
    def _at_least_one(cls, columns: list[str]) -> list[str]:
        if not columns:
            raise ValueError("list at least one phone column")
        return columns


class DiallerSource(_Section):
    """Dialler lists: one file per campaign, the campaign named by the file stem."""

    path: str
    id_column: str
    phone_column: str
    country_column: str | None = None


class Registry(_Section):
    """A suppression source: every number it holds, or block it lists, is suppressed within its jurisdiction."""

    name: str
    format: Literal["plain", "us_dnc", "tps", "dncl", "wildcard"]
    path: str
    # US change lists (additions and deletions), applied in the order of the date in their names,
    # onto the full list downloaded on `full_list_downloaded_on`: only lists dated after it belong to it.
    changes: str | None = None
    full_list_downloaded_on: date | None = None
    phone_column: str | None = None
    requested_at_column: str | None = None
    seller_column: str | None = None
    region: str | None = None
    jurisdiction: list[str] | None = None
    kind: Literal["national", "state"] | None = None
    downloaded_on: date | None = None
    max_age_days: int | None = Field(default=None, gt=0)
    # A copy holding more than this share fewer numbers than the last published one is a broken download.
    max_shrink: float = Field(default=0.05, ge=0, le=1)
    # A copy more than this share of whose entries are not valid numbers (nor blocks) is a broken download.
    max_invalid_share: float = Field(default=0.01, ge=0, le=1)
    accept_shrink: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    _region = field_validator("region")(_check_optional_region)

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction_regions(cls, regions: list[str] | None) -> list[str] | None:
        if regions is not None and not regions:
            raise ValueError("list at least one region, or omit jurisdiction to suppress everywhere")
        return [_check_region(region) for region in regions] if regions is not None else None

    @model_validator(mode="after")
    def _fits_its_format(self) -> Registry:
        national = NATIONAL_FORMATS.get(self.format)
        where = f"registry '{self.name}' (format {self.format})"
        if self.changes is not None and not self.is_stored:
            raise ValueError(
                f"{where}: changes applies only to format us_dnc, whose change lists Scrubline reads; remove it"
            )
        if self.changes is not None and self.full_list_downloaded_on is None:
            raise ValueError(
                f"{where}: changes needs full_list_downloaded_on (YYYY-MM-DD), the day the full list was "
                "downloaded, so no change list from an older full list is applied to it"
            )
        if self.phone_column is not None and self.format != "plain":
            raise ValueError(f"{where}: phone_column applies only to format plain; remove it")
        if (self.requested_at_column or self.seller_column) and self.phone_column is None:
            raise ValueError(f"{where}: requested_at_column and seller_column need a CSV registry with phone_column")
        if national is not None and self.kind is not None:
            raise ValueError(f"{where}: the format is a national registry already; remove kind")
        if national is not None and self.region is not None:
            raise ValueError(f"{where}: the format implies region {national.region}; remove region")
        if national is None and self.region is None:
            raise ValueError(f"{where}: region is required: the region of numbers written without a country code")
        if national is not None and self.downloaded_on is None:
            raise ValueError(f"{where}: downloaded_on is required (YYYY-MM-DD), so the copy's age can be checked")
        if self.max_age_days is not None and self.downloaded_on is None:
            raise ValueError(f"{where}: max_age_days needs downloaded_on, the date the copy was downloaded")
        if national is not None and self.max_age_days is not None and self.max_age_days > national.max_age_days:
            raise ValueError(
                f"{where}: max_age_days {self.max_age_days} is longer than the legal maximum of "
                f"{national.max_age_days} days for {self.format} copies; it may only be stricter: lower it or remove it"
            )
        return self

    @property
    def number_region(self) -> str:
        """The region numbers without a country code are read in: the format's own, or the configured one."""
        national = NATIONAL_FORMATS.get(self.format)
        return national.region if national is not None else str(self.region)

    @property
    def is_stored(self) -> bool:
        """Kept as a versioned snapshot of E.164 integers (`pipelines.registries.store`), not read row by row.

        The US registry is the one at national scale (about 250 million numbers) with change lists.
        """
        return self.format == "us_dnc"

    @property
    def covered_regions(self) -> list[str] | None:
        """The regions whose numbers this registry suppresses; None for everywhere."""
        national = NATIONAL_FORMATS.get(self.format)
        if self.jurisdiction is not None or national is None:
            return self.jurisdiction
        return list(national.jurisdiction)

    @property
    def is_ebr_exemptible(self) -> bool:
        """A US national or state do-not-call list: the only sources an established business relationship lifts.

        EBR is a US rule (47 CFR 64.1200); TPS and the DNCL have rules of their own, not modelled here.
        """
        return self.format == "us_dnc" or self.kind is not None

    @property
    def maximum_age_days(self) -> int | None:
        """How many days old the copy may be on the run's date; None when it has no freshness rule."""
        national = NATIONAL_FORMATS.get(self.format)
        if self.max_age_days is not None or national is None:
            return self.max_age_days
        return national.max_age_days


class CallRecordsSource(_Section):
    """The dialler's call log: one row per call attempt; columns default to the names shown."""

    path: str
    call_id_column: str = "call_id"
    cli_column: str = "cli"
    dialled_column: str = "dialled"
    started_at_column: str = "started_at"
    duration_column: str = "duration_s"
    disposition_column: str = "disposition"
    complaint_column: str | None = None


class NumberEstateSource(_Section):
    """The CLIs the programme owns: one row per CLI, with an optional reputation label and its check date."""

    path: str
    cli_column: str = "cli"
    pool_column: str = "pool"
    carrier_column: str = "carrier"
    attestation_column: str = "attestation"
    reputation_label_column: str | None = None
    reputation_checked_column: str | None = None

    @model_validator(mode="after")
    def _label_with_its_date(self) -> NumberEstateSource:
        if (self.reputation_label_column is None) != (self.reputation_checked_column is None):
            raise ValueError(
                "reputation_label_column and reputation_checked_column go together: a label needs its date"
            )
        return self


class HealthThresholds(_Section):
    """When a CLI is watched, rested or retired; rates compare the recent days with the CLI's own trailing days."""

    recent_days: int = Field(default=3, gt=0)
    trailing_days: int = Field(default=14, gt=0)
    min_calls: int = Field(default=20, gt=0)
    watch_answer_rate_ratio: float = Field(default=0.7, gt=0, le=1)
    rest_answer_rate_ratio: float = Field(default=0.5, gt=0, le=1)
    watch_short_call_share: float = Field(default=0.3, gt=0, le=1)
    rest_short_call_share: float = Field(default=0.5, gt=0, le=1)
    watch_cap_breach_days: int = Field(default=1, gt=0)
    rest_cap_breach_days: int = Field(default=2, gt=0)
    retire_labels: list[str] = ["spam", "spam_likely", "scam_likely", "fraud"]

    @field_validator("retire_labels")
    @classmethod
    def _lower_case(cls, labels: list[str]) -> list[str]:
        return [label.strip().lower() for label in labels]

    @model_validator(mode="after")
    def _rest_is_worse_than_watch(self) -> HealthThresholds:
        if self.rest_answer_rate_ratio > self.watch_answer_rate_ratio:
            raise ValueError("rest_answer_rate_ratio must not exceed watch_answer_rate_ratio")
        if self.rest_short_call_share < self.watch_short_call_share:
            raise ValueError("rest_short_call_share must not be below watch_short_call_share")
        if self.rest_cap_breach_days < self.watch_cap_breach_days:
            raise ValueError("rest_cap_breach_days must not be below watch_cap_breach_days")
        return self


class CallAnalytics(_Section):
    """Call analytics: the call log and number estate (both or neither), and the rules they are judged by."""

    records: CallRecordsSource | None = None
    estate: NumberEstateSource | None = None
    # Practitioners keep a CLI to 20–30 calls a day; outside that range is a typo, not a policy.
    daily_cap: int = Field(default=25, ge=20, le=30)
    short_call_s: int = Field(default=10, gt=0)
    health: HealthThresholds = HealthThresholds()

    @model_validator(mode="before")
    @classmethod
    def _calling_rules_moved(cls, raw: object) -> object:
        moved = sorted(set(raw) & {"calling_hours", "states"}) if isinstance(raw, dict) else []
        if moved:
            raise ValueError(
                f"{' and '.join(moved)} moved to calling_time.jurisdictions (US for the federal hours, US-FL for "
                "a state), which the clean lists obey too; see docs/calling-time.md"
            )
        return raw

    @model_validator(mode="after")
    def _records_with_estate(self) -> CallAnalytics:
        if (self.records is None) != (self.estate is None):
            raise ValueError("records and estate go together: CLI health needs both the calls and the estate")
        return self

    @property
    def is_configured(self) -> bool:
        """Whether there is a call log to analyse; calling windows apply either way."""
        return self.records is not None


class Signing(_Section):
    """The Ed25519 private key that signs certificates and manifests: a PEM file (relative to the data
    directory) or an environment variable holding the PEM text; exactly one."""

    private_key_file: str | None = None
    private_key_env: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Signing:
        if (self.private_key_file is None) == (self.private_key_env is None):
            raise ValueError("name the key in exactly one of private_key_file and private_key_env")
        return self


class RetiredRegistry(_Section):
    """A registry deliberately no longer used: without this entry, a registry that disappears fails the run."""

    name: str
    retired_on: date
    reason: str = Field(min_length=1)
    # The registry that takes its place (a rename): it inherits the shrink guard's baseline.
    replaced_by: str | None = None


class InboxSettings(_Section):
    """When the inbox sensor starts a run (see `pipelines.inputs.inbox`)."""

    # How long the inbox's files must hold still (sizes and modification times) before a run starts.
    settle_seconds: int = Field(default=60, ge=0)
    # Wait also for the sender's `inbox/_READY` marker.
    ready_marker: bool = False


class Retention(_Section):
    """How long what runs leave behind is kept; pruned when a run publishes, judged on the run's clock."""

    # `work/<run id>/` of a run that never published: its intermediates, for inspection or re-execution.
    failed_work_days: int = Field(default=7, ge=0)
    # `quarantine/<run id>/`: the records a run could not read.
    quarantine_days: int = Field(default=90, ge=0)
    # `published/runs/<run id>/` older than this is archived: its lists go, its manifest, certificates and
    # number outcomes stay under `published/archive/<run id>/`. None (the default) keeps every run whole.
    run_days: int | None = Field(default=None, ge=1)


class ScrubSettings(_Section):
    """How the scrub runs: in how many steps, each scrubbing one range of numbers (`suppression.shards`)."""

    # 1 scrubs every lead in one step; more split the scrub by number range, a step each, for the executor to
    # spread over processes or pods.
    shards: int = 1

    @field_validator("shards", mode="before")
    @classmethod
    def _shard_count(cls, shards: object) -> object:
        if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= MAX_SCRUB_SHARDS:
            raise ValueError(
                f"the number of steps the scrub splits into by number range: a whole number from 1 (every lead "
                f"in one step, the default) to {MAX_SCRUB_SHARDS}, not {shards!r}"
            )
        return shards


class RegistryArchive(_Section):
    """Each registry copy a run scrubs against, kept once under `registry_archive/<sha256>` (docs/audit.md), so
    a certificate's list can be produced years later."""

    enabled: bool = True
    # A copy larger than this is not archived (a full national list is gigabytes); its certificate says so.
    max_bytes: int = Field(default=REGISTRY_ARCHIVE_MAX_BYTES, gt=0)


DiallerProfile = Literal["generic", "vicidial", "five9", "genesys"]


class DiallerFiles(_Section):
    """The files each campaign's clean list is published as, by profile (docs/outputs.md#dialler-files):
    `default` for every campaign, `campaigns` to choose per campaign (the dialler file's stem)."""

    default: list[DiallerProfile] = ["generic"]
    campaigns: dict[str, list[DiallerProfile]] = {}

    @field_validator("default")
    @classmethod
    def _some_profile(cls, profiles: list[str]) -> list[str]:
        if not profiles:
            raise ValueError("name at least one profile: generic, vicidial, five9 or genesys")
        return profiles

    @field_validator("campaigns")
    @classmethod
    def _some_profile_each(cls, campaigns: dict[str, list[str]]) -> dict[str, list[str]]:
        for campaign, profiles in campaigns.items():
            if not profiles:
                raise ValueError(f"campaign '{campaign}': name at least one profile")
        return campaigns

    def profiles_for(self, campaign: str) -> list[str]:
        """The profiles a campaign's list is published in, each once, in the order configured."""
        return list(dict.fromkeys(self.campaigns.get(campaign, self.default)))


class ScrublineConfig(_Section):
    """The whole of `scrubline.yaml`, with paths resolved against the data directory."""

    default_region: str
    crm: CrmSource
    dialler: DiallerSource
    registries: list[Registry]
    # Seller → its campaigns (dialler file stems). An opt-out binds its seller's every campaign (47 CFR
    # 64.1200(d)(3)); without `sellers` every campaign belongs to one seller.
    sellers: dict[str, list[str]] | None = None
    retired_registries: list[RetiredRegistry] = []
    # Without it runs are unsigned, and their certificates say so.
    signing: Signing | None = None
    # A list stops being usable this many days after its run's date at the latest: opt-outs taken since must
    # be honoured within 10 business days (47 CFR 64.1200(d)(3)), never fewer than 10 calendar days.
    max_list_age_days: int = Field(default=MAX_LIST_AGE_DAYS, gt=0, le=MAX_LIST_AGE_DAYS)
    calls: CallAnalytics = CallAnalytics()
    calling_time: CallingTime = CallingTime()
    inbox: InboxSettings = InboxSettings()
    retention: Retention = Retention()
    dialler_files: DiallerFiles = DiallerFiles()
    registry_archive: RegistryArchive = RegistryArchive()
    scrub: ScrubSettings = ScrubSettings()
    # `scrubline serve`: where it listens and the API keys it accepts (see docs/service.md).
    serve: ServeSettings = ServeSettings()

    _region = field_validator("default_region")(_check_region)

    @field_validator("registries")
    @classmethod
    def _unique_names(cls, registries: list[Registry]) -> list[Registry]:
        names = [registry.name for registry in registries]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"registry names must be unique; repeated: {', '.join(duplicates)}")
        return registries

    @field_validator("sellers")
    @classmethod
    def _one_seller_per_campaign(cls, sellers: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if sellers is None:
            return None
        if not sellers or not all(sellers.values()):
            raise ValueError("list each seller with at least one campaign, or omit sellers for one seller")
        campaigns = [campaign for listed in sellers.values() for campaign in listed]
        shared = sorted({campaign for campaign in campaigns if campaigns.count(campaign) > 1})
        if shared:
            raise ValueError(f"a campaign belongs to one seller; listed under several: {', '.join(shared)}")
        ambiguous = sorted(set(sellers) & set(campaigns))
        if ambiguous:
            raise ValueError(
                f"an opt-out scope must name one thing; both a seller and a campaign: {', '.join(ambiguous)}"
            )
        return sellers

    @model_validator(mode="after")
    def _consistent(self) -> ScrublineConfig:
        is_ebr_configured = self.crm.last_purchase_column or self.crm.last_inquiry_column
        if is_ebr_configured and self.sellers is not None and len(self.sellers) > 1:
            raise ValueError(
                "crm: an established business relationship is with one seller, and the CRM does not say which; "
                "with several sellers remove last_purchase_column and last_inquiry_column (no EBR exemptions)"
            )
        configured = {registry.name for registry in self.registries}
        retired = {entry.name for entry in self.retired_registries}
        active = sorted(retired & configured)
        if active:
            raise ValueError(f"retired_registries names registries still configured: {', '.join(active)}")
        successors = sorted(
            {entry.replaced_by for entry in self.retired_registries if entry.replaced_by is not None} - configured
        )
        if successors:
            raise ValueError(
                f"retired_registries: replaced_by names no configured registry: {', '.join(successors)}; a "
                "misspelt successor would drop the retired registry's shrink baseline"
            )
        return self

    def check_dialler_file_campaigns(self, campaigns: Iterable[str]) -> None:
        """Every campaign `dialler_files.campaigns` names is one of tonight's dialler files or listed under
        `sellers`: a misspelt name would quietly give that campaign the default profiles."""
        listed = {campaign for seller_campaigns in (self.sellers or {}).values() for campaign in seller_campaigns}
        unknown = sorted(set(self.dialler_files.campaigns) - set(campaigns) - listed)
        if unknown:
            raise ConfigError(
                f"scrubline.yaml: dialler_files.campaigns names {', '.join(unknown)}, which is no dialler file's "
                "campaign (its file name without extension) and no campaign under sellers: correct the name"
            )

    def seller_of(self, campaign: str) -> str | None:
        """The seller a campaign belongs to; None when `sellers` lists it nowhere."""
        if self.sellers is None:
            return DEFAULT_SELLER
        return next((seller for seller, campaigns in self.sellers.items() if campaign in campaigns), None)


def load_config(data_dir: Path) -> ScrublineConfig:
    """Read and validate `<data_dir>/scrubline.yaml`; every problem names its key."""
    path = data_dir / CONFIG_FILE_NAME
    return with_live_opt_outs(validated_config(read_yaml(path), path), data_dir=data_dir)


def read_yaml(path: Path) -> object:
    """A `scrubline.yaml` as YAML's values; a missing, unreadable or malformed file is an error naming it."""
    if not path.is_file():
        raise ConfigError(
            f"{path}: no {CONFIG_FILE_NAME} here; set SCRUBLINE_DATA_DIR to a data directory that has one"
        )
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except _DuplicateKey as error:
        raise ConfigError(f"{path}: {error}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start}); save it as UTF-8"
        ) from None
    except RecursionError:
        raise ConfigError(
            f"{path}: nested too deeply to be a Scrubline configuration (which has a few levels); "
            "check that the file is the one you meant"
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error


def validated_config(raw: object, path: Path) -> ScrublineConfig:
    """`raw` as a configuration; every problem names its key, reported against the file `path`."""
    try:
        return ScrublineConfig.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(_describe(problem, raw) for problem in error.errors())
        raise ConfigError(f"{path}: {problems}") from error


def with_live_opt_outs(config: ScrublineConfig, *, data_dir: Path) -> ScrublineConfig:
    """`config` plus the opt-outs `scrubline serve` took since (`opt-outs/journal.csv`), as the internal registry
    `live_opt_outs`, once the journal holds one: dated, scoped to a seller or a campaign (blank: every seller)."""
    if not journal_has_entries(data_dir):
        return config
    if any(registry.name == LIVE_OPT_OUTS for registry in config.registries):
        raise ConfigError(
            f"{data_dir / CONFIG_FILE_NAME}: registries[{LIVE_OPT_OUTS}]: the name is reserved for the opt-outs "
            f"scrubline serve records ({JOURNAL_PATH}); rename this registry"
        )
    live = Registry(
        name=LIVE_OPT_OUTS,
        format="plain",
        path=JOURNAL_PATH,
        phone_column="phone",
        requested_at_column="requested_at",
        seller_column="seller",
        region=config.default_region,
    )
    return config.model_copy(update={"registries": [*config.registries, live]})


class _DuplicateKey(yaml.YAMLError):
    """A key repeated in one YAML mapping."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key repeated in one mapping is an error: YAML would keep only the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        lines: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in lines:
                raise _DuplicateKey(f"key '{key}' appears twice, on lines {lines[key]} and {line}; keep one")
            lines[key] = line
        return super().construct_mapping(node, deep=deep)


def matching_files(data_dir: Path, pattern: str) -> list[Path]:
    """The files a config glob matches under the data directory, sorted by path; possibly none."""
    return sorted(Path(match) for match in glob.glob(str(data_dir / pattern)) if Path(match).is_file())


def resolve_files(data_dir: Path, pattern: str, *, key: str) -> list[Path]:
    """The files a config glob matches, sorted; matching nothing, or anything outside the data directory
    (a `..`, an absolute path, a symlink out of it), is an error naming the key."""
    where = f"{data_dir / CONFIG_FILE_NAME}: {key} '{pattern}'"
    root = data_dir.resolve()
    if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise ConfigError(f"{where} leaves the data directory; write it relative to {root}, without '..'")
    files = matching_files(data_dir, pattern)
    if not files:
        raise ConfigError(f"{where} matches no file under {data_dir}; put the files there or correct the path")
    outside = [path for path in files if not path.resolve().is_relative_to(root)]
    if outside:
        raise ConfigError(
            f"{where} matches {outside[0]}, a link to {outside[0].resolve()} outside the data directory; "
            "inputs are read only from inside it: copy the file in instead of linking it"
        )
    return files


def _describe(problem: dict, raw: object) -> str:
    """`<key>: <message>`, a registry named by its name (`registries[us_dnc].path`), not its position."""
    parts = [str(part) for part in problem["loc"]]
    if parts[:1] == ["registries"] and len(parts) > 1:
        parts[:2] = [f"registries[{_registry_name(raw, int(parts[1]))}]"]
    key = ".".join(parts) or "(top level)"
    message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"].removeprefix("Value error, ")
    return f"{key}: {message}"


def _registry_name(raw: object, index: int) -> str:
    """The `name` of the index-th registry as written, or its position when it has none."""
    registries = raw.get("registries") if isinstance(raw, dict) else None
    entry = registries[index] if isinstance(registries, list) and index < len(registries) else None
    name = entry.get("name") if isinstance(entry, dict) else None
    return str(name) if name is not None else f"#{index + 1}"
