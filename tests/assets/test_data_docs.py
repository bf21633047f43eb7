"""Great Expectations Data Docs: each suite's result kept per run and rendered as GX renders it, linked from the
check, failing values masked; a failing suite's docs stay with the failed run's folder."""

import json
from pathlib import Path

import dagster as dg
import polars as pl

from assets.resources import RunWorkspace
from assets.suppress import clean_call_lists_expectations
from tests.assets.test_expectations import SUPPRESSION, on_clean
from tests.assets.test_nightly_scrub import run_nightly

SUITES = ("scrubbed_leads", "clean_call_lists", "clean_call_windows", "scrub_reconciliation", "suppression_list")

# The clean row's number without its `+`: the suite's E.164 pattern fails on it.
BROKEN = on_clean(phone_e164="12015550123")


def test_a_failing_suite_writes_its_data_docs_under_the_run_s_folder_with_the_failing_values_masked(
    tmp_path: Path,
) -> None:
    @dg.asset(name="scrubbed_leads")
    def scrubbed_leads() -> pl.DataFrame:
        return BROKEN

    @dg.asset(name="suppression_list")
    def suppression_list() -> pl.DataFrame:
        return SUPPRESSION

    result = dg.materialize(
        [scrubbed_leads, suppression_list, clean_call_lists_expectations],
        resources={"io_manager": RunWorkspace(data_dir=str(tmp_path))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    site = tmp_path / "work" / result.run_id / "data_docs"
    page = site / "clean_call_lists.html"
    assert evaluation.metadata["data_docs"].value == str(page)
    assert evaluation.metadata["data_docs_once_published"].value == str(
        tmp_path / "published/runs" / result.run_id / "data_docs/clean_call_lists.html"
    )
    kept = json.loads((site / "validations/clean_call_lists.json").read_text())
    assert kept["success"] is False
    (failed,) = [outcome for outcome in kept["results"] if not outcome["success"]]
    assert failed["expectation_config"]["type"] == "expect_column_values_to_match_regex"
    assert failed["result"]["partial_unexpected_list"] == ["*******0123"]
    rendered = page.read_text()
    assert all(text in rendered for text in ("Expectation Suite", "clean_call_lists", "Unsuccessful Expectations"))
    assert "*******0123" in rendered
    for written in site.rglob("*"):
        if written.is_file():
            assert "2015550123" not in written.read_text().replace("*******0123", "")
    assert 'href="clean_call_lists.html">clean_call_lists</a>: FAILED' in (site / "index.html").read_text()


def test_a_published_run_keeps_every_suite_s_data_docs(data_dir: Path) -> None:
    assert run_nightly(data_dir).success
    site = data_dir / "published/latest/data_docs"
    index = (site / "index.html").read_text()
    for suite in (
        "scrubbed_leads",
        "clean_call_lists",
        "clean_call_windows",
        "scrub_reconciliation",
        "suppression_list",
    ):
        assert f'href="{suite}.html">{suite}</a>: passed' in index
        assert (site / f"{suite}.html").is_file()
    assert not (data_dir / "work").exists() or not any((data_dir / "work").iterdir())
