"""Steps whose frame depends on their inputs alone, done once per set of inputs (`pipelines.operations.frame_memo`).

A memoised step names what its frame depends on besides the code, the libraries and the configuration: the
files it reads (by SHA-256) or the upstream frames it reads (by their own fingerprints). On a hit it returns a
`FrameFile`, which `RunWorkspace` links into the run's folder; on a miss it computes the frame as before,
and `RunWorkspace` remembers what it wrote. The fingerprint is the output's data version, so the UI shows when
two runs' frames are the same.
"""

from collections.abc import Callable, Mapping
from pathlib import Path

import dagster as dg
import polars as pl

import assets
import pipelines
from assets.resources import FINGERPRINT, ScrublineData, frame_fingerprint
from pipelines.operations.frame_memo import (
    fingerprint,
    library_versions,
    remembered_frame,
    source_fingerprint,
)
from pipelines.parquet_files import FrameFile

REUSED = "scrubline/reused"


def memoised(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    *,
    depends_on: Mapping[str, object],
    compute: Callable[[], dg.Output[pl.DataFrame]],
    is_rememberable: Callable[[pl.DataFrame], bool] = lambda _: True,
) -> dg.Output:
    """The step's frame remembered under its fingerprint, else `compute()` with the fingerprint in its metadata.

    `depends_on` is everything the frame depends on besides code, libraries and configuration; an upstream
    without a fingerprint (None) makes the step compute, unremembered, as does a computed frame that
    `is_rememberable` refuses (read from files that changed after they were fingerprinted).
    """
    if any(part is None for part in depends_on.values()):
        return compute()
    name = context.asset_key.to_user_string()
    step_fingerprint = fingerprint(
        {
            "asset": name,
            "code": source_fingerprint(Path(pipelines.__file__).parent, Path(assets.__file__).parent),
            "libraries": library_versions(),
            "config": scrubline.config.model_dump(mode="json"),
            **depends_on,
        }
    )
    path = remembered_frame(scrubline.home, name=name, frame_fingerprint=step_fingerprint)
    if path is None:
        computed = compute()
        if not is_rememberable(computed.value):
            context.log.warning(f"{name}: its input files changed while the run read them; the frame is not reused")
            return computed
        return dg.Output(
            computed.value,
            metadata={**computed.metadata, FINGERPRINT: step_fingerprint, REUSED: False},
            data_version=dg.DataVersion(step_fingerprint),
        )
    scrubline.fetch(path)  # on object storage, the remembered frame's bytes (staged by name only)
    context.log.info(f"{name}: inputs unchanged, frame reused ({path})")
    return dg.Output(
        FrameFile(path),
        metadata={FINGERPRINT: step_fingerprint, REUSED: True},
        data_version=dg.DataVersion(step_fingerprint),
    )


def upstream(context: dg.AssetExecutionContext, scrubline: ScrublineData, *keys: str) -> dict[str, str | None]:
    """Each upstream frame's fingerprint in this run (`frame_fingerprint`), by asset key."""
    return {key: frame_fingerprint(scrubline.work(context.run.run_id), key) for key in keys}
