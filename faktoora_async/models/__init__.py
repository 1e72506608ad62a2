"""msgspec models for every request and response of the faktoora API (no I/O here).

Each name is imported from its module on first use (PEP 562): a program that never names an area's
models (imports, customers, ...) does not load them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._base import WireDate, date_to_wire, parse_wire_date
    from .api_keys import ApiKey, ApiKeySecret, ApiKeyStatus, NewApiKey
    from .customers import Customer, CustomerImport, CustomerInput, CustomerNumber
    from .imports import (
        Attachment,
        ContentAllowanceCharge,
        ContentAttachmentRef,
        ContentDelivery,
        ContentDirectDebit,
        ContentLineItem,
        ContentParty,
        ContentPaymentMeans,
        ContentPaymentTerms,
        ContentPeriod,
        ContentSummary,
        ContentTax,
        ContentTotals,
        ImportCreated,
        ImportListItem,
        ImportStatus,
        ImportValidation,
        InvoiceContent,
    )
    from .incoming import IncomingCreated, IncomingInvoice, IncomingStatusValue, IncomingUpdate
    from .invoice import (
        Address,
        AllowanceCharge,
        Delivery,
        DirectDebit,
        DocumentAllowanceCharge,
        Invoice,
        InvoiceAttachment,
        InvoiceItem,
        Party,
        Period,
        Product,
        Tax,
    )
    from .products import GlobalId, ProductInput, ProductPatch, ProductRecord
    from .projects import Project, ProjectCustomer, ProjectDocument, ProjectInput, ProjectPatch, ProjectStatus
    from .responses import (
        CreatedInvoice,
        DeliveryStatus,
        InvoiceListItem,
        InvoiceStatus,
        InvoiceStatusValue,
        JobStatusValue,
        NextNumber,
        Page,
        PageMeta,
        Succeeded,
        ValidationStatus,
    )
    from .settings import InvoiceNumberSettings
    from .webhooks import WebhookAction, WebhookDeleted, WebhookEvent, WebhookSubscription

# public name -> the module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    "Address": ".invoice",
    "AllowanceCharge": ".invoice",
    "ApiKey": ".api_keys",
    "ApiKeySecret": ".api_keys",
    "ApiKeyStatus": ".api_keys",
    "Attachment": ".imports",
    "ContentAllowanceCharge": ".imports",
    "ContentAttachmentRef": ".imports",
    "ContentDelivery": ".imports",
    "ContentDirectDebit": ".imports",
    "ContentLineItem": ".imports",
    "ContentParty": ".imports",
    "ContentPaymentMeans": ".imports",
    "ContentPaymentTerms": ".imports",
    "ContentPeriod": ".imports",
    "ContentSummary": ".imports",
    "ContentTax": ".imports",
    "ContentTotals": ".imports",
    "CreatedInvoice": ".responses",
    "Customer": ".customers",
    "CustomerImport": ".customers",
    "CustomerInput": ".customers",
    "CustomerNumber": ".customers",
    "date_to_wire": "._base",
    "Delivery": ".invoice",
    "DeliveryStatus": ".responses",
    "DirectDebit": ".invoice",
    "DocumentAllowanceCharge": ".invoice",
    "GlobalId": ".products",
    "ImportCreated": ".imports",
    "ImportListItem": ".imports",
    "ImportStatus": ".imports",
    "ImportValidation": ".imports",
    "IncomingCreated": ".incoming",
    "IncomingInvoice": ".incoming",
    "IncomingStatusValue": ".incoming",
    "IncomingUpdate": ".incoming",
    "Invoice": ".invoice",
    "InvoiceAttachment": ".invoice",
    "InvoiceContent": ".imports",
    "InvoiceItem": ".invoice",
    "InvoiceListItem": ".responses",
    "InvoiceNumberSettings": ".settings",
    "InvoiceStatus": ".responses",
    "InvoiceStatusValue": ".responses",
    "JobStatusValue": ".responses",
    "NewApiKey": ".api_keys",
    "NextNumber": ".responses",
    "Page": ".responses",
    "PageMeta": ".responses",
    "parse_wire_date": "._base",
    "Party": ".invoice",
    "Period": ".invoice",
    "Product": ".invoice",
    "ProductInput": ".products",
    "ProductPatch": ".products",
    "ProductRecord": ".products",
    "Project": ".projects",
    "ProjectCustomer": ".projects",
    "ProjectDocument": ".projects",
    "ProjectInput": ".projects",
    "ProjectPatch": ".projects",
    "ProjectStatus": ".projects",
    "Succeeded": ".responses",
    "Tax": ".invoice",
    "ValidationStatus": ".responses",
    "WebhookAction": ".webhooks",
    "WebhookDeleted": ".webhooks",
    "WebhookEvent": ".webhooks",
    "WebhookSubscription": ".webhooks",
    "WireDate": "._base",
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
    "Address",
    "AllowanceCharge",
    "ApiKey",
    "ApiKeySecret",
    "ApiKeyStatus",
    "Attachment",
    "ContentAllowanceCharge",
    "ContentAttachmentRef",
    "ContentDelivery",
    "ContentDirectDebit",
    "ContentLineItem",
    "ContentParty",
    "ContentPaymentMeans",
    "ContentPaymentTerms",
    "ContentPeriod",
    "ContentSummary",
    "ContentTax",
    "ContentTotals",
    "CreatedInvoice",
    "Customer",
    "CustomerImport",
    "CustomerInput",
    "CustomerNumber",
    "Delivery",
    "DeliveryStatus",
    "DirectDebit",
    "DocumentAllowanceCharge",
    "GlobalId",
    "ImportCreated",
    "ImportListItem",
    "ImportStatus",
    "ImportValidation",
    "IncomingCreated",
    "IncomingInvoice",
    "IncomingStatusValue",
    "IncomingUpdate",
    "Invoice",
    "InvoiceAttachment",
    "InvoiceContent",
    "InvoiceItem",
    "InvoiceListItem",
    "InvoiceNumberSettings",
    "InvoiceStatus",
    "InvoiceStatusValue",
    "JobStatusValue",
    "NewApiKey",
    "NextNumber",
    "Page",
    "PageMeta",
    "Party",
    "Period",
    "Product",
    "ProductInput",
    "ProductPatch",
    "ProductRecord",
    "Project",
    "ProjectCustomer",
    "ProjectDocument",
    "ProjectInput",
    "ProjectPatch",
    "ProjectStatus",
    "Succeeded",
    "Tax",
    "ValidationStatus",
    "WebhookAction",
    "WebhookDeleted",
    "WebhookEvent",
    "WebhookSubscription",
    "WireDate",
    "date_to_wire",
    "parse_wire_date",
]
