"""Turning a Great Expectations report into a Dagster asset check result, with the run's Data Docs."""

from pathlib import Path

import dagster as dg

from assets.resources import PUBLISHED, RunWorkspace
from pipelines.publishing.layout import RUNS
from pipelines.validation.data_docs import DATA_DOCS, write_data_docs
from pipelines.validation.suites import ValidationReport


def expectation_result(report: ValidationReport) -> dg.AssetCheckResult:
    """Pass or fail as the suite did, naming each failed expectation and its unexpected count, linking the suite's
    Data Docs page (GX's rendering of the result, failing values masked)."""
    return dg.AssetCheckResult(
        passed=report.success,
        metadata={
            "suite": f"expectations/{report.suite}.json",
            "count_rows_validated": report.count_rows,
            "failed_expectations": dg.MetadataValue.json(list(report.failures)),
            **_data_docs(report),
        },
        description="; ".join(report.failures) or None,
    )


def _data_docs(report: ValidationReport) -> dict[str, dg.MetadataValue]:
    """Write the suite's page to the run's Data Docs (`work/<run id>/data_docs/`, moved into the published run
    folder when the run publishes); where it is now and where it will be once published."""
    site = _run_site()
    if site is None or report.result is None:
        return {}
    page = write_data_docs(report.result, suite=report.suite, site=site)
    published = site.parents[2] / PUBLISHED / RUNS / site.parent.name / DATA_DOCS / page.name
    return {
        "data_docs": dg.MetadataValue.path(str(page)),
        "data_docs_once_published": dg.MetadataValue.path(str(published)),
    }


def _run_site() -> Path | None:
    """The running step's Data Docs folder. Every check step loads its inputs through the run's workspace IO
    manager, which knows the data directory; outside a run (a suite validated directly) there is none."""
    try:
        context = dg.OpExecutionContext.get()
    except dg.DagsterInvariantViolationError:
        return None
    workspace = getattr(context.resources, "io_manager", None)
    if not isinstance(workspace, RunWorkspace):
        return None
    return workspace.work(context.run.run_id) / DATA_DOCS
