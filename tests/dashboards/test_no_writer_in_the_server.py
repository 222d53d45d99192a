"""The dashboard's server never holds the writer: no module it can import, at any depth and in
any function body, reaches the warehouse's writer, the Dagster definitions, Dagster or dbt. Its
jobs go to the orchestrator (pipelines/orchestrator.py). Great Expectations is reachable only
for the capped child that checks an upload first (pipelines/lib/dryrun.py): the server process
itself never loads it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("pipelines.lib.warehouse", "pipelines.definitions", "pipelines.defs", "dagster",
             "dagster_dbt", "dbt")
NOT_LOADED = (*FORBIDDEN, "great_expectations")  # in the server process itself


def _module_file(name: str) -> Path | None:
    for candidate in (ROOT / f"{name.replace('.', '/')}.py",
                      ROOT / name.replace(".", "/") / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path, module: str):
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def reachable_from_dashboards(package: str = "dashboards") -> dict[str, str | None]:
    """Every module the dashboard's code (or another server's ``package``) can import (module
    name → the module importing it)."""
    start = [".".join(p.relative_to(ROOT).with_suffix("").parts)
             for p in sorted((ROOT / package).rglob("*.py"))]
    seen: dict[str, str | None] = {}
    todo = [(name, None) for name in start]
    while todo:
        name, by = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None and name.split(".")[0] in ("pipelines", "dashboards", "api"):
            continue  # an attribute (from pipelines.x import f), not a module
        seen[name] = by
        if path is not None:
            todo.extend((imported, name) for imported in _imports(path, name))
    return seen


@pytest.mark.parametrize("package", ["dashboards", "api"])
def test_no_dashboard_module_can_import_the_writer_path(package):
    """Neither the dashboard nor the data API, both public-facing, can reach the writer."""
    seen = reachable_from_dashboards(package)
    assert "pipelines.lib.i18n" in seen  # it does look
    if package == "dashboards":
        assert "pipelines.orchestrator" in seen and "pipelines.lib.reports" in seen

    def chain(name: str) -> str:
        links = [name]
        while seen.get(links[-1]):
            links.append(seen[links[-1]])
        return " <- ".join(links)

    bad = sorted(chain(m) for m in seen if m.split(".")[0] in FORBIDDEN[3:]
                 or any(m == f or m.startswith(f"{f}.") for f in FORBIDDEN[:3]))
    assert not bad, "\n".join(bad)


def test_the_pages_load_nothing_of_the_pipeline_at_run_time():
    """Every page's module imported as Streamlit would, in a fresh interpreter: none of the
    forbidden modules ends up loaded (a check on what really happens, beside the static one)."""
    code = (
        "import sys, runpy, pathlib\n"
        "import dashboards.app, dashboards.ui, dashboards.workflow_ui, dashboards.data\n"
        "import pipelines.orchestrator, pipelines.lib.reports, pipelines.lib.export\n"
        "import pipelines.lib.dryrun, api.app\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {NOT_LOADED[3:]!r} or "
        f"any(m == f or m.startswith(f + '.') for f in {NOT_LOADED[:3]!r}))\n"
        "print(bad)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]", result.stdout
