"""Lazy imports (issue 14): every public name still imports, and importing the package loads little.

Each check of what an import pulls in runs in a fresh interpreter (``sys.modules`` of this test process
already holds everything).  No timing here: the import cost itself is measured by
``python -m benchmarks.import_cost``.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import faktoora_async

PACKAGE = Path(faktoora_async.__file__).resolve().parent


def _modules() -> list[str]:
    """Every module of the package that declares ``__all__`` (``__main__`` modules run a program)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py" or "__all__" not in path.read_text(encoding="utf-8"):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", _modules())
def test_every_name_of_every_all_imports(module: str) -> None:
    mod = importlib.import_module(module)
    names = mod.__all__
    missing = [name for name in names if not hasattr(mod, name)]
    assert not missing, f"{module}.__all__ names these, but they do not import: {missing}"
    for name in names:  # the ``from module import name`` form, in a fresh namespace
        namespace: dict[str, object] = {}
        exec(f"from {module} import {name}", namespace)
        assert namespace[name] is getattr(mod, name)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from faktoora_async import *", namespace)
    names = {name for name in namespace if name != "__builtins__"}
    assert names == set(faktoora_async.__all__)


def test_dir_lists_the_public_names() -> None:
    assert set(faktoora_async.__all__) <= set(dir(faktoora_async))


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        faktoora_async.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from faktoora_async import no_such_name", {})


def test_subpackages_load_on_first_access() -> None:
    loaded = _loaded_after(
        "import faktoora_async\n"
        "assert faktoora_async.bulk.BulkRunner\n"
        "assert faktoora_async.errors.FaktooraError"
    )
    assert {"faktoora_async.bulk", "faktoora_async.errors"} <= loaded


def test_import_package_loads_no_client() -> None:
    loaded = _loaded_after("import faktoora_async")
    heavy = {"aiohttp", "msgspec", "faktoora_async.client", "faktoora_async.einvoice", "faktoora_async.bulk"}
    assert not heavy & loaded, sorted(heavy & loaded)


def test_client_import_leaves_the_rest_alone() -> None:
    loaded = _loaded_after("from faktoora_async import FaktooraClient")
    assert "faktoora_async.client" in loaded
    not_needed = {
        "faktoora_async.bulk",
        "faktoora_async.einvoice",
        "faktoora_async.sandbox",
        "faktoora_async.integrations",
        "faktoora_async.cli",
        "lxml",
        "reportlab",
    }
    assert not not_needed & loaded, sorted(not_needed & loaded)
