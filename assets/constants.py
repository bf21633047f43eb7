"""Names shared across the code location: asset groups (one per stage) and the job."""

INGEST = "ingest"
NORMALISE = "normalise"
SUPPRESS = "suppress"
ANALYTICS = "analytics"
PUBLISH = "publish"
STAGES = (INGEST, NORMALISE, SUPPRESS, ANALYTICS, PUBLISH)
# In a data directory of clients: what is built over every client, outside the nightly job's stages.
CROSS_CLIENT = "cross_client"

NIGHTLY_SCRUB_JOB = "nightly_scrub"
DEFAULT_SCHEDULE = "0 2 * * *"
WITHDRAW_EXPIRED_LISTS_JOB = "withdraw_expired_lists"
HOURLY = "0 * * * *"
# The concurrency pool of the stored registries' ingest: one at a time (docs/kubernetes.md).
REGISTRY_INGEST_POOL = "registry_ingest"
# In a data directory of clients (`pipelines.clients`): the dynamic partitions, one per client, and the assets that
# stay unpartitioned, shared by every client: the national registries and their stored snapshots.
CLIENTS_PARTITIONS = "clients"
NATIONAL_REGISTRY_ASSETS = ("registry_entries", "normalised_registry_entries", "registry_snapshots")
