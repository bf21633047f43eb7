"""The code location loads the assets, checks, job, schedule and sensor the pipeline promises."""

from pathlib import Path

import dagster as dg

from assets.constants import NIGHTLY_SCRUB_JOB, WITHDRAW_EXPIRED_LISTS_JOB
from assets.definitions import build_definitions

ASSETS = {
    "crm_contacts", "dialler_leads", "registry_entries", "registry_snapshots", "call_records", "number_estate",
    "normalised_crm_contacts", "normalised_dialler_leads", "normalised_registry_entries",
    "normalised_call_records", "normalised_number_estate",
    "established_relationships", "unusable_suppression_entries", "stored_registry_listings", "suppression_entries",
    "suppression_list",
    "lead_places", "scrubbed_leads", "clean_number_windows",
    "number_appearances", "number_analytics", "cli_days", "cli_health", "pool_capacity", "dialled_numbers",
    "calling_windows",
    "call_attempts", "call_limit_breaches",
    "published_run", "warehouse", "list_expiry",
}  # fmt: skip
CHECKS = {
    "crm_contacts:crm_records_are_readable",
    "registry_entries:registries_are_fresh",
    "normalised_registry_entries:registries_have_not_shrunk",
    "normalised_registry_entries:registries_are_readable_numbers",
    "normalised_registry_entries:no_registry_is_missing",
    "suppression_list:opt_out_sellers_exist",
    "suppression_list:suppression_list_expectations",
    "suppression_list:every_registry_contributes",
    "scrubbed_leads:scrubbed_leads_expectations",
    "scrubbed_leads:clean_call_lists_expectations",
    "scrubbed_leads:clean_rows_have_windows",
    "scrubbed_leads:rows_reconcile",
    "scrubbed_leads:no_clean_number_is_suppressed",
}


def test_definitions_load_every_asset_and_check(data_dir: Path) -> None:
    defs = build_definitions(str(data_dir))
    graph = defs.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == ASSETS
    assert {f"{key.asset_key.to_user_string()}:{key.name}" for key in graph.asset_check_keys} == CHECKS
    assert all(graph.get_check_spec(key).blocking for key in graph.asset_check_keys)


def test_the_nightly_job_runs_every_stage_on_schedule(data_dir: Path) -> None:
    defs = build_definitions(str(data_dir))
    job = defs.resolve_job_def(NIGHTLY_SCRUB_JOB)
    assert {key.to_user_string() for key in job.asset_layer.selected_asset_keys} == ASSETS
    schedule = defs.resolve_schedule_def("nightly_scrub_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.job_name == NIGHTLY_SCRUB_JOB


def test_expired_lists_are_withdrawn_every_hour(data_dir: Path) -> None:
    defs = build_definitions(str(data_dir))
    job = defs.resolve_job_def(WITHDRAW_EXPIRED_LISTS_JOB)
    assert {key.to_user_string() for key in job.asset_layer.selected_asset_keys} == {"list_expiry"}
    schedule = defs.resolve_schedule_def("withdraw_expired_lists_schedule")
    assert (schedule.cron_schedule, schedule.job_name) == ("0 * * * *", WITHDRAW_EXPIRED_LISTS_JOB)


def test_every_asset_states_its_grain(data_dir: Path) -> None:
    graph = build_definitions(str(data_dir)).resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, f"{key.to_user_string()} has no description"


def test_the_code_location_module_exposes_defs() -> None:
    from assets.definitions import defs

    assert isinstance(defs, dg.Definitions)
