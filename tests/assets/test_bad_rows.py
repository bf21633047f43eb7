"""Bad rows stay rows: a malformed dialler record or a bad estate record is set aside with its reason, and the
clean lists are published all the same."""

from datetime import timedelta
from pathlib import Path

import polars as pl

from tests.assets.test_call_analytics import call_inbox
from tests.assets.test_nightly_scrub import run_nightly
from tests.handmade import CALLS_YAML, INBOX, RUN_DATE, SCRUBLINE_YAML, write_data_dir


def test_malformed_dialler_records_are_quarantined_and_the_run_publishes(tmp_path: Path) -> None:
    data_dir = write_data_dir(tmp_path / "data")
    # A spreadsheet's edit: CRLF line ends above, LF below; a 10 MB field, an unterminated quote, no id.
    (data_dir / "inbox/dialler/summer.csv").write_bytes(
        b"lead_id,phone,country\r\nS1,2015550123,US\r\n"
        + b"S2," + b"9" * (10 << 20) + b",US\r\n"
        + b'S3,"2015550124,US\n'
        + b",2015550125,US\n"
        + b"S5,2015550126,US\n"
    )  # fmt: skip

    result = run_nightly(data_dir)

    assert result.success
    (quarantine,) = (data_dir / "quarantine").glob("*/dialler.parquet")
    assert pl.read_parquet(quarantine).filter(pl.col("source_file") == "inbox/dialler/summer.csv").select(
        "source_row", "quarantine_reason"
    ).rows() == [(2, "record too long (10,485,766 bytes; at most 1,048,576)"), (3, "unterminated quote"),
                 (4, "empty id")]  # fmt: skip
    clean = pl.read_parquet(data_dir / "published/latest/clean/summer.parquet")
    assert clean.select("lead_id", "phone_e164").rows() == [("S1", "+12015550123"), ("S5", "+12015550126")]


def test_a_bad_estate_record_is_set_aside_with_a_warning_and_the_clean_lists_publish(tmp_path: Path) -> None:
    inbox = call_inbox((RUN_DATE - timedelta(days=1)).isoformat())
    inbox["estate/clis.csv"] += "201-555,east,acme,A,,\n201-555-0103,east\n"
    data_dir = write_data_dir(tmp_path / "data", {**INBOX, **inbox}, SCRUBLINE_YAML + CALLS_YAML)

    result = run_nightly(data_dir)

    assert result.success
    (set_aside,) = (data_dir / "quarantine").glob("*/estate.parquet")
    assert pl.read_parquet(set_aside).select("source_row", "quarantine_reason").rows() == [
        (3, "CLI is not a valid number: too_short"),
        (4, "missing columns"),
    ]
    assert pl.read_parquet(data_dir / "published/latest/analytics/cli_health.parquet").height == 2
    assert (data_dir / "published/latest/clean/spring.parquet").is_file()
    (materialization,) = result.asset_materializations_for_node("normalised_number_estate")
    assert materialization.metadata["count_set_aside"].value == 2
