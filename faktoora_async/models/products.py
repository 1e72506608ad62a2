"""Products of the account's catalogue (``/products``, ``/product/{id}``).

:class:`ProductInput` is the body ``client.products.create()``/``update()`` send, checked when built
(``name`` without emoji, ``unit`` a UN/ECE Rec 20 code such as ``H87`` or ``HUR``, ``tax`` a VAT percentage);
:class:`ProductRecord` is what the server answers.  (``Product`` is the product of an invoice line, see
:mod:`faktoora_async.models.invoice`; the catalogue record is a different object.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from ..errors import FieldValidationError
from ._base import FrozenBase, ResponseBase, Timestamp
from ._checks import Problems, build, has_emoji

__all__ = [
    "PRODUCT_SORT_FIELDS",
    "GlobalId",
    "ProductInput",
    "ProductPatch",
    "ProductRecord",
    "check_product",
]

PRODUCT_SORT_FIELDS: tuple[str, ...] = (
    "code", "name", "unit", "tax", "price", "cost", "inventoryCount", "createdAt", "description",
    "buyerAssignedID",
)  # fmt: skip

_UNIT = re.compile(r"[A-Z0-9]{2,3}")
_SCHEME = re.compile(r"\d{4}")


class GlobalId(FrozenBase, frozen=True):
    """``globalID``: an identifier under an ISO/IEC 6523 scheme (``scheme_id`` e.g. ``0160`` = GTIN)."""

    id: str
    scheme_id: str

    def __post_init__(self) -> None:
        p = Problems(self, "product", prefix="globalID.")
        p.text("id", required=True)
        p.pattern("scheme_id", _SCHEME, "a 4-digit ISO/IEC 6523 scheme code such as 0160", required=True)
        p.raise_if_any()


class ProductInput(FrozenBase, frozen=True):
    """The body of ``POST /product`` (and of a full update).

    Required: ``name`` (no emoji), ``unit`` (UN/ECE Rec 20), ``tax`` (VAT percent, 0 to 100).  Money and
    the tax rate are ``Decimal`` (ints and decimal strings are accepted and converted; they travel as
    decimal strings).  ``buyer_assigned_id`` is BT-156, ``global_id`` the item's ISO/IEC 6523 identifier.
    """

    name: str
    unit: str
    tax: Decimal
    code: str | None = None
    description: str | None = None
    price: Decimal | None = None
    cost: Decimal | None = None
    inventory_count: int | None = None
    time: Decimal | None = None
    estimate: Decimal | None = None
    buyer_assigned_id: str | None = msgspec.field(default=None, name="buyerAssignedID")
    global_id: GlobalId | None = msgspec.field(default=None, name="globalID")
    additional_referenced_document: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        check_product(self)


class ProductPatch(FrozenBase, frozen=True):
    """The body of ``PATCH /product/{id}``: only the fields given (a partial update), same rules."""

    name: str | None = None
    unit: str | None = None
    tax: Decimal | None = None
    code: str | None = None
    description: str | None = None
    price: Decimal | None = None
    cost: Decimal | None = None
    inventory_count: int | None = None
    time: Decimal | None = None
    estimate: Decimal | None = None
    buyer_assigned_id: str | None = msgspec.field(default=None, name="buyerAssignedID")
    global_id: GlobalId | None = msgspec.field(default=None, name="globalID")
    additional_referenced_document: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        check_product(self)


def check_product(product: ProductInput | ProductPatch) -> None:
    """The rules of a product body (a patch may leave the required fields out)."""
    full = isinstance(product, ProductInput)
    p = Problems(product, "product")
    name = p.text("name", required=full)
    if name and has_emoji(name):
        p.add("name", f"must not contain emoji, got {name!r}")
    p.pattern("unit", _UNIT, "a UN/ECE Rec 20 unit code such as H87, C62 or HUR", required=full)
    p.decimal("tax", required=full, minimum=Decimal(0), maximum=Decimal(100), places=2)
    p.decimal("price")
    p.decimal("cost", minimum=Decimal(0))
    p.decimal("time", minimum=Decimal(0))
    p.decimal("estimate", minimum=Decimal(0))
    p.integer("inventory_count")
    for attr in ("code", "description", "buyer_assigned_id"):
        p.text(attr)
    p.mapping("additional_referenced_document")
    global_id: Any = product.global_id  # runtime values may be of any type
    if global_id is not None and not isinstance(global_id, GlobalId):
        if isinstance(global_id, Mapping):
            try:
                p.set("global_id", build(GlobalId, global_id, "product"))
            except FieldValidationError as exc:
                p.errors.extend(exc.errors)
        else:
            p.add("global_id", "must be a GlobalId or {'id', 'schemeId'}")
    p.raise_if_any()


class ProductRecord(ResponseBase, frozen=True):
    """A catalogue product as the server answers it (every field optional; ``raw`` has all of them)."""

    id: str | None = None
    name: str | None = None
    unit: str | None = None
    tax: Decimal | None = None
    code: str | None = None
    description: str | None = None
    price: Decimal | None = None
    cost: Decimal | None = None
    inventory_count: int | None = None
    time: Decimal | None = None
    estimate: Decimal | None = None
    buyer_assigned_id: str | None = msgspec.field(default=None, name="buyerAssignedID")
    global_id: dict[str, Any] | None = msgspec.field(default=None, name="globalID")
    additional_referenced_document: Any = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
