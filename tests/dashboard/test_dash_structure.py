"""Structural rules of the dashboard that a reviewer would otherwise check by eye."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted((REPO / "pages").glob("*.py"))
APP_FILES = [REPO / "Home.py", *PAGES, *sorted((REPO / "dashboard").rglob("*.py"))]
PURE_MODULES = sorted((REPO / "dashboard").glob("*.py"))


def _cached_functions(tree: ast.AST) -> list[ast.FunctionDef]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr in {"cache_resource", "cache_data"}:
                    found.append(node)
    return found


@pytest.mark.parametrize("path", APP_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_streamlit_call_inside_a_cached_function(path: Path) -> None:
    for function in _cached_functions(ast.parse(path.read_text())):
        for node in (inner for statement in function.body for inner in ast.walk(statement)):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert node.value.id != "st", f"{path.name}:{node.lineno} uses st.{node.attr} in a cached function"


def test_the_model_is_loaded_in_a_cached_resource() -> None:
    tree = ast.parse((REPO / "dashboard/ui/runtime.py").read_text())
    names = {f.name for f in _cached_functions(tree)}
    assert "_engine" in names


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_page_starts_with_the_login_gate(path: Path) -> None:
    tree = ast.parse(path.read_text())
    calls = [node for node in tree.body if isinstance(node, ast.Assign | ast.Expr) and isinstance(node.value, ast.Call)]
    first = calls[0].value
    assert isinstance(first.func, ast.Name) and first.func.id == "page_setup", f"{path.name} must call page_setup first"


@pytest.mark.parametrize("path", PURE_MODULES, ids=lambda p: p.name)
def test_logic_modules_do_not_import_streamlit(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert "streamlit" not in imported and "streamlit_authenticator" not in imported
