"""The package layout holds: scoring never imports training, result types load without TensorFlow,
no import cycles, and tools and benchmarks run as modules without editing sys.path."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PIPELINE = REPO / "pipeline"
# The command-line front door dispatches to training lazily (inside functions), by design.
FRONT_DOOR = {"pipeline.cli", "pipeline.__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (not inside functions): what importing the module loads."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        nodes = [node]
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks load nothing at run time
            nodes = [] if "TYPE_CHECKING" in ast.unparse(node.test) else node.body
        for item in nodes:
            if isinstance(item, ast.Import):
                found |= {alias.name for alias in item.names}
            elif isinstance(item, ast.ImportFrom) and item.module:
                found.add(item.module)
                found |= {f"{item.module}.{alias.name}" for alias in item.names}
    return found


def pipeline_modules() -> dict[str, Path]:
    return {module_name(path): path for path in PIPELINE.rglob("*.py")}


def test_the_scoring_path_never_imports_training():
    offenders = {}
    for name, path in pipeline_modules().items():
        if name.startswith("pipeline.training") or name in FRONT_DOOR:
            continue
        text = path.read_text()
        if "pipeline.training" in text:
            offenders[name] = [line.strip() for line in text.splitlines() if "pipeline.training" in line]
    assert offenders == {}


def test_there_are_no_import_cycles_inside_the_package():
    modules = pipeline_modules()
    graph = {
        name: {m for m in top_level_imports(path) if m in modules and m != name} for name, path in modules.items()
    }
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                pytest.fail("import cycle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


@pytest.mark.parametrize(
    "module",
    ["pipeline.results", "pipeline.settings", "pipeline.scoring.aggregation", "pipeline.model.config", "dashboard.lab"],
)
def test_result_types_and_rules_load_without_tensorflow(module: str):
    code = f"import sys, {module}; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_tools_and_benchmarks_do_not_edit_sys_path():
    edits = [
        str(path.relative_to(REPO))
        for folder in ("tools", "benchmarks", "pipeline", "dashboard", "pages")
        for path in (REPO / folder).rglob("*.py")
        if "sys.path.insert" in path.read_text() or "sys.path.append" in path.read_text()
    ]
    assert edits == []


def test_the_console_script_is_declared():
    text = (REPO / "pyproject.toml").read_text()
    assert 'dfd = "pipeline.cli:run"' in text
    assert (REPO / "pipeline" / "py.typed").exists()
