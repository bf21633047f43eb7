"""The service's decision equals the nightly run's, row for row, on the committed sample."""

from pathlib import Path

import polars as pl
import pytest

from pipelines.serving.decisions import decide, prepare
from pipelines.serving.journal import OptOutJournal
from pipelines.serving.published import latest_run_dir, load_served_run
from pipelines.suppression.scrub import DUPLICATE_IN_CAMPAIGN
from tests.handmade import RUN_AS_OF
from tests.pipelines.serving.sample_run import dialler_rows, published_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return published_sample(tmp_path_factory.mktemp("decisions"))


def test_every_dialler_row_of_the_sample_gets_the_published_outcome(sample: Path) -> None:
    rows = dialler_rows(sample)
    # A repeat within a campaign is suppressed by the list; the service answers for the number: its first row's.
    firsts = rows.filter(pl.col("reason").fill_null("") != DUPLICATE_IN_CAMPAIGN).unique(
        ["campaign", "phone_e164"], keep="first"
    )
    expected = rows.join(
        firsts.select(
            "campaign", "phone_e164", first_outcome="outcome", first_reason="reason", first_sources="sources"
        ),
        on=["campaign", "phone_e164"], how="left", nulls_equal=False,
    ).select(
        "campaign", "lead_id",
        outcome=pl.when(pl.col("reason") == DUPLICATE_IN_CAMPAIGN).then("first_outcome").otherwise("outcome"),
        reason=pl.when(pl.col("reason") == DUPLICATE_IN_CAMPAIGN).then("first_reason").otherwise("reason"),
        sources=pl.when(pl.col("reason") == DUPLICATE_IN_CAMPAIGN).then("first_sources").otherwise("sources"),
    )  # fmt: skip
    assert rows.get_column("outcome").value_counts().height == 4  # clean, suppressed, invalid and deferred all occur
    assert rows.filter(pl.col("reason") == DUPLICATE_IN_CAMPAIGN).height > 0

    run = load_served_run(sample, latest_run_dir(sample))
    journal = OptOutJournal(sample)
    prepared = prepare(run, journal.registry_entries(), now=RUN_AS_OF, journal_version=journal.version)
    answered = []
    for (campaign, region), batch in rows.group_by("campaign", "region", maintain_order=True):
        decided = decide(prepared, batch.get_column("phone").to_list(), region=region, campaign=campaign, now=RUN_AS_OF)
        answered.append(
            batch.select("campaign", "lead_id").hstack(
                decided.select(
                    "outcome",
                    reason=pl.when(pl.col("outcome") != "clean").then("reason"),
                    sources=pl.col("suppression_sources")
                    .list.eval(
                        pl.concat_str(
                            pl.element().struct.field("source_name"),
                            pl.lit(":"),
                            pl.element().struct.field("source_file"),
                        )
                    )
                    .list.sort()
                    .fill_null([]),
                )  # fmt: skip
            )
        )
    service = pl.concat(answered).sort("campaign", "lead_id")
    compared = expected.join(service, on=["campaign", "lead_id"], suffix="_service")
    mismatches = compared.filter(
        (pl.col("outcome") != pl.col("outcome_service"))
        | pl.col("reason").ne_missing(pl.col("reason_service"))
        | (pl.col("sources") != pl.col("sources_service"))
    )
    assert service.height == expected.height
    assert mismatches.height == 0, mismatches.head(10)


def test_a_number_on_no_list_of_the_run_is_decided_from_the_registries_themselves(sample: Path) -> None:
    run = load_served_run(sample, latest_run_dir(sample))
    journal = OptOutJournal(sample)
    prepared = prepare(run, journal.registry_entries(), now=RUN_AS_OF, journal_version=journal.version)
    snapshot = run.stored[0]
    on_the_national_registry = f"+{int(snapshot.numbers[0])}"
    decided = decide(prepared, [on_the_national_registry], region="US", campaign="winback", now=RUN_AS_OF)
    assert decided.select("outcome", "reason").row(0) == ("suppressed", "us_national_dnc")
    assert decided.get_column("suppression_sources").to_list()[0][0]["source_file"] == snapshot.source_file
