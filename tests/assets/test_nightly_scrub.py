"""The nightly job, run in-process on the real Definitions, with real DuckDB, GX and Parquet."""

import hashlib
import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.constants import NIGHTLY_SCRUB_JOB, WITHDRAW_EXPIRED_LISTS_JOB
from assets.definitions import build_definitions
from assets.run_clock import AS_OF_TAG
from pipelines.calling.rules import DEFAULT_CALLING_RULES
from pipelines.publishing.warehouse import open_warehouse
from tests.handmade import INBOX, RUN_AS_OF, RUN_DATE, RUN_TAGS, SCRUBLINE_YAML, write_data_dir


def run_nightly(data_dir: Path, *, tags: dict[str, str] = RUN_TAGS) -> dg.ExecuteInProcessResult:
    """The nightly job on `data_dir`, in-process, as of the suite's injected clock."""
    job = build_definitions(str(data_dir)).resolve_job_def(NIGHTLY_SCRUB_JOB)
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, tags=tags)


def step_failure(result: dg.ExecuteInProcessResult) -> tuple[str, str]:
    """The one failed step and the message of the error the asset raised."""
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    return failure.step_key, failure.step_failure_data.error.cause.message


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    return [evaluation.check_name for evaluation in failed_evaluations(result)]


def failed_evaluations(result: dg.ExecuteInProcessResult) -> list[dg.AssetCheckEvaluation]:
    return [
        evaluation
        for evaluation in (
            event.event_specific_data
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
        if not evaluation.passed
    ]


def with_tps(downloaded_on: date) -> tuple[dict[str, str], str]:
    """The hand-made inbox plus a TPS file listing L2's London number, downloaded on `downloaded_on`."""
    config = SCRUBLINE_YAML + (
        f"  - name: uk_tps\n    format: tps\n    path: inbox/registries/tps/*.txt\n    downloaded_on: {downloaded_on}\n"
    )
    return {**INBOX, "registries/tps/tps.txt": "0207 9460018\r\n07400 999999\r\n"}, config


@pytest.fixture
def published(data_dir: Path) -> Path:
    result = run_nightly(data_dir)
    assert result.success
    return data_dir / "published" / "latest"


def test_clean_lists_hold_exactly_the_dialable_leads(published: Path) -> None:
    expected = pl.DataFrame(
        {
            "campaign": ["spring", "spring"],
            "lead_id": ["L1", "L2"],
            "phone_e164": ["+12015550123", "+442079460018"],
            "phone_type": ["fixed_line_or_mobile", "fixed_line"],
            "phone_region": ["US", "GB"],
            "source_file": ["inbox/dialler/spring.csv"] * 2,
            "source_row": [1, 2],
            "exemption_reason": [None, None],
            # The list is for the run's UTC date, Friday 27 November: 08:00–21:00 in New Jersey (EST) and London.
            "window_start_utc": [datetime(2026, 11, 27, 13, tzinfo=UTC), datetime(2026, 11, 27, 8, tzinfo=UTC)],
            "window_end_utc": [datetime(2026, 11, 28, 2, tzinfo=UTC), datetime(2026, 11, 27, 21, tzinfo=UTC)],
            "not_before_utc": [None, None],
        },
        schema_overrides={"exemption_reason": pl.String, "not_before_utc": pl.Datetime("us", "UTC")},
    )
    assert_frame_equal(pl.read_parquet(published / "clean/spring.parquet"), expected)
    # The dialler's file leaves out lineage, which the Parquet list and the warehouse keep.
    in_csv = expected.drop("source_file", "source_row")
    assert_frame_equal(pl.read_csv(published / "clean/spring.csv", schema=in_csv.schema), in_csv)
    assert pl.read_parquet(published / "clean/winback.parquet").select("lead_id", "phone_e164").rows() == [
        ("W1", "+12015550123"),
        ("W2", "+447400123456"),
    ]


def test_suppressed_rows_name_every_matching_source(published: Path) -> None:
    suppressed = pl.read_parquet(published / "suppressed/spring.parquet")
    assert suppressed.select("lead_id", "phone_e164", "outcome", "reason").rows() == [
        ("L3", "+12015550199", "suppressed", "internal_optouts"),
        ("L5", "+12015550123", "suppressed", "duplicate_in_campaign"),
        ("L7", "+12125550142", "suppressed", "crm_do_not_call,litigators"),
    ]
    sources = suppressed.filter(pl.col("lead_id") == "L7").get_column("suppression_sources").item()
    assert [(s["source_name"], s["source_file"]) for s in sources] == [
        ("crm_do_not_call", "inbox/crm/contacts.csv"),
        ("litigators", "inbox/registries/litigators/litigators.txt"),
    ]


def test_invalid_and_quarantined_rows_keep_their_reason(published: Path, data_dir: Path) -> None:
    invalid = pl.read_parquet(published / "invalid/spring.parquet")
    assert invalid.select("lead_id", "phone_raw", "reason", "source_row").rows() == [
        ("L4", "not a number", "not_a_number", 4),
        ("L8", None, "empty", 8),
    ]
    (quarantine_file,) = (data_dir / "quarantine").glob("*/dialler.parquet")
    assert pl.read_parquet(quarantine_file).select(
        "source_file", "source_row", "quarantine_reason", "raw_record"
    ).rows() == [("inbox/dialler/spring.csv", 6, "too many columns", "L6,415-555-2671,US,extra")]


def test_manifest_reconciles_every_row_and_records_inputs(published: Path) -> None:
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["reconciliation"] == [
        {"campaign": "spring", "count_rows_in": 8, "count_clean": 2, "count_suppressed": 3, "count_invalid": 2,
         "count_quarantined": 1, "count_deferred": 0, "count_rows_out": 8},
        {"campaign": "winback", "count_rows_in": 2, "count_clean": 2, "count_suppressed": 0, "count_invalid": 0,
         "count_quarantined": 0, "count_deferred": 0, "count_rows_out": 2},
    ]  # fmt: skip
    assert sorted(manifest["inputs"]) == sorted(f"inbox/{path}" for path in INBOX)
    assert manifest["outputs"]["clean/spring.csv"]["rows"] == 2


def test_number_analytics_counts_every_appearance(published: Path) -> None:
    analytics = pl.read_parquet(published / "analytics/numbers.parquet")
    assert analytics.rows() == [
        ("+12015550123", 1, 3, ["spring", "winback"], False, []),
        ("+12015550199", 0, 1, ["spring"], True, ["internal_optouts"]),
        ("+12125550142", 1, 1, ["spring"], True, ["crm_do_not_call", "litigators"]),
        ("+442079460018", 0, 1, ["spring"], False, []),
        ("+447400123456", 1, 1, ["winback"], False, []),
    ]


def test_warehouse_answers_from_the_published_run(published: Path, data_dir: Path) -> None:
    with open_warehouse(data_dir / "warehouse.duckdb") as connection:
        counts = connection.execute(
            "select (select count(*) from clean_call_lists), (select count(*) from suppressed),"
            " (select count(*) from invalid), (select count(*) from number_analytics), (select count(*) from contacts)"
        ).fetchone()
    assert counts == (4, 3, 2, 5, 2)


def test_no_clean_number_is_ever_on_the_suppression_list(published: Path) -> None:
    clean = pl.read_parquet(published / "clean/*.parquet")
    suppression = pl.read_parquet(published / "suppression/suppression_list.parquet")
    assert clean.join(suppression, on="phone_e164", how="semi").height == 0


def test_an_analyst_holding_the_warehouse_open_does_not_stop_the_next_run(published: Path, data_dir: Path) -> None:
    with open_warehouse(data_dir / "warehouse.duckdb") as analyst:
        assert run_nightly(data_dir).success
        assert analyst.execute("select count(*) from clean_call_lists").fetchone() == (4,)


def test_an_unreadable_registry_publishes_nothing_and_latest_stays(data_dir: Path) -> None:
    assert run_nightly(data_dir).success
    latest_before = (data_dir / "published/latest").resolve()
    (data_dir / "inbox/registries/litigators/litigators.txt").write_text("2125550142\n2015550123\tsee ticket 12\n")

    result = run_nightly(data_dir)

    assert not result.success
    step, message = step_failure(result)
    assert step == "registry_entries"
    assert "registry 'litigators'" in message
    assert "inbox/registries/litigators/litigators.txt row 2 (too many columns)" in message
    assert (data_dir / "published/latest").resolve() == latest_before
    assert [path.name for path in (data_dir / "published/runs").iterdir()] == [latest_before.name]


def test_a_missing_registry_file_fails_the_run_naming_the_key(tmp_path: Path) -> None:
    inbox = {path: text for path, text in INBOX.items() if "litigators" not in path}
    result = run_nightly(write_data_dir(tmp_path / "data", inbox))
    assert not result.success
    step, message = step_failure(result)
    assert step == "registry_entries"
    assert "registries[litigators].path 'inbox/registries/litigators/*.txt' matches no file" in message
    assert not (tmp_path / "data/published").exists()


def test_an_unreadable_crm_record_stops_publishing_because_its_do_not_call_flag_is_unknown(tmp_path: Path) -> None:
    crm = INBOX["crm/contacts.csv"] + "C3,2015550199,,US,yes,unexpected field\n"
    data_dir = write_data_dir(tmp_path / "data", {**INBOX, "crm/contacts.csv": crm})
    result = run_nightly(data_dir)
    assert failed_checks(result) == ["crm_records_are_readable"]
    (evaluation,) = failed_evaluations(result)
    assert "1 unreadable CRM record(s), first inbox/crm/contacts.csv row 3 (too many columns)" in (
        evaluation.description
    )
    assert not (data_dir / "published").exists()


def test_a_failing_blocking_check_stops_publishing(tmp_path: Path) -> None:
    inbox = {**INBOX, "registries/litigators/litigators.txt": "+44 20 7946 0018\n"}
    data_dir = write_data_dir(tmp_path / "data", inbox, SCRUBLINE_YAML + "    jurisdiction: [US]\n")
    result = run_nightly(data_dir)
    assert failed_checks(result) == ["every_registry_contributes"]
    materialized = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert "suppression_list" in materialized
    assert not materialized & {"scrubbed_leads", "published_run", "warehouse"}
    assert not (data_dir / "published").exists()


def test_a_national_registry_suppresses_its_numbers_with_its_download_date(tmp_path: Path) -> None:
    downloaded_on = RUN_DATE - timedelta(days=28)
    data_dir = write_data_dir(tmp_path / "data", *with_tps(downloaded_on))
    assert run_nightly(data_dir).success
    published = data_dir / "published/latest"
    suppressed = pl.read_parquet(published / "suppressed/spring.parquet")
    assert suppressed.filter(pl.col("lead_id") == "L2").get_column("suppression_sources").item().to_list() == [
        {
            "source_name": "uk_tps",
            "source_file": "inbox/registries/tps/tps.txt",
            "source_sha256": hashlib.sha256(b"0207 9460018\r\n07400 999999\r\n").hexdigest(),
            "downloaded_on": downloaded_on,
            "block_prefix": None,
            "requested_at": None,
            "seller_scope": None,
        }
    ]
    assert pl.read_parquet(published / "clean/spring.parquet").get_column("lead_id").to_list() == ["L1"]


def test_a_stale_registry_stops_the_run_naming_it_and_its_age(tmp_path: Path) -> None:
    downloaded_on = RUN_DATE - timedelta(days=29)
    data_dir = write_data_dir(tmp_path / "data", *with_tps(downloaded_on))
    result = run_nightly(data_dir)
    assert not result.success
    (evaluation,) = failed_evaluations(result)
    assert evaluation.check_name == "registries_are_fresh"
    assert evaluation.description.startswith(
        f"registry 'uk_tps' is 29 days old on {downloaded_on + timedelta(days=29)}"
    )
    materialized = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert "registry_entries" in materialized
    assert not materialized & {"normalised_registry_entries", "suppression_list", "scrubbed_leads", "published_run"}
    assert not (data_dir / "published").exists()


def test_a_registry_that_shrank_stops_the_run_until_the_operator_accepts_that_version(tmp_path: Path) -> None:
    inbox = {**INBOX, "registries/litigators/litigators.txt": "2125550142\n2125550143\n"}
    data_dir = write_data_dir(tmp_path / "data", inbox)
    assert run_nightly(data_dir).success
    accepted_run = (data_dir / "published/latest").resolve()
    (data_dir / "inbox/registries/litigators/litigators.txt").write_text("2125550142\n")
    checksum = hashlib.sha256(b"2125550142\n").hexdigest()
    version = hashlib.sha256(f"{checksum}\n".encode()).hexdigest()

    result = run_nightly(data_dir)

    (evaluation,) = failed_evaluations(result)
    assert evaluation.check_name == "registries_have_not_shrunk"
    assert evaluation.description == (
        f"registry 'litigators' has 1 valid numbers, 1 (50.0%) fewer than the 2 of the last published run "
        f"{accepted_run.name}, more than its max_shrink 5.0%; a partial download is likely: download it again, "
        f"or if the drop is real set accept_shrink: {version} on this registry (it accepts this version only)"
    )
    assert (data_dir / "published/latest").resolve() == accepted_run
    (data_dir / "scrubline.yaml").write_text(SCRUBLINE_YAML + f"    accept_shrink: {version}\n")
    assert run_nightly(data_dir).success


def with_dated_opt_outs(optouts: str) -> tuple[dict[str, str], str]:
    """The hand-made inbox whose internal opt-outs are dated and may name a campaign."""
    config = SCRUBLINE_YAML.replace(
        "    phone_column: phone\n",
        "    phone_column: phone\n    requested_at_column: requested_at\n    seller_column: campaign\n",
    )
    return {**INBOX, "registries/internal/optouts.csv": optouts}, config


def test_with_several_sellers_an_opt_out_scoped_to_no_seller_or_campaign_stops_publishing(tmp_path: Path) -> None:
    optouts = "phone,requested_at,campaign\n201-555-0199,2026-10-01,\n2015550123,2026-10-02,Winback\n"
    inbox, config = with_dated_opt_outs(optouts)
    data_dir = write_data_dir(tmp_path / "data", inbox, config + "sellers:\n  acme: [spring]\n  bolt: [winback]\n")
    result = run_nightly(data_dir)
    assert failed_checks(result) == ["opt_out_sellers_exist"]
    (evaluation,) = failed_evaluations(result)
    assert evaluation.description == (
        "inbox/registries/internal/optouts.csv scopes an opt-out to 'Winback', which is neither a seller nor a "
        "campaign in sellers; correct the scope, or sellers in scrubline.yaml"
    )
    assert not (data_dir / "published").exists()


def test_an_opt_out_taken_on_a_campaign_without_a_file_tonight_binds_its_seller(tmp_path: Path) -> None:
    optouts = "phone,requested_at,campaign\n201-555-0199,2026-10-01,\n2015550123,2026-10-02,autumn\n"
    inbox, config = with_dated_opt_outs(optouts)
    sellers = "sellers:\n  acme: [spring, autumn]\n  bolt: [winback]\n"
    data_dir = write_data_dir(tmp_path / "data", inbox, config + sellers)
    assert run_nightly(data_dir).success
    clean = pl.read_parquet(data_dir / "published/latest/clean/*.parquet").get_column("lead_id").to_list()
    assert clean == ["L2", "W1", "W2"]


WINBACK_OPT_OUT = "phone,requested_at,campaign\n201-555-0199,2999-01-01,\n2015550123,2026-10-02T09:30:00Z,winback\n"


@pytest.mark.parametrize(
    ("sellers", "clean", "scope"),
    [("", ["L2", "W2"], "default"), ("sellers:\n  acme: [spring]\n  bolt: [winback]\n", ["L1", "L2", "W2"], "bolt")],
    ids=["one_seller", "two_sellers"],
)
def test_an_opt_out_naming_a_campaign_binds_every_campaign_of_its_seller(
    tmp_path: Path, sellers: str, clean: list[str], scope: str
) -> None:
    inbox, config = with_dated_opt_outs(WINBACK_OPT_OUT)
    data_dir = write_data_dir(tmp_path / "data", inbox, config + sellers)
    assert run_nightly(data_dir).success
    published = data_dir / "published/latest"
    assert pl.read_parquet(published / "clean/*.parquet").get_column("lead_id").to_list() == clean
    winback = pl.read_parquet(published / "suppressed/winback.parquet")
    assert winback.select("lead_id", "seller", "reason").rows() == [("W1", scope, "internal_optouts")]
    (source,) = winback.get_column("suppression_sources").item().to_list()
    assert (source["requested_at"], source["seller_scope"]) == (datetime(2026, 10, 2, 9, 30, tzinfo=UTC), scope)


def test_an_opt_out_dated_after_the_run_started_still_suppresses(tmp_path: Path) -> None:
    data_dir = write_data_dir(tmp_path / "data", *with_dated_opt_outs(WINBACK_OPT_OUT))
    result = run_nightly(data_dir)
    assert result.success
    (entries,) = result.asset_materializations_for_node("registry_entries")
    assert entries.metadata["count_future_opt_outs"].value == 1
    published = data_dir / "published/latest"
    spring = pl.read_parquet(published / "suppressed/spring.parquet")
    assert spring.filter(pl.col("lead_id") == "L3").get_column("suppression_sources").item().to_list()[0][
        "requested_at"
    ] == datetime(2999, 1, 1, tzinfo=UTC)


def test_a_recent_purchase_does_not_exempt_from_tps_because_ebr_is_a_us_rule(tmp_path: Path) -> None:
    today = RUN_DATE
    inbox, config = with_tps(today)
    crm = (
        "contact_id,phone,mobile,country,do_not_call,last_purchase\n"
        "C1,2125550142,,US,yes,\nC2,(201) 555-0123,+44 7400 123456,,no,\n"
        f"C3,020 7946 0018,,GB,no,{today - timedelta(days=30)}\n"
    )
    config = config.replace("  do_not_call_column: do_not_call\n", "  do_not_call_column: do_not_call\n"
                            "  last_purchase_column: last_purchase\n")  # fmt: skip
    data_dir = write_data_dir(tmp_path / "data", {**inbox, "crm/contacts.csv": crm}, config)
    assert run_nightly(data_dir).success
    clean = pl.read_parquet(data_dir / "published/latest/clean/spring.parquet")
    assert clean.select("lead_id", "exemption_reason").rows() == [("L1", None)]
    suppressed = pl.read_parquet(data_dir / "published/latest/suppressed/spring.parquet")
    assert suppressed.filter(pl.col("lead_id") == "L2").select("reason", "exemption_reason").rows() == [
        ("uk_tps", None)
    ]


@pytest.mark.parametrize("campaign", ["spring", "winback"])
def test_an_auditor_can_recheck_a_published_list_against_its_certificate(published: Path, campaign: str) -> None:
    certificate = json.loads((published / f"clean/{campaign}.certificate.json").read_text())
    manifest = json.loads((published / "manifest.json").read_text())
    for path, listed in certificate["list"].items():
        assert listed["sha256"] == hashlib.sha256((published / path).read_bytes()).hexdigest()
        assert listed["rows"] == pl.read_parquet(published / f"clean/{campaign}.parquet").height
    assert list(certificate["list"]) == [f"clean/{campaign}.parquet", f"clean/{campaign}.csv"]
    assert certificate["run_id"] == manifest["run_id"] == published.resolve().name
    (reconciled,) = [row for row in manifest["reconciliation"] if row["campaign"] == campaign]
    assert certificate["counts"] == {key: value for key, value in reconciled.items() if key != "campaign"}
    assert [
        (registry["name"], [(file["file"], file["sha256"]) for file in registry["files"]], registry["age_days"])
        for registry in certificate["registries"]
    ] == [
        ("internal_optouts", [(f"inbox/{OPT_OUTS}", sha256_of(OPT_OUTS))], None),
        ("litigators", [(f"inbox/{LITIGATORS}", sha256_of(LITIGATORS))], None),
    ]
    assert certificate["rules"] == {
        "ebr_purchase_months": None,
        "ebr_inquiry_months": None,
        "crm_do_not_call_column": "do_not_call",
        "opt_out_honour_years": 5,
        "calling_day": "2026-11-27",
        "calling_time": json.loads(json.dumps(DEFAULT_CALLING_RULES_JSON)),
    }
    text = (published / f"clean/{campaign}.certificate.txt").read_text()
    assert text.startswith(f"Scrub certificate: campaign {campaign}, run {manifest['run_id']}\n")
    for suffix in ("json", "txt"):
        path = f"clean/{campaign}.certificate.{suffix}"
        assert manifest["certificates"][path] == hashlib.sha256((published / path).read_bytes()).hexdigest()


DEFAULT_CALLING_RULES_JSON = {
    name: rule.model_dump(mode="json") for name, rule in sorted(DEFAULT_CALLING_RULES.items())
}
OPT_OUTS = "registries/internal/optouts.csv"
LITIGATORS = "registries/litigators/litigators.txt"


def sha256_of(inbox_path: str) -> str:
    return hashlib.sha256(INBOX[inbox_path].encode()).hexdigest()


def test_the_warehouse_says_why_a_number_was_suppressed_or_not_on_a_date(published: Path, data_dir: Path) -> None:
    an_hour_later = (RUN_AS_OF + timedelta(hours=1)).isoformat()
    assert run_nightly(data_dir, tags={AS_OF_TAG: an_hour_later}).success
    with open_warehouse(data_dir / "warehouse.duckdb") as analyst:
        history = analyst.execute(
            "select run_id, campaign, phone_e164, outcome, reason, count_rows, exemption_reason from number_history"
            " where run_date = ? and phone_e164 in ('+12015550123', '+12015550199') order by campaign, phone_e164",
            [RUN_DATE],
        ).fetchall()
    latest_run = published.resolve().name
    assert history == [
        (latest_run, "spring", "+12015550123", "clean", None, 2, None),
        (latest_run, "spring", "+12015550199", "suppressed", "internal_optouts", 1, None),
        (latest_run, "winback", "+12015550123", "clean", None, 1, None),
    ]


def test_an_opt_out_that_is_no_valid_number_still_suppresses_what_its_digits_mean_and_is_reported(
    tmp_path: Path,
) -> None:
    config = SCRUBLINE_YAML.replace(
        "    phone_column: phone\n", "    phone_column: phone\n    max_invalid_share: 0.5\n"
    )
    optouts = "phone,requested_at\n201-555-0199,2026-10-01\n+0 201 555 0123,2026-10-01\n"
    data_dir = write_data_dir(tmp_path / "data", {**INBOX, "registries/internal/optouts.csv": optouts}, config)
    result = run_nightly(data_dir)
    assert result.success
    published = data_dir / "published/latest"
    assert pl.read_parquet(published / "clean/*.parquet").get_column("lead_id").to_list() == ["L2", "W2"]
    winback = pl.read_parquet(published / "suppressed/winback.parquet")
    assert winback.select("lead_id", "reason").rows() == [("W1", "internal_optouts")]
    (unusable,) = result.asset_materializations_for_node("unusable_suppression_entries")
    report = [{"source_name": "internal_optouts", "count_unusable": 1, "examples": [
        {"source_file": "inbox/registries/internal/optouts.csv", "source_row": 2,
         "phone_reason": "invalid_country_code", "phone_masked": "*******0123"},
    ]}]  # fmt: skip
    assert unusable.metadata["unusable_entries"].value == report
    certificate = json.loads((published / "clean/winback.certificate.json").read_text())
    assert certificate["unusable_entries"] == report


def test_a_do_not_call_contact_whose_phone_is_no_valid_number_still_suppresses_its_digits(tmp_path: Path) -> None:
    crm = INBOX["crm/contacts.csv"] + "C3,+0 20 7946 0018,,GB,yes\n"
    data_dir = write_data_dir(tmp_path / "data", {**INBOX, "crm/contacts.csv": crm})
    assert run_nightly(data_dir).success
    spring = pl.read_parquet(data_dir / "published/latest/suppressed/spring.parquet")
    assert spring.filter(pl.col("lead_id") == "L2").select("reason").item() == "crm_do_not_call"


def test_a_registry_most_of_whose_entries_are_no_numbers_publishes_nothing(tmp_path: Path) -> None:
    litigators = "2125550142\n" + "".join(f"call me {index}\n" for index in range(3))
    data_dir = write_data_dir(tmp_path / "data", {**INBOX, "registries/litigators/litigators.txt": litigators})
    result = run_nightly(data_dir)
    assert failed_checks(result) == ["registries_are_readable_numbers"]
    (evaluation,) = failed_evaluations(result)
    assert evaluation.description.startswith(
        "registry 'litigators' has 3 of 4 entries (75.0%) that are not valid numbers, more than its max_invalid_share"
    )
    assert not (data_dir / "published").exists()


def test_a_registry_file_whose_last_line_is_cut_short_publishes_nothing_whatever_the_share(tmp_path: Path) -> None:
    config = SCRUBLINE_YAML + "    max_invalid_share: 1\n"
    inbox = {**INBOX, "registries/litigators/litigators.txt": "2125550142\n702565"}
    data_dir = write_data_dir(tmp_path / "data", inbox, config)
    result = run_nightly(data_dir)
    assert failed_checks(result) == ["registries_are_readable_numbers"]
    (evaluation,) = failed_evaluations(result)
    assert evaluation.description == (
        "registry 'litigators': inbox/registries/litigators/litigators.txt ends in row 2 with no line break, and that "
        "row is no valid number: the download was cut short; download it again"
    )
    assert not (data_dir / "published").exists()


WITHOUT_LITIGATORS = SCRUBLINE_YAML[: SCRUBLINE_YAML.index("  - name: litigators")]


def test_a_registry_dropped_from_the_config_stops_the_run_until_it_is_retired_deliberately(data_dir: Path) -> None:
    assert run_nightly(data_dir).success
    published_run = (data_dir / "published/latest").resolve()
    (data_dir / "scrubline.yaml").write_text(WITHOUT_LITIGATORS)
    result = run_nightly(data_dir)
    assert failed_checks(result) == ["no_registry_is_missing"]
    (evaluation,) = failed_evaluations(result)
    assert evaluation.description.startswith(
        f"registry 'litigators' was used by published run {published_run.name} but is not in scrubline.yaml;"
    )
    assert (data_dir / "published/latest").resolve() == published_run
    retired = "retired_registries:\n  - {name: litigators, retired_on: 2026-11-26, reason: contract ended}\n"
    (data_dir / "scrubline.yaml").write_text(WITHOUT_LITIGATORS + retired)
    assert run_nightly(data_dir).success
    certificate = json.loads((data_dir / "published/latest/clean/spring.certificate.json").read_text())
    assert certificate["retired_registries"] == [
        {"name": "litigators", "retired_on": "2026-11-26", "reason": "contract ended", "replaced_by": None}
    ]


def test_the_shrink_baseline_survives_a_deleted_latest_run_folder_and_a_renamed_registry(tmp_path: Path) -> None:
    inbox = {**INBOX, "registries/litigators/litigators.txt": "2125550142\n2125550143\n"}
    data_dir = write_data_dir(tmp_path / "data", inbox)
    assert run_nightly(data_dir).success
    assert run_nightly(data_dir, tags={AS_OF_TAG: (RUN_AS_OF + timedelta(hours=1)).isoformat()}).success
    shutil.rmtree((data_dir / "published/latest").resolve())
    renamed = SCRUBLINE_YAML.replace("name: litigators", "name: us_litigators") + (
        "retired_registries:\n"
        "  - {name: litigators, retired_on: 2026-11-27, reason: renamed, replaced_by: us_litigators}\n"
    )
    (data_dir / "scrubline.yaml").write_text(renamed)
    (data_dir / "inbox/registries/litigators/litigators.txt").write_text("2125550142\n")
    result = run_nightly(data_dir, tags={AS_OF_TAG: (RUN_AS_OF + timedelta(hours=2)).isoformat()})
    assert failed_checks(result) == ["registries_have_not_shrunk"]
    (evaluation,) = failed_evaluations(result)
    assert evaluation.description.startswith("registry 'us_litigators' has 1 valid numbers, 1 (50.0%) fewer than the 2")


def test_a_list_states_its_valid_through_and_is_withdrawn_when_a_failed_run_finds_it_expired(tmp_path: Path) -> None:
    data_dir = write_data_dir(tmp_path / "data", *with_tps(RUN_DATE - timedelta(days=20)))
    assert run_nightly(data_dir).success
    published = data_dir / "published/latest"
    expected = "2026-12-06T00:00:00+00:00"  # downloaded 2026-11-07: 28 days take it through 2026-12-05
    assert json.loads((published / "manifest.json").read_text())["valid_through"] == expected
    assert json.loads((published / "clean/spring.certificate.json").read_text())["valid_through"] == expected
    companion = json.loads((published / "clean/spring.validity.json").read_text())
    assert (companion["valid_through"], companion["certificate"]) == (expected, "clean/spring.certificate.json")
    run_dir = published.resolve()

    stale_night = run_nightly(data_dir, tags={AS_OF_TAG: "2026-12-06T02:00:00+00:00"})

    assert failed_checks(stale_night) == ["registries_are_fresh"]
    assert not (data_dir / "published/latest").exists()
    expired = json.loads((data_dir / "published/EXPIRED").read_text())
    assert (expired["run_id"], expired["valid_through"]) == (run_dir.name, expected)
    with open_warehouse(data_dir / "warehouse.duckdb") as analyst:
        assert analyst.execute("select run_id, status from list_status").fetchall() == [(run_dir.name, "expired")]


def test_the_hourly_job_withdraws_a_list_at_its_valid_through(tmp_path: Path) -> None:
    data_dir = write_data_dir(tmp_path / "data", *with_tps(RUN_DATE - timedelta(days=20)))
    assert run_nightly(data_dir).success
    defs = build_definitions(str(data_dir))
    job = defs.resolve_job_def(WITHDRAW_EXPIRED_LISTS_JOB)
    before = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags={AS_OF_TAG: "2026-12-05T23:59:59+00:00"}
    )
    assert before.success
    assert (data_dir / "published/latest").is_symlink()
    assert (data_dir / f"published/{RUN_DATE}").is_symlink()
    at_expiry = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags={AS_OF_TAG: "2026-12-06T00:00:00+00:00"}
    )
    assert at_expiry.success
    assert not (data_dir / "published/latest").exists()
    assert not (data_dir / f"published/{RUN_DATE}").exists()
    (materialization,) = at_expiry.asset_materializations_for_node("list_expiry")
    assert materialization.metadata["is_latest_withdrawn"].value is True
    assert materialization.metadata["withdrawn_dated_links"].value == [RUN_DATE.isoformat()]


def test_an_opt_out_written_as_dotted_groups_ending_in_0_suppresses_the_number_it_is(tmp_path: Path) -> None:
    inbox = {
        **INBOX,
        "dialler/winback.csv": INBOX["dialler/winback.csv"] + "W3,(201) 555-0680,US\n",
        "registries/internal/optouts.csv": "phone,requested_at\n201-555-0199,2026-10-01\n201.555.068.0,2026-10-01\n",
    }
    data_dir = write_data_dir(tmp_path / "data", inbox)
    assert run_nightly(data_dir).success
    winback = pl.read_parquet(data_dir / "published/latest/suppressed/winback.parquet")
    assert winback.select("lead_id", "phone_e164", "reason").rows() == [("W3", "+12015550680", "internal_optouts")]


def test_a_run_clock_injected_on_a_real_instance_fails_at_once(data_dir: Path) -> None:
    job = build_definitions(str(data_dir)).resolve_job_def(NIGHTLY_SCRUB_JOB)
    with dg.DagsterInstance.local_temp() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, tags=RUN_TAGS)
    assert not result.success
    messages = [event.step_failure_data.error.cause.message for event in result.all_events if event.is_step_failure]
    assert any("run tag scrubline/as_of is for tests only" in message for message in messages)
    assert not (data_dir / "published/latest").exists()


def test_a_run_started_from_the_ui_refuses_a_dialler_files_campaign_that_is_no_campaign(tmp_path: Path) -> None:
    config = SCRUBLINE_YAML + "dialler_files:\n  campaigns: {sprnig: [vicidial]}\n"
    data_dir = write_data_dir(tmp_path / "data", config=config)
    result = run_nightly(data_dir)
    assert not result.success
    step, message = step_failure(result)
    assert step == "publish"
    assert "dialler_files.campaigns names sprnig" in message
    assert not (data_dir / "published/latest").exists()
