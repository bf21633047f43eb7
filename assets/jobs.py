"""The jobs: the nightly scrub (every stage's asset group, checks included) and the hourly list withdrawal.

They run on the code location's executor (`assets/executors.py`): in-process unless the location runs on
Kubernetes.
"""

import dagster as dg

from assets.constants import NIGHTLY_SCRUB_JOB, STAGES, WITHDRAW_EXPIRED_LISTS_JOB

nightly_scrub = dg.define_asset_job(
    NIGHTLY_SCRUB_JOB,
    selection=dg.AssetSelection.groups(*STAGES),
    description="Ingest, normalise, suppress, analyse and publish the data directory's inbox.",
)

withdraw_expired_lists = dg.define_asset_job(
    WITHDRAW_EXPIRED_LISTS_JOB,
    selection=dg.AssetSelection.assets("list_expiry"),
    description="Withdraw the latest published list once it is past its valid_through.",
)
