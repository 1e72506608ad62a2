"""faktoora-async: the asyncio SDK for faktoora's e-Invoicing API (XRechnung, ZUGFeRD).

Importing the package costs next to nothing: every public name is imported from its module on first
use (PEP 562), so ``import faktoora_async`` pulls in neither aiohttp nor msgspec, and
``from faktoora_async import FaktooraClient`` only what a client needs.  Subpackages (``bulk``,
``einvoice``, ``sandbox``, ``webhooks``, ``integrations``, ...) load when they are first named.
A new public name goes into ``_LAZY`` (name -> module) and into the ``TYPE_CHECKING`` imports.
"""

from __future__ import annotations

import logging as _logging
from typing import TYPE_CHECKING

from ._lazy import lazy_names

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ._config import Limits, RetryConfig, Timeout
    from .client import FaktooraClient
    from .errors import (
        AmbiguousRequestError,
        APIStatusError,
        AuthenticationError,
        BadRequestError,
        ClientClosedError,
        ConfigurationError,
        ConflictError,
        ConnectError,
        DownloadError,
        DuplicateInvoiceNumberError,
        FaktooraError,
        FieldError,
        FieldValidationError,
        GenerationFailedError,
        InvoiceValidationError,
        NotAcceptableError,
        NotFoundError,
        NotReadyError,
        PayloadTooLargeError,
        PermissionDeniedError,
        RateLimitError,
        RequestTimeoutError,
        ResponseDecodeError,
        ServerError,
        TimeoutError,
        TransportError,
        WaitTimeoutError,
    )
    from .files import DownloadResult, safe_filename
    from .models import (
        Address,
        ApiKeySecret,
        Attachment,
        CreatedInvoice,
        Delivery,
        ImportCreated,
        ImportStatus,
        Invoice,
        InvoiceContent,
        InvoiceItem,
        InvoiceListItem,
        InvoiceNumberSettings,
        InvoiceStatus,
        NextNumber,
        Page,
        PageMeta,
        Party,
        Product,
        Tax,
        WebhookEvent,
        WebhookSubscription,
    )
    from .ratelimit import AdaptiveRateLimiter

# A library logs, the application decides where it goes: without this, Python's last-resort handler
# would print the SDK's warnings to stderr of any program that did not configure logging.
_logging.getLogger("faktoora_async").addHandler(_logging.NullHandler())

# public name -> the module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    "AdaptiveRateLimiter": ".ratelimit",
    "Address": ".models",
    "AmbiguousRequestError": ".errors",
    "ApiKeySecret": ".models",
    "APIStatusError": ".errors",
    "Attachment": ".models",
    "AuthenticationError": ".errors",
    "BadRequestError": ".errors",
    "ClientClosedError": ".errors",
    "ConfigurationError": ".errors",
    "ConflictError": ".errors",
    "ConnectError": ".errors",
    "CreatedInvoice": ".models",
    "Delivery": ".models",
    "DownloadError": ".errors",
    "DownloadResult": ".files",
    "DuplicateInvoiceNumberError": ".errors",
    "FaktooraClient": ".client",
    "FaktooraError": ".errors",
    "FieldError": ".errors",
    "FieldValidationError": ".errors",
    "GenerationFailedError": ".errors",
    "ImportCreated": ".models",
    "ImportStatus": ".models",
    "Invoice": ".models",
    "InvoiceContent": ".models",
    "InvoiceItem": ".models",
    "InvoiceListItem": ".models",
    "InvoiceNumberSettings": ".models",
    "InvoiceStatus": ".models",
    "InvoiceValidationError": ".errors",
    "Limits": "._config",
    "NextNumber": ".models",
    "NotAcceptableError": ".errors",
    "NotFoundError": ".errors",
    "NotReadyError": ".errors",
    "Page": ".models",
    "PageMeta": ".models",
    "Party": ".models",
    "PayloadTooLargeError": ".errors",
    "PermissionDeniedError": ".errors",
    "Product": ".models",
    "RateLimitError": ".errors",
    "RequestTimeoutError": ".errors",
    "ResponseDecodeError": ".errors",
    "RetryConfig": "._config",
    "safe_filename": ".files",
    "ServerError": ".errors",
    "Tax": ".models",
    "Timeout": "._config",
    "TimeoutError": ".errors",
    "TransportError": ".errors",
    "WaitTimeoutError": ".errors",
    "WebhookEvent": ".models",
    "WebhookSubscription": ".models",
}


__all__ = [
    "APIStatusError",
    "AdaptiveRateLimiter",
    "Address",
    "AmbiguousRequestError",
    "ApiKeySecret",
    "Attachment",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "CreatedInvoice",
    "Delivery",
    "DownloadError",
    "DownloadResult",
    "DuplicateInvoiceNumberError",
    "FaktooraClient",
    "FaktooraError",
    "FieldError",
    "FieldValidationError",
    "GenerationFailedError",
    "ImportCreated",
    "ImportStatus",
    "Invoice",
    "InvoiceContent",
    "InvoiceItem",
    "InvoiceListItem",
    "InvoiceNumberSettings",
    "InvoiceStatus",
    "InvoiceValidationError",
    "Limits",
    "NextNumber",
    "NotAcceptableError",
    "NotFoundError",
    "NotReadyError",
    "Page",
    "PageMeta",
    "Party",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Product",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "RetryConfig",
    "ServerError",
    "Tax",
    "Timeout",
    "TimeoutError",
    "TransportError",
    "WaitTimeoutError",
    "WebhookEvent",
    "WebhookSubscription",
    "__version__",
    "safe_filename",
]

__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__, globals(), submodules=True)
