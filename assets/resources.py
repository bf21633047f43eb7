"""Resources: the data directory, and the IO manager that keeps each run's frames as Parquet in its own folder."""

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import polars as pl
from dagster._core.storage.tags import PARTITION_NAME_TAG
from pydantic import PrivateAttr

from assets.metadata import table_metadata
from pipelines.clients import client_home, has_clients, load_config_for
from pipelines.config import ScrublineConfig
from pipelines.inputs.records import file_sha256
from pipelines.operations.frame_memo import link_frame, remember_frame
from pipelines.operations.run_folders import work_dir
from pipelines.operations.run_lock import hold_data_dir, hold_object_lock
from pipelines.parquet_files import FrameFile, write_parquet
from pipelines.publishing.publish import clear_unfinished_publishing
from pipelines.publishing.staging import (
    Sent,
    StagingError,
    fetch,
    local_data_dir,
    remove_if_published,
    send_back,
    stage,
    staging_dir,
)
from pipelines.storage import ObjectStorage, is_object_storage

PUBLISHED = "published"
# Op tag prefix: `<prefix>.<asset key>` names the columns a step reads of that upstream frame (`reads_columns`).
COLUMNS_TAG = "scrubline/columns"
# Output metadata: the fingerprint a memoised step's frame was made or reused under (`assets.memo`).
FINGERPRINT = "scrubline/fingerprint"
FINGERPRINT_SUFFIX = ".fingerprint"
WAREHOUSE = "warehouse.duckdb"


class ScrublineData(dg.ConfigurableResource):
    """A Scrubline data directory: `scrubline.yaml`, `inbox/`, and where outputs land; in a data directory of
    clients (`pipelines.clients`), one client's: the run's partition, or `client` where no run names one.

    Configured paths resolve against the data directory (`root`); the client's inbox and outputs are in its own
    folder (`home`, the data directory itself when it is one client). The configuration is read and validated
    once, when the run (or sensor tick) sets the resource up, so every step of one run sees the same configuration
    even if the file changes while it runs.

    A data directory on object storage (`s3://bucket/prefix`) is read from the run's staging folder
    (`pipelines.publishing.staging`), which `RunWorkspace` fills when the run starts; its configuration is read
    from there when a step first asks for it, the staged copy being as fixed for the run as a file read once.
    """

    data_dir: str
    client: str | None = None
    _config: ScrublineConfig | None = PrivateAttr(default=None)
    _run_client: str | None = PrivateAttr(default=None)
    _run_id: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._run_client = run_client(context)
        self._run_id = None if context.run is None else context.run.run_id
        if is_object_storage(self.data_dir):
            return  # staged by the IO manager's set-up, which may come after this one's
        # A data directory of clients has no configuration of its own: a run reads its client's, the sensor each one's.
        if self.client_name is not None or not has_clients(self.root):
            self._config = load_config_for(self.root, self.client_name)

    @property
    def root(self) -> Path:
        """The data directory as the engine reads it: the folder, or the run's staging folder of object storage."""
        return local_data_dir(self.data_dir, self._run_id)

    @property
    def client_name(self) -> str | None:
        return self.client if self.client is not None else self._run_client

    @property
    def home(self) -> Path:
        return client_home(self.root, self.client_name)

    @property
    def config(self) -> ScrublineConfig:
        if self._config is None:  # called outside a run, as a plain object
            self._config = load_config_for(self.root, self.client_name)
        return self._config

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def published(self) -> Path:
        return self.home / PUBLISHED

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def warehouse(self) -> Path:
        return self.home / WAREHOUSE

    def work(self, run_id: str) -> Path:
        return work_dir(self.home, run_id)

    def fetch(self, path: Path) -> Path:
        """`path` in the data directory with its bytes: on object storage a file staged by name only (a memo frame)
        is downloaded now (`staging.fetch`); on a local folder it is the file itself."""
        if not is_object_storage(self.data_dir):
            return path
        return fetch(ObjectStorage(self.data_dir), self.root, path)

    def send_back(self) -> Sent | None:
        """On object storage, send what the run changed back to the bucket now (`staging.send_back`), so that the
        step that published fails if its publish cannot reach the bucket; None on a local folder, used in place."""
        if not is_object_storage(self.data_dir):
            return None
        return send_back(ObjectStorage(self.data_dir), self.root)


def _is_frame_or_file(_: dg.TypeCheckContext, value: object) -> bool:
    return isinstance(value, pl.DataFrame | FrameFile)


# The output of a step that may hand on a frame it computed or one already in a file: a memoised step's, the merge's.
FRAME_OR_FILE = dg.DagsterType(name="FrameOrFile", type_check_fn=_is_frame_or_file, typing_type=pl.DataFrame)


class RunWorkspace(dg.ConfigurableIOManager):
    """Keeps each asset's polars frame at `<home>/work/<run id>/<asset key>.parquet`, and holds the lock of `<home>`
    for the whole run: the data directory, or in a data directory of clients the folder of the run's client (its
    partition), so one client's frames never mix with another's and two clients' runs may run side by side.

    Every step needs the IO manager, so every run of the job, however it was started, takes the lock when
    it starts (waiting for a run that holds it) and then clears what dead runs left half-published. With the
    in-process executor the lock is held once for the whole run; another executor takes it step by step (steps
    of one run share it), which is why one machine runs in-process and a cluster queues one run at a time
    (docs/operations.md, docs/kubernetes.md).

    On object storage it first takes the data directory's lock object and stages the data directory into the run's
    local folder (`pipelines.publishing.staging`); the publish step sends its publish back (`ScrublineData.send_back`)
    and, when the run ends, it sends what is left (a failed run's quarantine) before it lets the lock go. The run
    works in its staging folder exactly as on a local data directory, under that folder's own `flock`.
    """

    data_dir: str
    _held: ExitStack = PrivateAttr(default_factory=ExitStack)
    _client: str | None = PrivateAttr(default=None)
    _run_id: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._client = run_client(context)
        self._run_id = context.run.run_id
        if is_object_storage(self.data_dir):
            self._stage(context)
        root = self._home
        if self._client is None and has_clients(root):
            return  # a run over every client (the cross-client warehouse) writes no frame and holds no client's folder
        self._held.enter_context(
            hold_data_dir(root, run_id=context.run.run_id, wait=True, on_wait=lambda busy: _log_wait(context, busy))
        )
        cleared = clear_unfinished_publishing(root / PUBLISHED, warehouse=root / WAREHOUSE)
        if cleared and context.log is not None:
            context.log.warning(f"removed what dead runs left half-published: {', '.join(map(str, cleared))}")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._held.close()

    def _stage(self, context: dg.InitResourceContext) -> None:
        """Hold the lock object of the data directory on object storage (one run at a time for the whole prefix,
        clients included: they share its registries) and stage it; when the run ends, send back, then let go."""
        storage, run_id = ObjectStorage(self.data_dir), context.run.run_id
        local = staging_dir(storage.url, run_id)
        self._held.enter_context(
            hold_object_lock(storage, run_id=run_id, wait=True, on_wait=lambda busy: _log_wait(context, busy))
        )
        stage(storage, local)
        self._held.callback(_send_back, context, storage, local, run_id)

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | FrameFile) -> None:
        """Write the frame to the run's folder; a memoised step's frame is also remembered under its fingerprint,
        and a frame already in a file (`FrameFile`) is linked in, neither read nor written."""
        path = self._path(context.run_id, context.asset_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        if isinstance(obj, FrameFile):
            link_frame(obj.path, partial)
            context.add_output_metadata(table_metadata(pl.scan_parquet(partial)))
        else:
            write_parquet(obj, partial)
            context.add_output_metadata(table_metadata(obj))
        partial.replace(path)
        memo_fingerprint = context.output_metadata.get(FINGERPRINT)
        if memo_fingerprint is None:
            return
        if not isinstance(obj, FrameFile):
            name = context.asset_key.to_user_string()
            remember_frame(path, self._home, name=name, frame_fingerprint=memo_fingerprint.value)
        path.with_suffix(FINGERPRINT_SUFFIX).write_text(memo_fingerprint.value, encoding="utf-8")

    def load_input(self, context: dg.InputContext) -> pl.DataFrame | pl.LazyFrame | FrameFile:
        """The frame, or only the columns its step's tags name (`reads_columns`); a scan of it, read only as the
        step collects it, where the step's parameter is a `pl.LazyFrame`; its file, where it is a `FrameFile`."""
        columns = context.op_def.tags.get(f"{COLUMNS_TAG}.{context.asset_key.to_user_string()}")
        # A re-execution from failure reads the steps it does not repeat from the run that made them.
        path = self._path(context.upstream_output.run_id, context.asset_key)
        if context.dagster_type.typing_type is FrameFile:
            return FrameFile(path)
        if context.dagster_type.typing_type is pl.LazyFrame:
            scan = pl.scan_parquet(path)
            return scan.select(columns.split(",")) if columns else scan
        return pl.read_parquet(path, columns=columns.split(",") if columns else None)

    @property
    def _home(self) -> Path:
        return client_home(local_data_dir(self.data_dir, self._run_id), self._client)

    def work(self, run_id: str) -> Path:
        """Run `run_id`'s folder of frames (and Data Docs) in the run's data directory or client folder."""
        return work_dir(self._home, run_id)

    def _path(self, run_id: str, key: dg.AssetKey) -> Path:
        return self.work(run_id) / f"{'/'.join(key.path)}.parquet"


def run_client(context: dg.InitResourceContext) -> str | None:
    """The client a run scrubs: its partition key (every asset of a client's run but the national registries'
    is partitioned by client), or None outside a run and for a data directory that is one client."""
    run = context.run
    return None if run is None else run.tags.get(PARTITION_NAME_TAG)


def frame_fingerprint(work: Path, key: str) -> str | None:
    """What the run's frame `key` in its folder `work` is: the fingerprint it was made or reused under, else the
    SHA-256 of its Parquet (for small frames); None when the run has no such frame (it re-executes another run's)."""
    path = work / f"{key}.parquet"
    remembered = path.with_suffix(FINGERPRINT_SUFFIX)
    if remembered.is_file():
        return remembered.read_text(encoding="utf-8")
    return file_sha256(path) if path.is_file() else None


def reads_columns(**columns_by_input: Sequence[str]) -> dict[str, str]:
    """Op tags that make `RunWorkspace` read only these columns of each named upstream frame's Parquet.

    A tag rather than `dg.AssetIn(metadata=...)`: Dagster refuses input metadata on an asset that is also a
    dependency of the step's specs, as a check's own asset and `publish`'s frames are."""
    return {f"{COLUMNS_TAG}.{name}": ",".join(columns) for name, columns in columns_by_input.items()}


def _send_back(context: dg.InitResourceContext, storage: ObjectStorage, local: Path, run_id: str) -> None:
    """Send what the run changed back to object storage (`staging.send_back`; a run that published sent it from its
    publish step already, a failed run sends its quarantine), and say what was sent."""
    try:
        sent = send_back(storage, local)
    except StagingError as lost:
        # Only a publish can lose to another publisher, and its step failed of it already: nothing more to send.
        if context.log is not None:
            context.log.error(f"nothing more sent back to {storage.url}: {lost}; the staging folder stays at {local}")
        return
    if context.log is not None:
        context.log.info(
            f"sent back to {storage.url}: {len(sent.written)} objects written, {len(sent.removed)} removed"
            + (", latest.json moved" if sent.moved_latest else "")
        )
        if not remove_if_published(local, run_id=run_id):
            context.log.info(f"the run's staging folder, with its intermediates, stays at {local}")


def _log_wait(context: dg.InitResourceContext, busy: str) -> None:
    if context.log is not None:
        context.log.info(f"waiting: {busy}")
