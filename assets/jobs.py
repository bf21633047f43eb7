"""The nightly scrub job: every stage's asset group, checks included."""

import dagster as dg

from assets.constants import NIGHTLY_SCRUB_JOB, STAGES

nightly_scrub = dg.define_asset_job(
    NIGHTLY_SCRUB_JOB,
    selection=dg.AssetSelection.groups(*STAGES),
    description="Ingest, normalise, suppress, analyse and publish the data directory's inbox.",
)
