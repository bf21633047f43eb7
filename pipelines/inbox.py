"""The inbox's identity: a fingerprint that changes exactly when its set of files changes."""

from __future__ import annotations

import hashlib
from pathlib import Path


def inbox_fingerprint(inbox_dir: Path) -> str | None:
    """SHA-256 over every file's relative path, size and modification time; None for an empty inbox."""
    files = sorted(path for path in inbox_dir.rglob("*") if path.is_file())
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(inbox_dir).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
