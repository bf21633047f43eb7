"""The optional `calls:` section of `scrubline.yaml`: documented defaults, and errors that name the key.
Calling hours and call limits are the `calling_time:` section's (tests/pipelines/calling/test_rules.py)."""

from pathlib import Path

import pytest

from pipelines.config import load_config
from pipelines.errors import ConfigError
from tests.handmade import CALLS_YAML, SCRUBLINE_YAML

CALLS_WITH_RULES = (
    CALLS_YAML
    + """\
  daily_cap: 20
  health:
    min_calls: 10
"""
)


def write_config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "scrubline.yaml").write_text(text)
    return tmp_path


def test_without_a_calls_section_there_is_no_call_log_and_the_documented_rules_apply(tmp_path: Path) -> None:
    calls = load_config(write_config(tmp_path, SCRUBLINE_YAML)).calls
    assert not calls.is_configured
    assert (calls.daily_cap, calls.short_call_s) == (25, 10)
    assert calls.health.retire_labels == ["spam", "spam_likely", "scam_likely", "fraud"]


def test_a_calls_section_declares_the_inputs_and_overrides_rules(tmp_path: Path) -> None:
    calls = load_config(write_config(tmp_path, SCRUBLINE_YAML + CALLS_WITH_RULES)).calls
    assert calls.is_configured
    assert calls.records.cli_column == "cli"
    assert calls.records.complaint_column == "complaint"
    assert calls.estate.reputation_checked_column == "reputation_checked_on"
    assert calls.daily_cap == 20
    assert (calls.health.min_calls, calls.health.recent_days) == (10, 3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("daily_cap: 20", "daily_cap: 40"), "calls.daily_cap: Input should be less than or equal to 30"),
        (("  records:\n", "  recrods:\n"), "calls.recrods: unknown key"),
        (("    complaint_column:", "    complaints_column:"), "calls.records.complaints_column: unknown key"),
        (("    reputation_checked_column: reputation_checked_on\n", ""),
         "calls.estate: reputation_label_column and reputation_checked_column go together"),
        (("    min_calls: 10", "    watch_short_call_share: 0.6"),
         "calls.health: rest_short_call_share must not be below watch_short_call_share"),
    ],
)  # fmt: skip
def test_a_bad_calls_section_names_the_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    assert change[0] in CALLS_WITH_RULES
    with pytest.raises(ConfigError, match="scrubline.yaml: ") as error:
        load_config(write_config(tmp_path, SCRUBLINE_YAML + CALLS_WITH_RULES.replace(*change)))
    assert message in str(error.value)


def test_records_without_an_estate_are_an_error(tmp_path: Path) -> None:
    text = SCRUBLINE_YAML + "calls:\n  records:\n    path: inbox/calls/*.csv\n"
    with pytest.raises(ConfigError, match="calls: records and estate go together"):
        load_config(write_config(tmp_path, text))
