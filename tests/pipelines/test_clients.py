"""A data directory of clients: each client's configuration is the shared one with its own over it, and reads only
inside its own folder."""

from pathlib import Path

import pytest

from pipelines.clients import client_home, client_names, load_client_config, load_config_for
from pipelines.config import load_config
from pipelines.errors import ConfigError
from tests.handmade import CLIENT_YAML, SHARED_YAML, write_clients_data_dir, write_data_dir


def test_a_client_reads_the_shared_registries_and_its_own_inputs(tmp_path: Path) -> None:
    data_dir = write_clients_data_dir(tmp_path / "data", SHARED_YAML + "max_list_age_days: 5\n")
    config = load_client_config(data_dir, "south")
    assert [registry.path for registry in config.registries] == [
        "inbox/registries/internal/*.csv",
        "inbox/registries/litigators/*.txt",
    ]
    assert config.crm.path == "clients/south/inbox/crm/*.csv"
    assert config.dialler.path == "clients/south/inbox/dialler/*.csv"
    assert config.max_list_age_days == 5  # a default the shared file sets


def test_a_client_overrides_a_shared_default_key_by_key(tmp_path: Path) -> None:
    data_dir = write_clients_data_dir(tmp_path / "data", SHARED_YAML + "max_list_age_days: 5\n")
    (data_dir / "clients/north/scrubline.yaml").write_text(CLIENT_YAML + "max_list_age_days: 3\n")
    assert load_client_config(data_dir, "north").max_list_age_days == 3
    assert load_client_config(data_dir, "south").max_list_age_days == 5


def test_the_clients_are_the_folders_with_a_configuration(tmp_path: Path) -> None:
    data_dir = write_clients_data_dir(tmp_path / "data")
    (data_dir / "clients/not-yet").mkdir()
    assert client_names(data_dir) == ["north", "south"]
    assert client_home(data_dir, "north") == data_dir / "clients/north"
    assert client_home(data_dir, None) == data_dir
    assert client_names(write_data_dir(tmp_path / "one")) == []


@pytest.mark.parametrize(
    ("client_yaml", "message"),
    [
        (
            CLIENT_YAML.replace("inbox/crm/*.csv", "../south/inbox/crm/*.csv"),
            "clients/north/scrubline.yaml: crm.path '../south/inbox/crm/*.csv' leaves the client's folder",
        ),
        (
            CLIENT_YAML.replace("inbox/dialler/*.csv", "/data/clients/south/inbox/dialler/*.csv"),
            "clients/north/scrubline.yaml: dialler.path '/data/clients/south/inbox/dialler/*.csv' leaves the client's",
        ),
        (
            CLIENT_YAML + "registries: []\n",
            "clients/north/scrubline.yaml: registries: not allowed here; registries are shared",
        ),
        (CLIENT_YAML + "crm_typo: 1\n", "clients/north/scrubline.yaml: crm_typo: unknown key"),
    ],
)
def test_a_client_configuration_that_reaches_beyond_the_client_is_refused_naming_file_and_key(
    tmp_path: Path, client_yaml: str, message: str
) -> None:
    data_dir = write_clients_data_dir(tmp_path / "data")
    (data_dir / "clients/north/scrubline.yaml").write_text(client_yaml)
    with pytest.raises(ConfigError, match=message.replace("*", r"\*").replace(".", r"\.")):
        load_client_config(data_dir, "north")


def test_the_shared_configuration_holds_no_client_inputs(tmp_path: Path) -> None:
    data_dir = write_clients_data_dir(tmp_path / "data", SHARED_YAML + CLIENT_YAML)
    with pytest.raises(ConfigError, match=r"data/scrubline\.yaml: crm: not allowed here; it belongs in each client's"):
        load_client_config(data_dir, "north")


def test_a_data_directory_of_clients_is_run_one_client_at_a_time(tmp_path: Path) -> None:
    data_dir = write_clients_data_dir(tmp_path / "data")
    with pytest.raises(ConfigError, match=r"holds clients \(north, south under clients/\); a run scrubs one client"):
        load_config_for(data_dir, None)


def test_a_data_directory_without_clients_is_its_own_one_client(tmp_path: Path) -> None:
    data_dir = write_data_dir(tmp_path / "data")
    assert load_config_for(data_dir, None) == load_config(data_dir)
