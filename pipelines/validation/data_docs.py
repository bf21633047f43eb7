"""Great Expectations Data Docs for a run: each suite's validation result kept as JSON and rendered as GX renders
it, in a static site under the run's folder, with the values that failed masked.

A run writes its site to `work/<run id>/data_docs/` while it runs (kept after a failure, for as long as
`retention.failed_work_days`); the publish moves it into `published/runs/<run id>/data_docs/`. See
docs/operations.md#great-expectations-data-docs.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.render.renderer import ValidationResultsPageRenderer
from great_expectations.render.view import DefaultJinjaPageView

from pipelines.phones.masking import masked_text

DATA_DOCS = "data_docs"
VALIDATIONS = "validations"
INDEX = "index.html"


def masked_result(result: ExpectationSuiteValidationResult) -> ExpectationSuiteValidationResult:
    """`result` with every text value its expectations saw (unexpected values, their counts, observed values)
    masked as Scrubline masks any message: a run of seven digits or more keeps only its last four."""
    for outcome in result.results:
        outcome.result = _masked(outcome.result)
    return result


def write_data_docs(result: ExpectationSuiteValidationResult, *, suite: str, site: Path) -> Path:
    """Keep `result` as `<site>/validations/<suite>.json`, render it as `<site>/<suite>.html` and rebuild the
    site's index; returns the suite's page."""
    (site / VALIDATIONS).mkdir(parents=True, exist_ok=True)
    (site / VALIDATIONS / f"{suite}.json").write_text(json.dumps(result.to_json_dict(), indent=2, default=str))
    page = site / f"{suite}.html"
    page.write_text(DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(result)))
    _write_index(site)
    return page


def _write_index(site: Path) -> None:
    """A page linking every suite's page, with whether it passed."""
    rows = []
    for kept in sorted((site / VALIDATIONS).glob("*.json")):
        success = json.loads(kept.read_text())["success"]
        name = html.escape(kept.stem)
        rows.append(f'<li><a href="{name}.html">{name}</a>: {"passed" if success else "FAILED"}</li>')
    (site / INDEX).write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Scrubline Data Docs</title></head><body>"
        f"<h1>Great Expectations validation results</h1><ul>{''.join(rows)}</ul></body></html>\n"
    )


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return masked_text(value)
    if isinstance(value, Mapping):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value
