"""The import graph is one-way: assets use the engine, and inside the engine each domain uses only those below it."""

import ast
from pathlib import Path

import pytest

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
# Each domain may import the shared top-level modules and the domains listed before it, never one after it.
LAYERS = ("phones", "inputs", "registries", "calling", "suppression", "analytics", "validation", "operations",
          "publishing", "serving")  # fmt: skip
# The configuration model reads the rule tables (registry formats, calling-time rules), the live service's settings
# and where its opt-out journal lives: leaf modules that import no other domain.
CONFIG_READS = {"pipelines.registries.formats", "pipelines.registries.us_states", "pipelines.calling.rules",
                "pipelines.serving.settings", "pipelines.serving.journal_file"}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "pipelines" and len(parts) > 2 else None


def layering_breaches(root: Path) -> list[str]:
    """Every import in the engine under `root` that goes against the layers, as `module imports module`."""
    breaches = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        own = domain_of(module)
        for imported in imported_modules(path):
            if imported.split(".")[0] in {"dagster", "assets"}:
                breaches.append(f"{module} imports {imported}")
            target = domain_of(imported)
            if target is None or target == own:
                continue
            if own is None:
                is_upward = not (module == "pipelines.config" and imported in CONFIG_READS)
            else:
                is_upward = LAYERS.index(target) > LAYERS.index(own)
            if is_upward:
                breaches.append(f"{module} imports {imported}")
    return breaches


def test_the_engine_imports_only_downwards_and_never_dagster() -> None:
    assert layering_breaches(PIPELINES) == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("phones/e164.py", "from pipelines.suppression.scrub import OUTCOMES\n"),
        ("duck.py", "from pipelines.phones.e164 import normalise_phones\n"),
        ("inputs/crm.py", "import dagster as dg\n"),
    ],
)
def test_an_upward_import_is_reported(tmp_path: Path, module: str, source: str) -> None:
    path = tmp_path / "pipelines" / module
    path.parent.mkdir(parents=True)
    path.write_text(source)
    assert len(layering_breaches(tmp_path / "pipelines")) == 1
