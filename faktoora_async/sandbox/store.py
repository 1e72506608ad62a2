"""In-memory state of the sandbox: accounts, tenants, invoices, imports, webhook subscriptions."""

from __future__ import annotations

import asyncio
import datetime as _dt
import hashlib
import json
import re
import secrets
import string
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar, cast

from .numbering import DEFAULT_PAD_LENGTH, DEFAULT_TEMPLATE, Template, parse_template
from .ratelimit import TokenBucket

__all__ = [
    "FEATURES",
    "Account",
    "ImportRecord",
    "InvoiceRecord",
    "Stats",
    "Store",
    "Subscription",
    "Tenant",
    "dumps",
    "safe_name",
    "utcnow",
]

T = TypeVar("T")

FEATURES = frozenset({"invoiceValidation", "invoiceDeleteMode"})
_ID_ALPHABET = string.ascii_uppercase + string.digits
_CENT = Decimal("0.01")


def today() -> _dt.date:
    """Today's date in UTC (the date tokens of invoice numbers)."""
    return _dt.datetime.now(_dt.timezone.utc).date()


DEFAULT_PROFILE: Mapping[str, str] = {
    "name": "Sandbox Muster GmbH",
    "street": "Friedrichstraße 123",
    "postcode": "10117",
    "city": "Berlin",
    "country": "DE",
    "vatId": "DE123456789",
    "legalRegistrationId": "HRB 123456 B",
    "contactName": "Erika Mustermann",
    "phone": "+49 30 1234567",
    "email": "rechnung@sandbox-muster.example",
    "electronicAddress": "rechnung@sandbox-muster.example",
    "electronicAddressScheme": "EM",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "bankName": "Commerzbank",
}
"""The company profile of a new tenant: a complete German seller (XRechnung 3.0 valid)."""


def default_profile() -> dict[str, Any]:
    """A fresh copy of :data:`DEFAULT_PROFILE`."""
    return dict(DEFAULT_PROFILE)


def utcnow() -> str:
    """Current time as ISO 8601 UTC with a ``Z`` and milliseconds."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """Compact JSON bytes; Decimals become strings."""
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(eq=False)
class Account:
    """An API key with its features and optional rate limit."""

    api_key: str
    features: frozenset[str] = frozenset()
    bucket: TokenBucket | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "features": sorted(self.features),
            "rate": self.bucket.rate if self.bucket else None,
            "burst": self.bucket.burst if self.bucket else None,
        }


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def gross_total(payload: Mapping[str, Any]) -> str:
    """EN 16931 grand total (line nets rounded, VAT per category and rate, rounded) as a string."""
    net = Decimal(0)
    groups: dict[tuple[str, Decimal], Decimal] = {}
    for item in payload.get("invoiceItems", []):
        product = item["product"]
        line = _money(Decimal(str(product["quantity"])) * Decimal(str(product["price"])))
        net += line
        tax = product["taxes"][0]
        rate = tax.get("rate")
        key = (str(tax["categoryCode"]), Decimal(str(rate)) if rate is not None else Decimal(0))
        groups[key] = groups.get(key, Decimal(0)) + line
    vat = sum((_money(basis * rate / 100) for (_, rate), basis in groups.items()), Decimal(0))
    return str(_money(net + vat))


@dataclass(eq=False)
class InvoiceRecord:
    """One outgoing invoice and the state of its jobs."""

    faktoora_id: str
    tenant: Tenant
    seq: int
    payload: dict[str, Any]
    created_at: str
    invoice_status: str | None = None
    job_status: str | None = "queued"
    error: str | None = None
    validation: dict[str, Any] | None = None
    verdict: Any = None
    xml: bytes | None = None
    pdf: bytes | None = None
    report_pdf: bytes | None = None
    inflate_to: int | None = None
    inflate_sha256: str | None = None
    deleted: bool = False
    gen_fail: bool = False
    delays: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pdf_lock: asyncio.Lock | None = None
    view: ImportRecord | None = None
    """The invoice as ``/import/outgoing/{faktooraId}`` serves it (made once its XML exists)."""
    view_lock: asyncio.Lock | None = None
    _status_body: bytes | None = None
    _total_gross: str | None = None
    _digests: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    @property
    def xml_sha256(self) -> str | None:
        """The sha256 (hex) of :attr:`xml`, made on first use (only the admin snapshot asks)."""
        return self._sha256("xml", self.xml)

    @property
    def pdf_sha256(self) -> str | None:
        """The sha256 (hex) of :attr:`pdf`, made on first use (only the admin snapshot asks)."""
        return self._sha256("pdf", self.pdf)

    def _sha256(self, kind: str, data: bytes | None) -> str | None:
        if data is None:
            return None
        known = self._digests.get(kind)
        if known is None or known[0] is not data:
            known = self._digests[kind] = (data, hashlib.sha256(data).hexdigest())
        return known[1]

    @property
    def invoice_number(self) -> str:
        return str(self.payload["invoiceNumber"])

    @property
    def issue_date(self) -> str:
        return str(self.payload["issueDate"])

    @property
    def mode(self) -> str:
        if self.payload.get("draftOnly"):
            return "draft"
        if self.payload.get("reviewMode"):
            return "review"
        return "created"

    @property
    def delivery(self) -> dict[str, Any] | None:
        value = self.payload.get("delivery")
        return value if isinstance(value, dict) else None

    @property
    def total_gross(self) -> str:
        value = self._total_gross
        if value is None:
            value = self._total_gross = gross_total(self.payload)
        return value

    def changed(self) -> None:
        self._status_body = None

    def status(self) -> dict[str, Any]:
        delivery = self.delivery
        out: dict[str, Any] = {
            "invoiceStatus": self.invoice_status,
            "jobStatus": self.job_status,
            "authority": [],
            "delivery": [
                {
                    "type": delivery.get("type") or "email",
                    "recipient": delivery.get("recipient"),
                    "carbonCopy": delivery.get("carbonCopy"),
                    "blindCarbonCopy": delivery.get("blindCarbonCopy"),
                }
            ]
            if delivery
            else [],
        }
        if self.validation is not None:
            out["validation"] = dict(self.validation)
        if self.error is not None:
            out["error"] = self.error
        return out

    def status_body(self) -> bytes:
        body = self._status_body
        if body is None:
            body = self._status_body = dumps(self.status())
        return body

    def list_item(self) -> dict[str, Any]:
        return {
            "faktooraId": self.faktoora_id,
            "invoiceNumber": self.invoice_number,
            "issueDate": self.issue_date,
            "invoiceStatus": self.invoice_status,
            "format": self.payload.get("format") or "xrechnung",
            "currency": self.payload.get("currency") or "EUR",
            "buyerName": self.payload["buyer"]["name"],
            "totalGross": self.total_gross,
            "createdAt": self.created_at,
        }


@dataclass(eq=False)
class ImportRecord:
    """One file imported through ``POST /import/outgoing``."""

    faktoora_id: str
    tenant: Tenant
    seq: int
    filename: str
    source: bytes
    source_type: str
    parsed: Any
    created_at: str
    xml: bytes | None = None
    validation_status: str = "pending"
    visualization_status: str = "pending"
    verdict: Any = None
    accepted: bool | None = None
    content_pdf: bytes | None = None
    invoice: InvoiceRecord | None = None
    """Set when this is the content view of an invoice created with ``POST /invoices``."""
    report_pdf: bytes | None = None

    @property
    def content(self) -> dict[str, Any]:
        value = self.parsed.content
        return value if isinstance(value, dict) else dict(value)

    def status(self) -> dict[str, str]:
        parts = (self.validation_status, self.visualization_status)
        overall = "pending" if "pending" in parts else ("failed" if "failed" in parts else "accepted")
        return {
            "validationStatus": self.validation_status,
            "visualizationStatus": self.visualization_status,
            "overallStatus": overall,
        }

    def list_item(self) -> dict[str, Any]:
        content = self.content
        return {
            "faktooraId": self.faktoora_id,
            "invoiceNumber": content.get("invoiceNumber"),
            "issueDate": content.get("issueDate"),
            "currency": content.get("currency"),
            "syntax": getattr(self.parsed, "syntax", None),
            "sourceKind": getattr(self.parsed, "source_kind", None),
            "filename": self.filename,
            "overallStatus": self.status()["overallStatus"],
            "createdAt": self.created_at,
        }


@dataclass(eq=False)
class Subscription:
    id: str
    action: str
    target: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "target": self.target, "createdAt": self.created_at}


@dataclass(eq=False)
class Tenant:
    """What one API key (and ``x-account-id``) sees."""

    account: Account
    account_id: str
    invoices: dict[str, InvoiceRecord] = field(default_factory=dict)
    by_number: dict[str, InvoiceRecord] = field(default_factory=dict)
    imports: dict[str, ImportRecord] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    counter: int = 0
    """The last invoice number counter used (the next invoice gets counter + 1)."""
    number_template: Template = field(default_factory=lambda: parse_template(DEFAULT_TEMPLATE))
    pad_length: int = DEFAULT_PAD_LENGTH
    profile: dict[str, Any] = field(default_factory=default_profile)
    """The company profile: the seller of every invoice sent without one."""
    areas: dict[str, Any] = field(default_factory=dict)

    def number_settings(self) -> dict[str, Any]:
        """``{"template", "padLength", "counter"}`` (``GET /settings/invoice-number-template``)."""
        return {"template": self.number_template.text, "padLength": self.pad_length, "counter": self.counter}

    def preview_number(self, template: Template | None = None) -> str:
        """The number the next invoice would get (with the uniqueness bump); allocates nothing."""
        tpl = template or self.number_template
        return tpl.first_free(self.counter, self.pad_length, today(), self.by_number.__contains__)[0]

    def allocate_number(self, reserved: set[str]) -> str:
        """The next free number of the account's template; moves the counter to it.

        ``reserved`` holds numbers of the same request that are not stored yet.
        """
        number, self.counter = self.number_template.first_free(
            self.counter, self.pad_length, today(), lambda n: n in self.by_number or n in reserved
        )
        return number

    def note_number(self, number: str) -> None:
        """A created number made by the template moves the counter on to the counter it embeds."""
        embedded = self.number_template.counter_of(number)
        if embedded is not None and embedded > self.counter:
            self.counter = embedded

    def area(self, name: str, factory: Callable[[], T]) -> T:
        """The tenant's state of API area ``name`` (created by ``factory`` on first use).

        New API areas keep their per-tenant data here instead of adding fields to :class:`Tenant`;
        ``Store.reset()`` forgets it with the tenant.
        """
        value = self.areas.get(name)
        if value is None:
            value = self.areas[name] = factory()
        return cast(T, value)


@dataclass
class Stats:
    requests: dict[str, Counter[str]] = field(default_factory=dict)
    duplicates_rejected: int = 0
    webhook_attempts: int = 0
    webhook_failures: int = 0
    webhook_deliveries: int = 0

    def count(self, key: str, status: int | str) -> None:
        bucket = self.requests.get(key)
        if bucket is None:
            bucket = self.requests[key] = Counter()
        bucket[str(status)] += 1


class Store:
    """All tenants plus global indexes; ``reset()`` forgets everything but the accounts."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.tenants: dict[tuple[str, str], Tenant] = {}
        self.invoices: dict[str, InvoiceRecord] = {}
        self.imports: dict[str, ImportRecord] = {}
        self.outbox: list[dict[str, Any]] = []
        self.seq = 0
        self._ids: set[str] = set()

    def tenant(self, account: Account, account_id: str) -> Tenant:
        key = (account.api_key, account_id)
        tenant = self.tenants.get(key)
        if tenant is None:
            tenant = self.tenants[key] = Tenant(account, account_id)
        return tenant

    def new_id(self, prefix: str = "F", length: int = 8) -> str:
        """A fresh id: ``prefix`` + ``length`` upper-case letters/digits from the OS's secure random source.

        Never from the seed (issue 16): a restarted sandbox must not hand out an id it gave before, so a
        client's journal can never match another invoice (36**8 ids; the set only guards this process).
        """
        while True:
            value = prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))
            if value not in self._ids:
                self._ids.add(value)
                return value

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def add_invoice(self, record: InvoiceRecord) -> None:
        tenant = record.tenant
        tenant.invoices[record.faktoora_id] = record
        tenant.by_number[record.invoice_number] = record
        self.invoices[record.faktoora_id] = record

    def delete_invoice(self, record: InvoiceRecord) -> None:
        record.deleted = True
        tenant = record.tenant
        tenant.invoices.pop(record.faktoora_id, None)
        if tenant.by_number.get(record.invoice_number) is record:
            del tenant.by_number[record.invoice_number]
        self.invoices.pop(record.faktoora_id, None)

    def add_import(self, record: ImportRecord) -> None:
        record.tenant.imports[record.faktoora_id] = record
        self.imports[record.faktoora_id] = record

    def all_invoices(self) -> Iterable[InvoiceRecord]:
        return sorted(self.invoices.values(), key=lambda r: r.seq)


def safe_name(number: str) -> str:
    """A file-name stem for an invoice number (letters, digits, ``._-``; never empty, at most 100)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", number).strip("._")
    return cleaned[:100] or "invoice"
