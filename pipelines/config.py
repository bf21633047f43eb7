"""`scrubline.yaml`: the data directory's declaration of its inputs, validated on load."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Literal

import phonenumbers
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from pipelines.errors import ConfigError

CONFIG_FILE_NAME = "scrubline.yaml"


class _Section(BaseModel):
    """A config section: unknown keys are errors, so a typo never silently disables a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_region(region: str) -> str:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"'{region}' is not an ISO 3166 alpha-2 region phonenumbers supports (e.g. US, GB)")
    return region


class CrmSource(_Section):
    """CRM exports: one row per contact, several phone columns."""

    path: str
    id_column: str
    phone_columns: list[str]
    country_column: str | None = None
    do_not_call_column: str | None = None

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
    """A suppression source: every number it holds is suppressed everywhere."""

    name: str
    format: Literal["plain"]
    path: str
    phone_column: str | None = None
    region: str

    _region = field_validator("region")(_check_region)


class ScrublineConfig(_Section):
    """The whole of `scrubline.yaml`, with paths resolved against the data directory."""

    default_region: str
    crm: CrmSource
    dialler: DiallerSource
    registries: list[Registry]

    _region = field_validator("default_region")(_check_region)

    @field_validator("registries")
    @classmethod
    def _unique_names(cls, registries: list[Registry]) -> list[Registry]:
        names = [registry.name for registry in registries]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"registry names must be unique; repeated: {', '.join(duplicates)}")
        return registries


def load_config(data_dir: Path) -> ScrublineConfig:
    """Read and validate `<data_dir>/scrubline.yaml`; every problem names its key."""
    path = data_dir / CONFIG_FILE_NAME
    if not path.is_file():
        raise ConfigError(
            f"{path}: no {CONFIG_FILE_NAME} here; set SCRUBLINE_DATA_DIR to a data directory that has one"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    try:
        return ScrublineConfig.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(_describe(problem) for problem in error.errors())
        raise ConfigError(f"{path}: {problems}") from error


def resolve_files(data_dir: Path, pattern: str, *, key: str) -> list[Path]:
    """The files a config glob matches, sorted; matching nothing is an error naming the key."""
    files = sorted(Path(match) for match in glob.glob(str(data_dir / pattern)) if Path(match).is_file())
    if not files:
        raise ConfigError(
            f"{data_dir / CONFIG_FILE_NAME}: {key} '{pattern}' matches no file under {data_dir}; "
            "put the files there or correct the path"
        )
    return files


def _describe(problem: dict) -> str:
    key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
    message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
    return f"{key}: {message}"
