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
        (("default_region: US", "default_region: XX"), "default_region: 'XX' is not an ISO 3166"),
        (("phone_columns: [phone, mobile]", "phone_columns: []"), "crm.phone_columns: list at least one"),
        (("format: plain\n    path: inbox/registries/litigators", "format: xml\n    path: inbox/registries/litigators"),
         "registries[litigators].format: Input should be 'plain'"),
        (("name: litigators", "name: internal_optouts"), "registry names must be unique; repeated: internal_optouts"),
        (("dialler:\n", "dialer:\n"), "dialer: unknown key"),
        (("name: litigators", "name: litigators\n    requested_at_column: requested_at"),
         "registries[litigators]: registry 'litigators' (format plain): requested_at_column and seller_column "
         "need a CSV registry with phone_column"),
        (("name: litigators", "name: litigators\n    max_shrink: 5"),
         "registries[litigators].max_shrink: Input should be less than or equal to 1"),
        (("name: litigators", "name: litigators\n    accept_shrink: 1a2b"),
         "registries[litigators].accept_shrink: String should match pattern"),
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
         "registries[us_national_dnc]: registry 'us_national_dnc' (format us_dnc): downloaded_on is required"),
        (NATIONAL_REGISTRY + "    region: US\n",
         "registries[us_national_dnc]: registry 'us_national_dnc' (format us_dnc): the format implies region US"),
        (NATIONAL_REGISTRY.replace("us_dnc", "tps") + "    phone_column: phone\n",
         "(format tps): phone_column applies only to format plain"),
        (NATIONAL_REGISTRY.replace("us_dnc", "wildcard"),
         "registries[us_national_dnc]: registry 'us_national_dnc' (format wildcard): region is required"),
        (NATIONAL_REGISTRY.replace("us_dnc", "dncl") + "    changes: inbox/changes/*.txt\n",
         "(format dncl): changes applies only to format us_dnc"),
        (NATIONAL_REGISTRY + "    changes: inbox/changes/*.txt\n",
         "(format us_dnc): changes needs full_list_downloaded_on (YYYY-MM-DD), the day the full list was"),
        (NATIONAL_REGISTRY.replace("    downloaded_on: 2026-11-20\n", "").replace("us_dnc", "plain")
         + "    region: US\n    max_age_days: 7\n",
         "registries[us_national_dnc]: registry 'us_national_dnc' (format plain): max_age_days needs downloaded_on"),
        (NATIONAL_REGISTRY + "    jurisdiction: [XX]\n", "[us_national_dnc].jurisdiction: 'XX' is not an ISO"),
        (NATIONAL_REGISTRY + "    jurisdiction: []\n", "registries[us_national_dnc].jurisdiction: list at least one"),
        (NATIONAL_REGISTRY + "    max_age_days: 0\n", "[us_national_dnc].max_age_days: Input should be greater than 0"),
        (NATIONAL_REGISTRY.replace("2026-11-20", "20/11/2026"), "[us_national_dnc].downloaded_on: Input should be"),
        (NATIONAL_REGISTRY + "    downloaded: 2026-11-20\n", "registries[us_national_dnc].downloaded: unknown key"),
        (NATIONAL_REGISTRY + "    max_age_days: 32\n",
         "(format us_dnc): max_age_days 32 is longer than the legal maximum of 31 days for us_dnc copies"),
        (NATIONAL_REGISTRY.replace("us_dnc", "dncl") + "    max_age_days: 32\n",
         "(format dncl): max_age_days 32 is longer than the legal maximum of 31 days for dncl copies"),
        (NATIONAL_REGISTRY.replace("us_dnc", "tps") + "    max_age_days: 29\n",
         "(format tps): max_age_days 29 is longer than the legal maximum of 28 days for tps copies"),
        (NATIONAL_REGISTRY + "    max_invalid_share: 1.5\n",
         "registries[us_national_dnc].max_invalid_share: Input should be less than or equal to 1"),
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


@pytest.mark.parametrize(("registry_format", "max_age_days"), [("us_dnc", 31), ("dncl", 31), ("tps", 28), ("tps", 1)])
def test_a_national_maximum_age_may_be_the_legal_one_or_stricter(
    tmp_path: Path, registry_format: str, max_age_days: int
) -> None:
    entry = NATIONAL_REGISTRY.replace("us_dnc", registry_format) + f"    max_age_days: {max_age_days}\n"
    assert load_config(write_config(tmp_path, SCRUBLINE_YAML + entry)).registries[2].maximum_age_days == max_age_days


def test_a_key_written_twice_is_an_error_naming_the_key_and_both_lines(tmp_path: Path) -> None:
    repeated = SCRUBLINE_YAML + "registries:\n  - name: litigators\n    format: plain\n    path: x\n    region: US\n"
    with pytest.raises(ConfigError, match=r"scrubline.yaml: key 'registries' appears twice, on lines 13 and 23; keep"):
        load_config(write_config(tmp_path, repeated))


def test_a_key_written_twice_inside_a_registry_is_an_error_too(tmp_path: Path) -> None:
    repeated = SCRUBLINE_YAML.replace("    region: US\n", "    region: US\n    region: GB\n", 1)
    with pytest.raises(ConfigError, match=r"key 'region' appears twice, on lines 18 and 19"):
        load_config(write_config(tmp_path, repeated))


@pytest.mark.parametrize(
    ("crm_key", "message"),
    [
        ("ebr_purchase_months: 19", "crm.ebr_purchase_months: Input should be less than or equal to 18"),
        ("ebr_inquiry_months: 4", "crm.ebr_inquiry_months: Input should be less than or equal to 3"),
        ("honour_years: 4", "crm.honour_years: Input should be greater than or equal to 5"),
    ],
)
def test_the_ebr_rules_may_only_be_tightened(tmp_path: Path, crm_key: str, message: str) -> None:
    config = SCRUBLINE_YAML.replace(
        "  do_not_call_column: do_not_call\n", f"  do_not_call_column: do_not_call\n  {crm_key}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, config))
    assert message in str(error.value)


SELLERS = "sellers:\n  acme: [spring]\n  bolt: [winback]\n"


def test_campaigns_belong_to_their_configured_seller_or_to_one_default_seller(tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path, SCRUBLINE_YAML)).seller_of("spring") == "default"
    config = load_config(write_config(tmp_path, SCRUBLINE_YAML + SELLERS))
    assert [config.seller_of(campaign) for campaign in ("spring", "winback", "autumn")] == ["acme", "bolt", None]


@pytest.mark.parametrize(
    ("addition", "message"),
    [
        ("sellers:\n  acme: [spring]\n  bolt: [spring]\n", "a campaign belongs to one seller; listed under several"),
        ("sellers:\n  acme: []\n", "list each seller with at least one campaign"),
        ("sellers:\n  acme: [bolt]\n  bolt: [winback]\n", "both a seller and a campaign: bolt"),
        ("retired_registries:\n  - {name: litigators, retired_on: 2026-11-01, reason: merged}\n",
         "retired_registries names registries still configured: litigators"),
        ("retired_registries:\n  - {name: old_list, retired_on: 2026-11-01}\n", "retired_registries.0.reason: Field"),
        ("retired_registries:\n  - {name: dnc, retired_on: 2026-11-01, reason: renamed, replaced_by: litigator}\n",
         "replaced_by names no configured registry: litigator"),
        ("max_list_age_days: 11\n", "max_list_age_days: Input should be less than or equal to 10"),
        ("dialler_files:\n  default: [avaya]\n", "dialler_files.default.0: Input should be 'generic', 'vicidial'"),
        ("dialler_files:\n  default: []\n", "dialler_files.default: name at least one profile"),
        ("dialler_files:\n  campaigns: {spring: []}\n", "campaign 'spring': name at least one profile"),
    ],
)  # fmt: skip
def test_sellers_and_retired_registries_are_checked(tmp_path: Path, addition: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, SCRUBLINE_YAML + addition))
    assert message in str(error.value)


def test_ebr_with_several_sellers_is_refused_because_the_crm_does_not_say_whose_customer(tmp_path: Path) -> None:
    config = SCRUBLINE_YAML.replace(
        "  do_not_call_column: do_not_call\n", "  do_not_call_column: do_not_call\n  last_purchase_column: p\n"
    )
    with pytest.raises(ConfigError, match="an established business relationship is with one seller"):
        load_config(write_config(tmp_path, config + SELLERS))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "default_region: US\n# Gen\xe8ve\n".encode("latin-1"),
            "not UTF-8 text (byte 0xe8 at offset 24); save it as UTF-8",
        ),
        (
            b"[" * 20_000 + b"]" * 20_000,
            "nested too deeply to be a Scrubline configuration (which has a few levels); check that the file is "
            "the one you meant",
        ),
    ],
    ids=["latin_1_byte", "20000_deep"],
)
def test_a_config_that_is_not_yaml_text_fails_naming_the_file(tmp_path: Path, text: bytes, message: str) -> None:
    (tmp_path / "scrubline.yaml").write_bytes(text)
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert str(raised.value) == f"{tmp_path / 'scrubline.yaml'}: {message}"


@pytest.mark.parametrize("pattern", ["../../etc/*", "inbox/../../outside/*.csv", "/etc/*"])
def test_a_glob_that_leaves_the_data_directory_is_refused(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(ConfigError, match=r"crm.path '.*' leaves the data directory; write it relative to"):
        resolve_files(tmp_path / "data", pattern, key="crm.path")


def test_a_symlink_out_of_the_data_directory_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere/leads.csv"
    secret.parent.mkdir()
    secret.write_text("lead_id,phone\nL1,2015550123\n")
    inbox = tmp_path / "data/inbox"
    inbox.mkdir(parents=True)
    (inbox / "own.csv").write_text("lead_id,phone\n")
    (inbox / "linked.csv").symlink_to(secret)
    with pytest.raises(ConfigError) as raised:
        resolve_files(tmp_path / "data", "inbox/*.csv", key="dialler.path")
    assert f"dialler.path 'inbox/*.csv' matches {inbox / 'linked.csv'}, a link to {secret} outside" in str(raised.value)
    assert "2015550123" not in str(raised.value)


@pytest.mark.parametrize("shards", ["0", "65", "2.5", "two", "true"])
def test_scrub_shards_is_a_whole_number_of_steps_from_1_to_64(tmp_path: Path, shards: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, SCRUBLINE_YAML + f"scrub:\n  shards: {shards}\n"))
    assert "scrub.shards: the number of steps the scrub splits into by number range: a whole number from 1" in str(
        error.value
    )


def test_the_scrub_runs_in_one_step_unless_configured(tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path, SCRUBLINE_YAML)).scrub.shards == 1
    assert load_config(write_config(tmp_path, SCRUBLINE_YAML + "scrub:\n  shards: 4\n")).scrub.shards == 4
