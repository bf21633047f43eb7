"""`scrubline.yaml` is validated on load, and every error names its key or path."""

from pathlib import Path

import pytest

from pipelines.config import load_config, resolve_files
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
