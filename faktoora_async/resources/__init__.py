"""Resource namespaces of :class:`~faktoora_async.FaktooraClient`.

Each is imported from its module on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api_keys import ApiKeys
    from .customers import Customers
    from .imports import Imports
    from .incoming import Incoming
    from .invoices import Invoices
    from .products import Products
    from .projects import Projects
    from .settings import Settings
    from .webhooks import Webhooks

# public name -> the module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    "ApiKeys": ".api_keys",
    "Customers": ".customers",
    "Imports": ".imports",
    "Incoming": ".incoming",
    "Invoices": ".invoices",
    "Products": ".products",
    "Projects": ".projects",
    "Settings": ".settings",
    "Webhooks": ".webhooks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # the next access is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "ApiKeys",
    "Customers",
    "Imports",
    "Incoming",
    "Invoices",
    "Products",
    "Projects",
    "Settings",
    "Webhooks",
]
