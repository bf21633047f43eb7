"""The nightly scrub job: every stage's asset group, checks included, in one process.

In-process because the steps are short and pass frames through files: on a small machine a process
per step (Dagster's default) costs far more than the work, and one process holds the data
directory's lock for the whole run. See docs/operations.md to change it on a bigger machine.
"""

import dagster as dg

from assets.constants import NIGHTLY_SCRUB_JOB, STAGES, WITHDRAW_EXPIRED_LISTS_JOB

nightly_scrub = dg.define_asset_job(
    NIGHTLY_SCRUB_JOB,
    selection=dg.AssetSelection.groups(*STAGES),
    description="Ingest, normalise, suppress, analyse and publish the data directory's inbox.",
    executor_def=dg.in_process_executor,
)

withdraw_expired_lists = dg.define_asset_job(
    WITHDRAW_EXPIRED_LISTS_JOB,
    selection=dg.AssetSelection.assets("list_expiry"),
    description="Withdraw the latest published list once it is past its valid_through.",
    executor_def=dg.in_process_executor,
)
