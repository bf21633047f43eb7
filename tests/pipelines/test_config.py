"""`scrubline.yaml` is validated on load, and every error names its key or path."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipelines.config import Registry, load_config, resolve_files
from pipelines.errors import ConfigError
from tests.handmade import SCRUBLINE_YAML


def write_config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "scrubline.yaml").write_text(text)
    return tmp_path


def test_the_handmade_config_loads(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, SCRUBLINE_YAML))
    assert config.default_region == "US"
    assert config.crm.phone_columns == ["phone", "mobile"]
    assert [registry.name for registry in config.registries] == ["internal_optouts", "litigators"]
    assert config.registries[1].phone_column is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  id_column: lead_id\n", "  id_column: lead_id\n  phone_colum: x\n"), "dialler.phone_colum: unknown key"),
        (("default_region: US", "default_region: XX"), "default_region: Value error, 'XX' is not an ISO 3166"),
        (("phone_columns: [phone, mobile]", "phone_columns: []"), "crm.phone_columns: Value error, list at least one"),
        (("format: plain\n    path: inbox/registries/litigators", "format: xml\n    path: inbox/registries/litigators"),
         "registries.1.format: Input should be 'plain'"),
        (("name: litigators", "name: internal_optouts"), "registry names must be unique; repeated: internal_optouts"),
        (("dialler:\n", "dialer:\n"), "dialer: unknown key"),
        (("name: litigators", "name: litigators\n    requested_at_column: requested_at"),
         "registries.1: Value error, registry 'litigators' (format plain): requested_at_column and campaign_column "
         "need a CSV registry with phone_column"),
        (("name: litigators", "name: litigators\n    max_shrink: 5"),
         "registries.1.max_shrink: Input should be less than or equal to 1"),
        (("name: litigators", "name: litigators\n    accept_shrink: 1a2b"),
         "registries.1.accept_shrink: String should match pattern"),
    ],
)  # fmt: skip
def test_a_bad_config_names_the_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    assert change[0] in SCRUBLINE_YAML
    with pytest.raises(ConfigError, match="scrubline.yaml: ") as error:
        load_config(write_config(tmp_path, SCRUBLINE_YAML.replace(*change)))
    assert message in str(error.value)


def test_a_missing_config_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"{tmp_path}/scrubline.yaml: no scrubline.yaml here; set SCRUBLINE_DATA_DIR"):
        load_config(tmp_path)


def test_malformed_yaml_is_reported_as_such(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write_config(tmp_path, "crm: [unclosed"))


def test_a_glob_matching_nothing_names_the_key_and_pattern(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"crm.path 'inbox/crm/\*.csv' matches no file under"):
        resolve_files(tmp_path, "inbox/crm/*.csv", key="crm.path")


def test_a_glob_returns_files_sorted(tmp_path: Path) -> None:
    for name in ("b.csv", "a.csv"):
        (tmp_path / name).write_text("x\n1\n")
    assert resolve_files(tmp_path, "*.csv", key="k") == [tmp_path / "a.csv", tmp_path / "b.csv"]


NATIONAL_REGISTRY = """\
  - name: us_national_dnc
    format: us_dnc
    path: inbox/registries/national/*.txt
    downloaded_on: 2026-11-20
"""


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (NATIONAL_REGISTRY.replace("    downloaded_on: 2026-11-20\n", ""),
         "registries.2: Value error, registry 'us_national_dnc' (format us_dnc): downloaded_on is required"),
        (NATIONAL_REGISTRY + "    region: US\n",
         "registries.2: Value error, registry 'us_national_dnc' (format us_dnc): the format implies region US; remove"),
        (NATIONAL_REGISTRY.replace("us_dnc", "tps") + "    phone_column: phone\n",
         "(format tps): phone_column applies only to format plain"),
        (NATIONAL_REGISTRY.replace("us_dnc", "wildcard"),
         "registries.2: Value error, registry 'us_national_dnc' (format wildcard): region is required"),
        (NATIONAL_REGISTRY.replace("us_dnc", "dncl") + "    changes: inbox/changes/*.txt\n",
         "(format dncl): changes applies only to format us_dnc"),
        (NATIONAL_REGISTRY + "    changes: inbox/changes/*.txt\n",
         "(format us_dnc): changes needs full_list_downloaded_on (YYYY-MM-DD), the day the full list was"),
        (NATIONAL_REGISTRY.replace("    downloaded_on: 2026-11-20\n", "").replace("us_dnc", "plain")
         + "    region: US\n    max_age_days: 7\n",
         "registries.2: Value error, registry 'us_national_dnc' (format plain): max_age_days needs downloaded_on"),
        (NATIONAL_REGISTRY + "    jurisdiction: [XX]\n", "registries.2.jurisdiction: Value error, 'XX' is not an ISO"),
        (NATIONAL_REGISTRY + "    jurisdiction: []\n", "registries.2.jurisdiction: Value error, list at least one"),
        (NATIONAL_REGISTRY + "    max_age_days: 0\n", "registries.2.max_age_days: Input should be greater than 0"),
        (NATIONAL_REGISTRY.replace("2026-11-20", "20/11/2026"), "registries.2.downloaded_on: Input should be a valid"),
        (NATIONAL_REGISTRY + "    downloaded: 2026-11-20\n", "registries.2.downloaded: unknown key"),
    ],
)  # fmt: skip
def test_a_registry_that_does_not_fit_its_format_names_the_key(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, SCRUBLINE_YAML + entry))
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("entry", "number_region", "covered_regions", "maximum_age_days"),
    [
        (NATIONAL_REGISTRY, "US", ["US", "PR", "VI", "GU", "AS", "MP"], 31),
        (NATIONAL_REGISTRY.replace("us_dnc", "dncl"), "CA", ["CA"], 31),
        (NATIONAL_REGISTRY.replace("us_dnc", "tps"), "GB", ["GB", "GG", "IM", "JE"], 28),
        (NATIONAL_REGISTRY + "    max_age_days: 14\n    jurisdiction: [US, PR]\n", "US", ["US", "PR"], 14),
        (NATIONAL_REGISTRY.replace("us_dnc", "wildcard") + "    region: US\n", "US", None, None),
        (NATIONAL_REGISTRY.replace("us_dnc", "plain") + "    region: GB\n    jurisdiction: [GB]\n", "GB", ["GB"], None),
    ],
    ids=["us_dnc", "dncl", "tps", "configured", "wildcard", "plain"],
)  # fmt: skip
def test_a_registry_s_format_implies_its_region_jurisdiction_and_maximum_age(
    tmp_path: Path, entry: str, number_region: str, covered_regions: list[str] | None, maximum_age_days: int | None
) -> None:
    registry = load_config(write_config(tmp_path, SCRUBLINE_YAML + entry)).registries[2]
    assert (registry.number_region, registry.covered_regions, registry.maximum_age_days) == (
        number_region, covered_regions, maximum_age_days,
    )  # fmt: skip


def test_kind_is_for_plain_and_wildcard_lists_a_national_format_is_national_already() -> None:
    with pytest.raises(ValidationError, match="the format is a national registry already; remove kind"):
        Registry(name="dnc", format="us_dnc", path="x", downloaded_on="2026-11-20", kind="state")
