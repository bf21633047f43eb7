"""Where the opt-out journal lives and the registry name the nightly run reads it under; no other imports, so the
configuration can ask whether the journal has entries without importing the service."""

from __future__ import annotations

from pathlib import Path

LIVE_OPT_OUTS = "live_opt_outs"
JOURNAL_PATH = "opt-outs/journal.csv"


def journal_has_entries(data_dir: Path) -> bool:
    """Whether the data directory's journal holds a line after its header: at least one opt-out."""
    path = data_dir / JOURNAL_PATH
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(1 << 12)
    first_break = head.find(b"\n")
    return first_break != -1 and len(head) > first_break + 1
