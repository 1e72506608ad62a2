"""Public names imported on first use (PEP 562), for the package's ``__init__`` modules.

``__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__, globals())`` gives a package a module
``__getattr__`` that imports ``name`` from the module ``_LAZY[name]`` (relative to the package) on first
access and stores it in the package's globals, so the next access is a plain attribute.  With
``submodules=True`` a name that is not in the table may also be a subpackage (``faktoora_async.bulk``).
Standard library only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str,
    table: Mapping[str, str],
    public: Sequence[str],
    namespace: dict[str, Any],
    *,
    submodules: bool = False,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` (its lazily imported names in ``table``)."""

    def missing(name: str) -> AttributeError:
        return AttributeError(f"module {package!r} has no attribute {name!r}")

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            if not submodules or name.startswith("__"):
                raise missing(name)
            try:  # a subpackage or module not imported yet
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise missing(name) from None
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value  # the next access is a plain module attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    return __getattr__, __dir__
