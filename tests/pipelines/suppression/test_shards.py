"""The scrub split into number ranges gives, merged, exactly the scrub of all leads at once."""

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipelines.suppression.scrub import SCRUB_SCHEMA, scrub_leads
from pipelines.suppression.shards import merged_in_audit_order, shard_plan, shard_rows
from pipelines.suppression.suppression_list import SUPPRESSION_LIST_SCHEMA
from tests.pipelines.suppression.scrub_frames import LEADS, SUPPRESSION, lead

# Numbers whose strings sort apart from their integers (+1… and +44… of different lengths), so that bounds fall
# between, and on, numbers repeated across campaigns.
NUMBERS = (
    "+12015550123", "+12015550124", "+12125550142", "+13105550100", "+441632960001", "+442079460018",
    "+4930123456", "+61491570156", "+819012345678", "+9999999999",
)  # fmt: skip
SOURCES = ("national", "litigators", "optouts", "crm_do_not_call")


def sharded_scrub(leads: pl.DataFrame, suppression: pl.DataFrame, *, shards: int) -> pl.DataFrame:
    """The sharded path as the `scrubbed_leads` graph runs it: plan, each shard's rows of both frames, merge."""
    plan = shard_plan(leads.get_column("phone_e164"), shards=shards)
    return merged_in_audit_order(
        [
            scrub_leads(
                shard_rows(leads.lazy(), shard, number_column="phone_e164").collect(),
                shard_rows(suppression.lazy(), shard, number_column="phone_e164").collect(),
            )
            for shard in plan.iter_slices(1)
        ]
    )


@st.composite
def dialler_rows(draw: st.DrawFn) -> pl.DataFrame:
    """Leads of three campaigns (two sellers) over a few numbers: repeats, invalid and quarantined rows, in an
    order that is sometimes not the source order."""
    rows = []
    for campaign in draw(st.lists(st.sampled_from("abc"), min_size=1, max_size=3, unique=True)):
        for row in range(1, draw(st.integers(0, 12)) + 1):
            kind = draw(st.sampled_from(["number"] * 6 + ["invalid", "invalid_with_number", "quarantined"]))
            number = draw(st.sampled_from(NUMBERS))
            if kind == "number":
                rows.append(lead(campaign, row, number))
            elif kind == "invalid":
                rows.append(lead(campaign, row, None, reason="too_short"))
            elif kind == "invalid_with_number":
                rows.append({**lead(campaign, row, number, reason="invalid_number"), "phone_valid": False})
            else:
                rows.append(lead(campaign, row, draw(st.sampled_from([None, number])), quarantine="bad row"))
    leads = pl.DataFrame(rows, schema=SCRUB_SCHEMA)
    return leads.sample(fraction=1.0, shuffle=True, seed=draw(st.integers(0, 9))) if draw(st.booleans()) else leads


@st.composite
def suppression_entries(draw: st.DrawFn) -> pl.DataFrame:
    """Entries over the same numbers: several per number, scoped to a seller or not, some exempt."""
    entries = [
        {
            "phone_e164": draw(st.sampled_from(NUMBERS)),
            "source_name": source,
            "source_file": f"{source}-{index % 2}.txt",
            "source_sha256": f"sha-{index}",
            "downloaded_on": date(2026, 11, 20),
            "block_prefix": draw(st.sampled_from([None, "+1201", "+44"])),
            "requested_at": datetime(2026, 10, 1, tzinfo=UTC) if source == "optouts" else None,
            "seller_scope": draw(st.sampled_from([None, "acme", "bolt"])) if source == "optouts" else None,
            "count_entries": 1,
            "exemption": draw(st.sampled_from([None, None, "ebr_purchase"])) if source == "national" else None,
            "ebr_contact_id": None,
            "ebr_date": None,
        }
        for index, source in enumerate(draw(st.lists(st.sampled_from(SOURCES), max_size=14)))
    ]
    return pl.DataFrame(entries, schema=SUPPRESSION_LIST_SCHEMA)


@settings(max_examples=300, deadline=None)
@given(leads=dialler_rows(), suppression=suppression_entries(), shards=st.integers(1, 6))
def test_sharded_scrub_equals_the_scrub_of_all_leads(
    leads: pl.DataFrame, suppression: pl.DataFrame, shards: int
) -> None:
    assert_frame_equal(sharded_scrub(leads, suppression, shards=shards), scrub_leads(leads, suppression))


def test_the_hand_worked_scrub_is_the_same_in_every_shard_count() -> None:
    for shards in range(1, 5):
        assert_frame_equal(sharded_scrub(LEADS, SUPPRESSION, shards=shards), scrub_leads(LEADS, SUPPRESSION))


def test_a_plan_balances_rows_and_keeps_each_number_in_one_shard() -> None:
    a, b, c, d, e, f = "+12015550123", "+12125550142", "+13105550100", "+441632960001", "+4930123456", "+61491570156"
    numbers = pl.Series([f, a, None, e, b, c, d] * 2)
    plan = shard_plan(numbers, shards=3)
    assert plan.rows() == [(0, None, c), (1, c, e), (2, e, None)]
    frame = numbers.to_frame("phone_e164").lazy()
    rows = [shard_rows(frame, shard, number_column="phone_e164").collect() for shard in plan.iter_slices(1)]
    assert [shard.get_column("phone_e164").to_list() for shard in rows] == [[a, None, b] * 2, [c, d] * 2, [f, e] * 2]


def test_a_number_holding_most_rows_leaves_fewer_shards() -> None:
    plan = shard_plan(pl.Series(["+12015550123"] * 6 + ["+4930123456"] * 2), shards=4)
    assert plan.rows() == [(0, None, "+4930123456"), (1, "+4930123456", None)]
    assert shard_plan(pl.Series([None], dtype=pl.String), shards=4).rows() == [(0, None, None)]


def test_a_shard_reads_only_its_range_of_the_parquet_it_scans(tmp_path: Path) -> None:
    path = tmp_path / "suppression_list.parquet"
    pl.DataFrame({"phone_e164": list(NUMBERS)}).write_parquet(path, row_group_size=2)
    shard = shard_plan(pl.Series(NUMBERS), shards=3).slice(1, 1)
    scan = shard_rows(pl.scan_parquet(path), shard, number_column="phone_e164")
    plan = scan.explain()
    assert "Parquet SCAN" in plan and "SELECTION" in plan and "FILTER" not in plan.split("Parquet SCAN")[0]
    assert scan.collect().get_column("phone_e164").to_list() == ["+13105550100", "+441632960001", "+442079460018"]
