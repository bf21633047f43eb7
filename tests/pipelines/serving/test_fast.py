"""The single-number path gives the engine path's decision, field for field."""

import random
from datetime import UTC, datetime
from pathlib import Path

import phonenumbers
import polars as pl
import pytest

from pipelines.serving.decisions import decide, prepare
from pipelines.serving.fast import build_index, decide_one
from pipelines.serving.journal import OptOutJournal
from pipelines.serving.published import latest_run_dir, load_served_run
from tests.handmade import RUN_AS_OF
from tests.pipelines.serving.sample_run import dialler_rows, published_sample

LATE_IN_THE_DAY = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return published_sample(tmp_path_factory.mktemp("fast"))


def values_to_check(sample: Path) -> list[tuple[str, str, str]]:
    """(value, region, campaign): every dialler row, every registry and CRM number, and random numbers."""
    rows = dialler_rows(sample).select("phone", "region", "campaign").rows()
    picker = random.Random(17)
    regions = ["US", "GB", "CA", "DE", "FR", "AU", "IN", "BR"]
    for region in regions:
        example = phonenumbers.example_number(region)
        national = str(example.national_number)
        for _ in range(40):
            changed = "".join(digit if picker.random() < 0.6 else str(picker.randint(0, 9)) for digit in national)
            rows.append((changed, region, picker.choice(["spring_promo", "winback"])))
    for path in sorted((sample / "inbox/registries").rglob("*.*")):
        for line in path.read_text(errors="replace").splitlines()[:60]:
            rows.append((line.split(",")[0], "GB" if "tps" in path.name else "US", "winback"))
    crm = pl.read_csv(sample / "inbox/crm/contacts.csv", infer_schema=False)
    rows += [(value, "US", "spring_promo") for value in crm.get_column("phone").drop_nulls().head(300)]
    return rows


@pytest.mark.parametrize("now", [RUN_AS_OF, LATE_IN_THE_DAY], ids=["run-clock", "late-in-the-day"])
def test_the_single_number_path_equals_the_engine(sample: Path, now: datetime) -> None:
    run = load_served_run(sample, latest_run_dir(sample))
    journal = OptOutJournal(sample)
    prepared = prepare(run, journal.registry_entries(), now=now, journal_version=journal.version)
    index = build_index(prepared)
    checked = values_to_check(sample)
    outcomes = set()
    mismatches = []
    for (region, campaign), group in pl.DataFrame(
        checked, schema=["value", "region", "campaign"], orient="row"
    ).group_by("region", "campaign"):
        values = group.get_column("value").to_list()
        engine = decide(prepared, values, region=region, campaign=campaign, now=now).to_dicts()
        for value, expected in zip(values, engine, strict=True):
            fast = decide_one(prepared, index, value, region=region, seller=run.campaigns[campaign], now=now)
            outcomes.add(expected["outcome"])
            if fast != expected:
                mismatches.append(
                    (value, region, {k: (expected[k], fast.get(k)) for k in expected if fast.get(k) != expected[k]})
                )
    assert not mismatches, mismatches[:5]
    assert {"clean", "suppressed", "invalid", "deferred"} <= outcomes
    assert len(checked) > 3000
