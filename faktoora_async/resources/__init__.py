"""Resource namespaces of :class:`~faktoora_async.FaktooraClient`.

Each is imported from its module on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

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

__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__, globals())
