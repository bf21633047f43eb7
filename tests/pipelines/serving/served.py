"""A published hand-made data directory with API keys, for the service's tests."""

import shutil
from pathlib import Path

from pipelines.serving.settings import key_digest
from tests.assets.test_nightly_scrub import run_nightly
from tests.handmade import SCRUBLINE_YAML, write_data_dir

# Keys by scope set: every scope, and each single scope.
KEYS = {"all": "key-all-0123", "check": "key-check-0123", "lists": "key-lists-0123", "opt-outs": "key-optouts-0123"}
SCOPES = {"all": ["check", "normalize", "lists", "opt-outs"], "check": ["check"], "lists": ["lists"],
          "opt-outs": ["opt-outs"]}  # fmt: skip
ENV_KEY_VARIABLE = "SCRUBLINE_TEST_NORMALIZE_KEY"
SERVE_YAML = (
    "serve:\n  keys:\n"
    + "".join(
        f"    - name: {name}\n      sha256: {key_digest(key)}\n      scopes: [{', '.join(SCOPES[name])}]\n"
        for name, key in KEYS.items()
    )
    + f"    - name: from_env\n      env: {ENV_KEY_VARIABLE}\n      scopes: [normalize]\n"
)


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


def published_handmade(root: Path) -> Path:
    """The hand-made data directory with keys configured, its nightly run published (as of the suite's clock)."""
    data_dir = write_data_dir(root / "data", config=SCRUBLINE_YAML + SERVE_YAML)
    assert run_nightly(data_dir).success
    return data_dir


def fresh_copy(published: Path, root: Path) -> Path:
    """A copy of a published data directory a test may change (symlinks kept as links)."""
    return Path(shutil.copytree(published, root / "copy", symlinks=True))
