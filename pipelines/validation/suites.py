"""Validating frames with Great Expectations suites kept as JSON in `expectations/`.

One suite per validated table, named after the file (`expectations/<table>.json`). Suites may take
run-time values with GX's `{"$PARAMETER": name}` syntax, supplied through `parameters`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import great_expectations as gx
import pandas as pd
import polars as pl
from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig

from pipelines.validation.data_docs import masked_result

# The suites ship as package data of `expectations`, so a non-editable install finds them too.
EXPECTATIONS_DIR = Path(str(files("expectations")))


@dataclass(frozen=True)
class ValidationReport:
    """What a suite saw: overall success and, for each failed expectation, how many rows broke it; `result` is GX's
    own validation result with the values it saw masked (`data_docs.masked_result`), for Data Docs."""

    suite: str
    success: bool
    count_rows: int
    failures: tuple[str, ...]
    result: ExpectationSuiteValidationResult | None = field(default=None, compare=False, repr=False)


def validate_frame(
    frame: pl.DataFrame, suite_name: str, *, parameters: Mapping[str, object] | None = None
) -> ValidationReport:
    """Run the suite `expectations/<suite_name>.json` over `frame`."""
    context = _context()
    columns = _suite_columns(suite_name)
    validated = frame if columns is None else frame.select(column for column in frame.columns if column in columns)
    dataframe = _as_pandas(validated, categorical=_has_row_conditions(suite_name))
    batch = _batch_definition(suite_name).get_batch(batch_parameters={"dataframe": dataframe})
    result = batch.validate(context.suites.get(suite_name), expectation_parameters=dict(parameters or {}))
    failures = tuple(
        f"{outcome.expectation_config.type}({_arguments(outcome.expectation_config.kwargs)}): "
        f"{outcome.result.get('unexpected_count', 'failed')} unexpected"
        for outcome in result.results
        if not outcome.success
    )
    return ValidationReport(
        suite=suite_name,
        success=result.success,
        count_rows=frame.height,
        failures=failures,
        result=masked_result(result),
    )


def _as_pandas(frame: pl.DataFrame, *, categorical: bool) -> pd.DataFrame:
    """`frame` as the pandas frame GX validates: instants naive UTC (`_zone_free`), text categorical if asked.

    GX applies an expectation's row condition with `DataFrame.query`, which copies every column of the rows it keeps,
    once per metric: at 10M scrubbed rows, 13 copies of the text columns were four fifths of the suite. A categorical
    column is copied as its integer codes; its values, and so every expectation's answer, are the same. A suite
    without row conditions copies nothing, and would only pay for the categories.
    """
    zone_free = _zone_free(frame)
    return (zone_free.with_columns(pl.col(pl.String).cast(pl.Categorical)) if categorical else zone_free).to_pandas()


@functools.cache
def _has_row_conditions(suite_name: str) -> bool:
    return any("row_condition" in e.configuration.kwargs for e in load_suite(suite_name).expectations)


def _zone_free(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with its instants as naive UTC: GX's column-pair metrics read zoned pandas columns through a
    deprecated pandas path. Every instant Scrubline keeps is UTC, so the comparisons are unchanged."""
    zoned = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime) and dtype.time_zone]
    return frame.with_columns(pl.col(zoned).dt.convert_time_zone("UTC").dt.replace_time_zone(None))


@functools.cache
def _suite_columns(suite_name: str) -> frozenset[str] | None:
    """The columns the suite's expectations name; None when one of them looks at the whole table.

    GX fingerprints every batch by hashing the whole pandas frame, twice per validation, and the frame
    is converted to pandas first: at a million scrubbed rows with their lists of lineage structs that
    was nine tenths of the check. The columns no expectation reads cannot change its answer.
    """
    columns: set[str] = set()
    for expectation in load_suite(suite_name).expectations:
        if expectation.configuration.type.startswith("expect_table_"):
            return None
        kwargs = expectation.configuration.kwargs
        columns.update(kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs)
        columns.update(kwargs.get("column_list", ()))
        condition = kwargs.get("row_condition")
        if condition is not None:
            columns.update(_condition_columns(condition))
    return frozenset(columns)


def _condition_columns(condition: object) -> set[str]:
    """The column names a GX row condition (a comparison, or `and`/`or` of them) reads."""
    if isinstance(condition, dict):
        named = condition.get("column")
        found = {named["name"]} if isinstance(named, dict) and "name" in named else set()
        for part in condition.get("conditions", ()):
            found |= _condition_columns(part)
        return found
    raise ValueError(f"a row condition Scrubline cannot read the columns of: {condition!r}")


def load_suite(suite_name: str) -> gx.ExpectationSuite:
    """The suite stored in `expectations/<suite_name>.json`."""
    path = EXPECTATIONS_DIR / f"{suite_name}.json"
    return gx.ExpectationSuite(**json.loads(path.read_text(encoding="utf-8")))


@functools.cache
def _context() -> gx.data_context.AbstractDataContext:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@functools.cache
def _batch_definition(suite_name: str) -> gx.core.batch_definition.BatchDefinition:
    context = _context()
    context.suites.add(load_suite(suite_name))
    source = context.data_sources.add_or_update_pandas(f"scrubline_{suite_name}")
    return source.add_dataframe_asset(suite_name).add_batch_definition_whole_dataframe("whole_table")


def _arguments(kwargs: Mapping[str, object]) -> str:
    """The expectation's column arguments, so a failure names what it checked without echoing data."""
    return ", ".join(f"{key}={value}" for key, value in kwargs.items() if key.startswith("column"))
