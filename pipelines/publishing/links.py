"""A local published folder's views for people and diallers that read files by path: `latest` and `<run date>`
symlinks to run folders, and `EXPIRED` while the latest list is withdrawn.

`latest.json` is the source of truth (`latest`); the `latest` symlink and `EXPIRED` only repeat it, and are made
again from it whenever it changes and by the next run after a crash between the two. Object storage has no
links: a dialler there reads `latest.json`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pipelines.publishing.layout import LATEST, RUNS
from pipelines.records import Latest

EXPIRED = "EXPIRED"


def show_latest(published_dir: Path, latest: Latest) -> None:
    """Make the `latest` symlink and the `EXPIRED` marker say what `latest` (the pointer) says."""
    link, marker = published_dir / LATEST, published_dir / EXPIRED
    if latest.withdrawn is None:
        point_link(link, at=Path(RUNS) / latest.run_id)
        marker.unlink(missing_ok=True)
        return
    partial = marker.with_name(f".{EXPIRED}.partial")
    partial.write_text(json.dumps(latest.withdrawn.model_dump(mode="json"), indent=2))
    os.replace(partial, marker)
    link.unlink(missing_ok=True)


def point_link(link: Path, *, at: Path) -> None:
    """Atomically make `link` a symlink to `at` (relative), replacing what was there."""
    temporary = link.with_name(f".{link.name}.swap")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(at)
    os.replace(temporary, link)
