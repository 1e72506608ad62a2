"""The rules of ../shared/ARCHITECTURE.md, checked on the source so they cannot silently rot.

* arrows point down only: a module imports only layers below its own (see ``RANK``);
* no import cycles between modules (runtime imports at module level);
* aiohttp only in the transport and the web adapters (``integrations/``) and the sandbox;
* the sandbox shares nothing with the client (it may use ``einvoice``, the pure domain code);
* no file over 600 lines and no function over 80 without a reason stated in its docstring
  ("Longer than 600 lines because ..." in a module docstring, "Longer than 80 lines because ..." in a
  function's).

Every import counts for layering, including those inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "faktoora_async"

# Component (first name below faktoora_async) -> layer.  A module may import its own component and any
# component of a lower layer.  The sandbox stands apart (see SANDBOX_MAY_IMPORT).
RANK: dict[str, int] = {
    "errors": 0,
    "_extras": 0,  # which extras are installed (standard library only)
    "_lazy": 0,  # PEP 562 lazy public names for the __init__ modules (standard library only)
    "_config": 1,
    "models": 1,
    "files": 1,
    "einvoice": 1,
    "ratelimit": 1,
    "protocol": 2,
    "transport": 3,
    "webhooks": 3,
    "_raw": 3,
    "pagination": 3,
    "preflight": 3,
    "_requester": 4,
    "waiting": 4,
    "resources": 5,
    "client": 6,
    "integrations": 7,
    "bulk": 7,
    "testing": 7,
    "cli": 8,
    "__main__": 9,  # ``python -m faktoora_async`` runs the CLI
    "__init__": 9,  # the package root re-exports the public names
}
SANDBOX = "sandbox"
SANDBOX_MAY_IMPORT = {"sandbox", "einvoice", "_extras"}
MAY_IMPORT_SANDBOX = {"sandbox", "testing", "cli", "__main__"}
AIOHTTP_AT_RUNTIME = {"transport", "integrations", "sandbox"}
AIOHTTP_FOR_TYPES_ONLY = {"client"}  # ``session: aiohttp.ClientSession`` in the public signature
# The domain code may never reach into the client side, whatever the ranks say.
PURE = {
    "einvoice": {"einvoice"},
    "models": {"models", "errors", "_lazy"},  # _lazy: standard library only
    "protocol": {"protocol", "models", "errors"},
}
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
# Files being split right now would go here (strict xfail: each entry must go the moment its file complies).
BEING_SPLIT: set[str] = set()


def _size_case(path: Path) -> object:
    rel = str(path.relative_to(PACKAGE))
    marks = [pytest.mark.xfail(strict=True, reason="being split (issue 10)")] if rel in BEING_SPLIT else []
    return pytest.param(path, id=rel, marks=marks)


@dataclass(frozen=True)
class Import:
    source: str  # dotted module name
    target: str  # dotted module name (inside faktoora_async) or a third-party top-level name
    line: int
    module_level: bool
    type_checking: bool


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(source: str, is_package: bool, level: int, module: str | None) -> str:
    base = source.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _imports(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    source = _module_name(path)
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in ast.walk(node):
                guarded.add(id(child))
    top_level = {id(n) for n in tree.body}
    for node in tree.body:
        if isinstance(node, (ast.If, ast.Try)):
            for child in ast.walk(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    top_level.add(id(child))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                target = _resolve(source, _is_package(path), node.level, node.module)
            else:
                target = node.module or ""
            names = [target]
            if target.startswith("faktoora_async"):
                # ``from . import errors`` names a submodule
                names = [
                    f"{target}.{a.name}" if _exists(f"{target}.{a.name}") else target for a in node.names
                ]
        else:
            continue
        for name in names:
            yield Import(source, name, node.lineno, id(node) in top_level, id(node) in guarded)


def _exists(dotted: str) -> bool:
    rel = Path(*dotted.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").exists() or (
        PACKAGE.parent / rel / "__init__.py"
    ).exists()


def _component(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _all_imports() -> list[Import]:
    return [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in _imports(path)]


def test_every_component_has_a_layer() -> None:
    components = {_component(_module_name(p)) for p in PACKAGE.rglob("*.py")}
    unknown = components - set(RANK) - {SANDBOX}
    assert not unknown, f"give these a layer in RANK: {sorted(unknown)}"


def test_arrows_point_down_only() -> None:
    broken: list[str] = []
    for imp in _all_imports():
        if not imp.target.startswith("faktoora_async"):
            continue
        src, dst = _component(imp.source), _component(imp.target)
        if src == dst:
            continue
        where = f"{imp.source}:{imp.line} imports {imp.target}"
        if src == SANDBOX:
            if dst not in SANDBOX_MAY_IMPORT:
                broken.append(f"{where} (the sandbox may use only {sorted(SANDBOX_MAY_IMPORT)})")
            continue
        if dst == SANDBOX:
            if src not in MAY_IMPORT_SANDBOX:
                broken.append(f"{where} (only {sorted(MAY_IMPORT_SANDBOX)} may start a sandbox)")
            continue
        if src in PURE and dst not in PURE[src]:
            broken.append(f"{where} ({src} is pure: it may import only {sorted(PURE[src])})")
        elif RANK[dst] >= RANK[src]:
            broken.append(f"{where} (layer {RANK[src]} -> layer {RANK[dst]}: upward or sideways)")
    assert not broken, "\n".join(broken)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for imp in _all_imports():
        runtime = imp.module_level and not imp.type_checking
        if runtime and imp.target.startswith("faktoora_async") and imp.target != imp.source:
            graph.setdefault(imp.source, set()).add(imp.target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            # importing a package's submodule from the package itself is how packages work
            if nxt.startswith(node + ".") or (node.startswith(nxt + ".") and nxt == node.rsplit(".", 1)[0]):
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_aiohttp_only_in_the_transport_and_the_web_adapters() -> None:
    broken = []
    for imp in _all_imports():
        if imp.target.split(".")[0] not in {"aiohttp", "multidict", "yarl"}:
            continue
        component = _component(imp.source)
        if component in AIOHTTP_AT_RUNTIME:
            continue
        if component in AIOHTTP_FOR_TYPES_ONLY and imp.type_checking:
            continue
        broken.append(f"{imp.source}:{imp.line} imports {imp.target}")
    assert not broken, "\n".join(broken)


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


@pytest.mark.parametrize("path", [_size_case(p) for p in sorted(PACKAGE.rglob("*.py"))])
def test_no_long_file_or_function_without_a_reason(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    problems = []
    lines = text.count("\n")
    if lines > MAX_FILE_LINES and "Longer than 600 lines because" not in (ast.get_docstring(tree) or ""):
        problems.append(f"{lines} lines (> {MAX_FILE_LINES}) and no reason in the module docstring")
    for fn in _functions(tree):
        length = (fn.end_lineno or fn.lineno) - fn.lineno + 1
        reason = "Longer than 80 lines because" in (ast.get_docstring(fn) or "")
        if length > MAX_FUNCTION_LINES and not reason:
            problems.append(
                f"{fn.name}(): {length} lines (> {MAX_FUNCTION_LINES}), no reason in its docstring"
            )
    assert not problems, "\n".join(problems)


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """The import reader sees what the rules need: relative, nested and TYPE_CHECKING imports."""
    probe = PACKAGE / "resources" / "_base.py"
    found = {(i.target, i.type_checking) for i in _imports(probe)}
    assert ("faktoora_async.protocol", False) in found
    assert RANK[_component("faktoora_async.client")] > RANK[_component("faktoora_async.resources._base")]
    # an upward import would be reported: resources (5) -> client (6)
    assert RANK["client"] >= RANK["resources"]
