"""Every expectation of every Great Expectations suite can fail: a frame breaking it fails its blocking check.

Each case takes a frame the check passes, breaks one expectation, and asserts that the check fails naming
that expectation. A suite's expectation without a case here fails `test_every_expectation_has_a_breaking_case`.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.resources import ScrublineData
from assets.suppress import (
    clean_call_lists_expectations,
    clean_rows_have_windows,
    rows_reconcile,
    scrubbed_leads_expectations,
    suppression_list_expectations,
)
from pipelines.validation.suites import EXPECTATIONS_DIR, validate_frame

NINE, TEN, NOON = (datetime(2026, 11, 27, hour, tzinfo=UTC) for hour in (9, 10, 12))
SCRUBBED = pl.DataFrame(
    {
        "campaign": ["spring", "spring", "spring", "spring"],
        "seller": ["default"] * 4,
        "lead_id": ["L1", "L2", "L3", "L4"],
        "phone_e164": ["+12015550123", "+12015550199", None, "+33142685300"],
        "source_file": ["inbox/dialler/spring.csv"] * 4,
        "source_row": [1, 2, 3, 4],
        "source_sha256": ["s"] * 4,
        "outcome": ["clean", "suppressed", "invalid", "deferred"],
        "reason": [None, "internal_optouts", "too_short", "no_calling_rule"],
        "window_start_utc": [NINE, None, None, None],
        "window_end_utc": [NOON, None, None, None],
        "not_before_utc": [TEN, None, None, None],
    }
)
DIALLER = SCRUBBED.select("campaign")
SUPPRESSION = pl.DataFrame(
    {
        "phone_e164": ["+12015550199"],
        "source_name": ["internal_optouts"],
        "source_file": ["inbox/registries/internal/optouts.csv"],
        "source_sha256": ["s"],
        "requested_at": [None],
        "seller_scope": [None],
        "exemption": [None],
    },
    schema_overrides={"requested_at": pl.Datetime("us", "UTC"), "seller_scope": pl.String, "exemption": pl.String},
)
CLEAN = pl.col("outcome") == "clean"


def on_clean(**columns: object) -> pl.DataFrame:
    """SCRUBBED with the clean row's columns set to the given values."""
    return SCRUBBED.with_columns(
        pl.when(CLEAN).then(pl.lit(value)).otherwise(pl.col(name)).alias(name) for name, value in columns.items()
    )


def scrubbed_check(frame: pl.DataFrame, _: Path) -> dg.AssetCheckResult:
    return scrubbed_leads_expectations(scrubbed_leads=frame)


def clean_check(frame: pl.DataFrame, _: Path) -> dg.AssetCheckResult:
    return clean_call_lists_expectations(scrubbed_leads=frame, suppression_list=SUPPRESSION)


def windows_check(frame: pl.DataFrame, _: Path) -> dg.AssetCheckResult:
    return clean_rows_have_windows(scrubbed_leads=frame)


def reconcile_check(frame: pl.DataFrame, _: Path) -> dg.AssetCheckResult:
    return rows_reconcile(scrubbed_leads=frame, dialler_leads=DIALLER)


def suppression_check(frame: pl.DataFrame, data_dir: Path) -> dg.AssetCheckResult:
    return suppression_list_expectations(scrubline=ScrublineData(data_dir=str(data_dir)), suppression_list=frame)


Check = Callable[[pl.DataFrame, Path], dg.AssetCheckResult]
# (suite, expectation's position in it, the check that runs the suite, a frame breaking that expectation)
CASES: list[tuple[str, int, Check, pl.DataFrame]] = [
    ("scrubbed_leads", 0, scrubbed_check, pl.concat([SCRUBBED, SCRUBBED.head(1)])),
    ("scrubbed_leads", 1, scrubbed_check, SCRUBBED.with_columns(source_sha256=pl.lit(None, pl.String))),
    ("scrubbed_leads", 2, scrubbed_check, on_clean(outcome="maybe")),
    ("scrubbed_leads", 3, scrubbed_check, SCRUBBED.with_columns(reason=pl.lit(None, pl.String))),
    ("scrubbed_leads", 4, scrubbed_check, SCRUBBED.with_columns(reason=pl.lit("internal_optouts"))),
    ("clean_call_lists", 0, clean_check, on_clean(lead_id=None)),
    ("clean_call_lists", 1, clean_check, on_clean(campaign=None)),
    ("clean_call_lists", 2, clean_check, on_clean(phone_e164="12015550123")),
    ("clean_call_lists", 3, clean_check, on_clean(phone_e164=None)),
    (
        "clean_call_lists",
        4,
        clean_check,
        pl.concat([SCRUBBED, SCRUBBED.filter(CLEAN).with_columns(lead_id=pl.lit("L9"))]),
    ),
    ("clean_call_lists", 5, clean_check, on_clean(phone_e164="+12015550199")),
    ("clean_call_windows", 0, windows_check, on_clean(window_start_utc=None)),
    ("clean_call_windows", 1, windows_check, on_clean(window_end_utc=None)),
    ("clean_call_windows", 2, windows_check, on_clean(window_end_utc=NINE, not_before_utc=None)),
    ("clean_call_windows", 3, windows_check, on_clean(not_before_utc=NOON)),
    ("scrub_reconciliation", 1, reconcile_check, SCRUBBED.head(2)),
    ("scrub_reconciliation", 2, reconcile_check, SCRUBBED.with_columns(campaign=pl.lit("autumn"))),
    ("suppression_list", 0, suppression_check, SUPPRESSION.with_columns(phone_e164=pl.lit("2015550199"))),
    ("suppression_list", 1, suppression_check, SUPPRESSION.with_columns(source_name=pl.lit(None, pl.String))),
    ("suppression_list", 2, suppression_check, SUPPRESSION.with_columns(source_sha256=pl.lit(None, pl.String))),
    ("suppression_list", 3, suppression_check, pl.concat([SUPPRESSION, SUPPRESSION])),
    ("suppression_list", 4, suppression_check, SUPPRESSION.with_columns(source_name=pl.lit("internal_optout"))),
]
# The reconciliation's campaign key is unique by construction (one row per campaign, grouped in DuckDB), so no
# frame reaching its check can break it; the suite itself is shown to fail on a frame that does.
# Nor can it lose an outcome's count; a reconciliation of the four outcomes before `deferred` fails the suite.
COUNTS = ("count_clean", "count_suppressed", "count_invalid", "count_quarantined", "count_deferred")
RECONCILED = pl.DataFrame(
    {"campaign": ["a"], "count_rows_in": [1], **dict.fromkeys(COUNTS, [0]), "count_rows_out": [1]}
)
SUITE_ONLY = [
    ("scrub_reconciliation", 0, pl.concat([RECONCILED, RECONCILED])),
    ("scrub_reconciliation", 3, RECONCILED.drop("count_deferred")),
]


def expectation(suite: str, index: int) -> str:
    """How a failure names the expectation: its type and the columns it checks, e.g. `…not_be_null(column=lead_id)`."""
    stored = json.loads((EXPECTATIONS_DIR / f"{suite}.json").read_text())["expectations"][index]
    columns = ", ".join(f"{key}={value}" for key, value in stored["kwargs"].items() if key.startswith("column"))
    return f"{stored['type']}({columns})"


def test_every_expectation_has_a_breaking_case() -> None:
    stored = {
        (path.stem, index)
        for path in EXPECTATIONS_DIR.glob("*.json")
        for index, _ in enumerate(json.loads(path.read_text())["expectations"])
    }
    covered = {(suite, index) for suite, index, *_ in CASES} | {(suite, index) for suite, index, _ in SUITE_ONLY}
    assert covered == stored


@pytest.mark.parametrize("check", sorted({check for _, _, check, _ in CASES}, key=lambda c: c.__name__))
def test_each_check_passes_the_unbroken_frames(check: Check, data_dir: Path) -> None:
    frame = SUPPRESSION if check is suppression_check else SCRUBBED
    assert check(frame, data_dir).passed


@pytest.mark.parametrize(
    ("suite", "index", "check", "broken"), CASES, ids=[f"{suite}[{index}]" for suite, index, *_ in CASES]
)
def test_a_frame_breaking_one_expectation_fails_its_blocking_check(
    suite: str, index: int, check: Check, broken: pl.DataFrame, data_dir: Path
) -> None:
    result = check(broken, data_dir)
    assert not result.passed
    assert expectation(suite, index) in (result.description or "")


@pytest.mark.parametrize(("suite", "index", "broken"), SUITE_ONLY, ids=[suite for suite, *_ in SUITE_ONLY])
def test_an_expectation_no_check_input_can_break_still_fails_its_suite(
    suite: str, index: int, broken: pl.DataFrame
) -> None:
    report = validate_frame(broken, suite)
    assert not report.success
    assert [failure.split(":")[0] for failure in report.failures] == [expectation(suite, index)]
