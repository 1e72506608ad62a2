"""Resource namespaces of :class:`~faktoora_async.FaktooraClient`."""

from __future__ import annotations

from .api_keys import ApiKeys
from .customers import Customers
from .imports import Imports
from .incoming import Incoming
from .invoices import Invoices
from .products import Products
from .projects import Projects
from .settings import Settings
from .webhooks import Webhooks

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
