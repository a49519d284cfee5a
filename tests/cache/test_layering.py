"""The store stands below the runner: shipyard.cache imports neither the pipeline nor the CLI."""

from __future__ import annotations

import ast

from tests.conftest import REPO_ROOT

FORBIDDEN = ("shipyard.pipeline", "shipyard.cli", "shipyard.server", "click", "rich")


def imported_modules(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_cache_package_imports_nothing_above_it() -> None:
    offending = {
        path.name: sorted(
            module
            for module in imported_modules(path.read_text(encoding="utf-8"))
            if module.startswith(FORBIDDEN)
        )
        for path in sorted((REPO_ROOT / "src" / "shipyard" / "cache").glob("*.py"))
    }
    assert {name: modules for name, modules in offending.items() if modules} == {}
    assert len(offending) >= 10
