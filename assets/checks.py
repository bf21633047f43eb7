"""Turning a Great Expectations report into a Dagster asset check result."""

import dagster as dg

from pipelines.validation.suites import ValidationReport


def expectation_result(report: ValidationReport) -> dg.AssetCheckResult:
    """Pass or fail as the suite did, naming each failed expectation and its unexpected count."""
    return dg.AssetCheckResult(
        passed=report.success,
        metadata={
            "suite": f"expectations/{report.suite}.json",
            "count_rows_validated": report.count_rows,
            "failed_expectations": dg.MetadataValue.json(list(report.failures)),
        },
        description="; ".join(report.failures) or None,
    )
