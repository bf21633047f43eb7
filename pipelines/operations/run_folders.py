"""Each run's own folder of intermediates, `work/<run id>/`, and pruning the per-run folders runs leave behind.

A run writes every intermediate frame under its own folder, so two runs never read each other's
files, and what a check validated is what the run publishes. The folder is removed when the run
publishes; a run that fails or dies leaves it for inspection (and for re-execution from failure)
until `retention.failed_work_days` have passed.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

WORK = "work"


def work_dir(data_dir: Path, run_id: str) -> Path:
    """The folder of run `run_id`'s intermediate frames."""
    return data_dir / WORK / run_id


def prune_run_folders(parent: Path, *, keep: str, written_before: datetime) -> list[Path]:
    """Remove the per-run folders under `parent` (`work/`, `quarantine/`) of runs other than `keep` last written
    before `written_before`; returns them."""
    folders = [
        folder
        for folder in sorted(parent.glob("*"))
        if folder.is_dir()
        and folder.name != keep
        and datetime.fromtimestamp(folder.stat().st_mtime, tz=UTC) < written_before
    ]
    for folder in folders:
        shutil.rmtree(folder)
    return folders
