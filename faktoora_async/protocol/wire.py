"""The wire form of an invoice, prepared once.

An invoice arrives as an :class:`~faktoora_async.models.Invoice` struct or as a dict in faktoora's JSON
shape, with ``datetime.date``/``Decimal`` values or strings.  :func:`prepare_invoice` turns it, once, into
a :class:`WireInvoice`: plain JSON data (camelCase keys, ``YYYYMMDD`` dates, decimal strings).  That one
object feeds the pre-flight rules, the bulk engine's payload hash and the request body, so the three can
never disagree about what an invoice is.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Union

import msgspec

from ..models import Invoice
from ..models._base import date_to_wire, enc_hook
from ..models.responses import resting_status_of

__all__ = [
    "MAX_INVOICES_PER_REQUEST",
    "InvoiceInput",
    "WireInvoice",
    "encode_body",
    "encode_invoices",
    "invoice_resting_status",
    "invoice_to_builtins",
    "prepare_invoice",
    "prepare_invoices",
]

MAX_INVOICES_PER_REQUEST = 100
InvoiceInput = Union[Invoice, Mapping[str, Any], "WireInvoice"]

_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook, decimal_format="string")
_CANONICAL = msgspec.json.Encoder(enc_hook=enc_hook, decimal_format="string", order="sorted")
_PLAIN: frozenset[type] = frozenset({str, int, bool, type(None)})


class WireInvoice:
    """One invoice in wire form: ``payload`` (plain JSON data) plus what the SDK needs to know of it.

    ``number`` is its ``invoiceNumber`` (None: the server allocates one), ``resting_status`` where it
    settles, ``digest`` the sha256 of its canonical JSON (sorted keys), computed on first use.
    """

    __slots__ = ("_digest", "number", "payload", "resting_status")

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        number = payload.get("invoiceNumber")
        self.number: str | None = number if isinstance(number, str) and number else None
        self.resting_status = resting_status_of(
            draft_only=payload.get("draftOnly") is True,
            review_mode=payload.get("reviewMode") is True,
            has_delivery=bool(payload.get("delivery")),
        )
        self._digest: str | None = None

    @property
    def digest(self) -> str:
        if self._digest is None:
            self._digest = hashlib.sha256(_CANONICAL.encode(self.payload)).hexdigest()
        return self._digest

    def __repr__(self) -> str:
        return f"<WireInvoice {self.number or '(number from the account template)'}>"


def _to_wire(value: Any) -> Any:
    """Plain data made JSON-ready: dates to ``YYYYMMDD``, Decimals and floats to decimal strings."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {str(k): v if type(v) in _PLAIN else _to_wire(v) for k, v in value.items()}
    if kind is list or isinstance(value, tuple):
        return [v if type(v) in _PLAIN else _to_wire(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return date_to_wire(value)
    if isinstance(value, float):
        # binary floats are never money: go through their shortest repr, sent as a decimal string
        return str(Decimal(repr(value)))
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value, enc_hook=enc_hook)
    raise TypeError(f"cannot send a {kind.__name__} value in an invoice")


def _plain_dict(value: dict[Any, Any]) -> dict[str, Any] | None:
    """A copy of a dict that is JSON data already (what :func:`_to_wire` would return for it), else None.

    JSON data already: ``str`` keys, values of exactly ``str``, ``int``, ``bool`` or ``None``, or dicts and
    lists of such (exact types: subclasses, enums, floats, dates, Decimals and the rest return None, and
    :func:`_to_wire` converts them or says why it cannot).  A dict from ``json.loads`` or the generator
    takes this one cheap pass: containers copied in C, leaves shared (they are immutable).
    """
    out = value.copy()
    for key, item in out.items():
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            if type(key) is not str:
                return None
        elif type(key) is not str:
            return None
        elif kind is dict:
            item = _plain_dict(item)
            if item is None:
                return None
            out[key] = item  # same key: no resize, iterating stays valid
        elif kind is list:
            item = _plain_list(item)
            if item is None:
                return None
            out[key] = item
        else:
            return None
    return out


def _plain_list(value: list[Any]) -> list[Any] | None:
    """:func:`_plain_dict` for a list."""
    out = value.copy()
    for index, item in enumerate(out):
        kind = type(item)
        if kind is dict:
            item = _plain_dict(item)
        elif kind is list:
            item = _plain_list(item)
        elif kind is str or kind is int or kind is bool or item is None:
            continue
        else:
            return None
        if item is None:
            return None
        out[index] = item
    return out


def plain_invoice_sharing_lines(invoice: dict[Any, Any]) -> dict[str, Any] | None:
    """:func:`_plain_dict` of an invoice, except that its ``invoiceItems`` list is copied but not its lines.

    The lines are the caller's own objects, not yet known to be JSON data: the pre-flight's send path
    (``preflight.check(..., share_lines=True)``) proves that of each line before the invoice is encoded, in
    the same synchronous step, and falls back to :func:`prepare_invoice` when one is not.  None when the
    rest of the invoice is not JSON data already, or when it has no ``invoiceItems`` list.
    """
    items = invoice.get("invoiceItems")
    if type(items) is not list:
        return None
    top = invoice.copy()
    top["invoiceItems"] = None  # keeps the key's place (the body's key order is the caller's)
    out = _plain_dict(top)
    if out is None:
        return None
    out["invoiceItems"] = items.copy()
    return out


def copy_plain_items(items: list[Any], indices: Sequence[int]) -> bool:
    """Replace each ``items[i]`` for ``i`` in ``indices`` by its copy (:func:`_plain_dict`); False, with
    nothing replaced, when one of them is not JSON data already."""
    copies = _plain_list([items[i] for i in indices])
    if copies is None:
        return False
    for i, line in zip(indices, copies, strict=True):
        items[i] = line
    return True


def prepare_invoice(invoice: InvoiceInput) -> WireInvoice:
    """The wire form of one invoice (a WireInvoice is returned as it is)."""
    if isinstance(invoice, WireInvoice):
        return invoice
    if type(invoice) is dict:  # the common input: a JSON-shaped dict
        payload = _plain_dict(invoice)
        return WireInvoice(_to_wire(invoice) if payload is None else payload)
    if isinstance(invoice, msgspec.Struct):
        return WireInvoice(msgspec.to_builtins(invoice, enc_hook=enc_hook))
    if isinstance(invoice, Mapping):
        return WireInvoice(_to_wire(invoice))
    raise TypeError(f"an invoice must be a faktoora_async.Invoice or a dict, got {type(invoice).__name__}")


def prepare_invoices(invoices: InvoiceInput | Sequence[InvoiceInput]) -> list[WireInvoice]:
    """One invoice or a sequence of them, each in wire form."""
    if isinstance(invoices, (Invoice, Mapping, WireInvoice)):
        return [prepare_invoice(invoices)]
    items: Any = invoices
    if isinstance(items, (str, bytes)):
        raise TypeError("an invoice must be a faktoora_async.Invoice or a dict, got a string")
    return [prepare_invoice(inv) for inv in items]


def encode_invoices(invoices: Sequence[InvoiceInput]) -> bytes:
    """The body of ``POST /invoices``: ``{"invoices": [...]}`` (1 to 100 invoices)."""
    if not invoices:
        raise ValueError("at least one invoice is required")
    if len(invoices) > MAX_INVOICES_PER_REQUEST:
        raise ValueError(f"at most {MAX_INVOICES_PER_REQUEST} invoices per request, got {len(invoices)}")
    return _ENCODER.encode({"invoices": [prepare_invoice(inv).payload for inv in invoices]})


def encode_body(obj: Any) -> bytes:
    """Any JSON body (Structs, dicts) with the SDK's date and decimal rules."""
    return _ENCODER.encode(_to_wire(obj) if isinstance(obj, Mapping) else obj)


def invoice_to_builtins(invoice: InvoiceInput) -> dict[str, Any]:
    """One invoice as plain JSON-ready data (camelCase keys, decimal strings, ``YYYYMMDD`` dates)."""
    return prepare_invoice(invoice).payload


def invoice_resting_status(invoice: InvoiceInput) -> str:
    """Where an invoice settles: draft, review, sent (with a delivery) or created."""
    return prepare_invoice(invoice).resting_status
