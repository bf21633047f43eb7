"""Registry entries: a broken record fails the run; opt-outs carry when and for whom they were requested."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.config import Registry, load_config
from pipelines.errors import RegistryError
from pipelines.registries.entries import read_registry


def test_a_registry_with_a_broken_record_fails_naming_file_and_row(data_dir: Path) -> None:
    (data_dir / "inbox/registries/internal/optouts.csv").write_text(
        "phone,requested_at\n2015550199,2026-10-01\n2125550142\n"
    )
    optouts = load_config(data_dir).registries[0]
    with pytest.raises(
        RegistryError,
        match=r"'internal_optouts': 1 unreadable record\(s\), first in inbox/registries/internal/optouts.csv row 2 ",
    ):
        read_registry(optouts, data_dir=data_dir)


OPT_OUTS = Registry(
    name="optouts",
    format="plain",
    path="inbox/optouts.csv",
    phone_column="phone",
    requested_at_column="requested_at",
    seller_column="campaign",
    region="US",
)


def test_an_opt_out_carries_when_it_was_requested_in_utc_and_its_campaign_or_none(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox/optouts.csv").write_text(
        "phone,requested_at,campaign\n"
        "2015550199,2026-10-01,\n"
        "2015550123,2026-10-02T09:30:00+02:00, winback \n"
        "2125550142,2026-10-03 18:00:00Z,spring\n"
    )
    assert read_registry(OPT_OUTS, data_dir=tmp_path).select("phone", "requested_at", "seller_scope").rows() == [
        ("2015550199", datetime(2026, 10, 1, tzinfo=UTC), None),
        ("2015550123", datetime(2026, 10, 2, 7, 30, tzinfo=UTC), "winback"),
        ("2125550142", datetime(2026, 10, 3, 18, tzinfo=UTC), "spring"),
    ]


@pytest.mark.parametrize("requested_at", ["", "01/10/2026", "yesterday"])
def test_an_opt_out_whose_time_cannot_be_read_fails_naming_file_and_row(tmp_path: Path, requested_at: str) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox/optouts.csv").write_text(
        f"phone,requested_at,campaign\n2015550199,2026-10-01,\n2015550123,{requested_at},\n"
    )
    with pytest.raises(
        RegistryError,
        match=r"'optouts': 1 unreadable record\(s\), first in inbox/optouts.csv row 2 \(requested_at is not a date "
        r"\(YYYY-MM-DD\) or ISO 8601 time\)",
    ):
        read_registry(OPT_OUTS, data_dir=tmp_path)
