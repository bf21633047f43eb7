"""The CRM as the config declares it: do-not-call flags fail closed, every valid number listed."""

from pathlib import Path

import polars as pl
import pytest

from pipelines.config import load_config
from pipelines.inputs.crm import crm_numbers, normalise_crm, read_crm


@pytest.mark.parametrize(
    ("flag", "is_do_not_call"),
    [("yes", True), ("Y", True), ("1", True), ("TRUE", True), ("opted out", True),
     ("no", False), (" No ", False), ("0", False), ("false", False), ("", False), (None, False)],
)  # fmt: skip
def test_any_do_not_call_value_not_recognisably_no_suppresses(
    data_dir: Path, flag: str | None, is_do_not_call: bool
) -> None:
    config = load_config(data_dir)
    records = read_crm(config.crm, data_dir=data_dir).head(1).with_columns(do_not_call=pl.lit(flag, pl.String))
    assert normalise_crm(records, config.crm, default_region="US").get_column("is_do_not_call").to_list() == [
        is_do_not_call
    ]


def test_crm_numbers_lists_each_valid_number_of_each_phone_column(data_dir: Path) -> None:
    config = load_config(data_dir)
    crm = normalise_crm(read_crm(config.crm, data_dir=data_dir), config.crm, default_region="US")
    assert crm_numbers(crm, config.crm).select("contact_id", "phone_column", "phone_e164", "is_do_not_call").rows() == [
        ("C1", "phone", "+12125550142", True),
        ("C2", "phone", "+12015550123", False),
        ("C2", "mobile", "+447400123456", False),
    ]
