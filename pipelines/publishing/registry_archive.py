"""The archive of registry copies: each copy a run was scrubbed against, kept by its SHA-256.

"Which list did you scrub against on 12 March?" is answered with the list itself: the certificate of that
night names each registry file's SHA-256 and, once archived, `registry_archive/<sha256>` under the data
directory. A copy used on many nights is stored once, since its name is its content. Copies larger than the
configured limit are not archived (their certificate says why); a file that changed since the run read it is
not archived under the old checksum.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from pipelines.inputs.records import file_sha256
from pipelines.records import ArchivedCopy
from pipelines.registries.store import staging_path

ARCHIVE_DIR = "registry_archive"


def archive_registry_copies(
    files: Iterable[tuple[str, str]], *, data_dir: Path, max_bytes: int
) -> dict[str, ArchivedCopy]:
    """Archive each `(file, sha256)` a run read (`<zip>!<member>` archives the zip) under `registry_archive/`;
    by SHA-256, where each copy is (`path` relative to the data directory) or why it is not."""
    archived: dict[str, ArchivedCopy] = {}
    for file, sha256 in files:
        if sha256 not in archived:
            archived[sha256] = _archive(data_dir / file.split("!")[0], sha256, data_dir=data_dir, max_bytes=max_bytes)
    return archived


def _archive(source: Path, sha256: str, *, data_dir: Path, max_bytes: int) -> ArchivedCopy:
    relative = f"{ARCHIVE_DIR}/{sha256}"
    target = data_dir / relative
    if target.is_file():
        return ArchivedCopy(sha256=sha256, path=relative)
    if not source.is_file():
        return ArchivedCopy(sha256=sha256, path=None, reason=f"{source.name} is no longer in the data directory")
    size = source.stat().st_size
    if size > max_bytes:
        return ArchivedCopy(
            sha256=sha256, path=None, reason=f"{size:,} bytes, over registry_archive.max_bytes ({max_bytes:,})"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own: two clients' runs may archive the same copy at once (docs/clients.md).
    partial = staging_path(target)
    shutil.copyfile(source, partial)
    if file_sha256(partial) != sha256:
        partial.unlink()
        return ArchivedCopy(sha256=sha256, path=None, reason=f"{source.name} changed since the run read it")
    os.replace(partial, target)
    return ArchivedCopy(sha256=sha256, path=relative)
