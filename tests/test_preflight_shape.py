"""The pre-flight's shape check skips the lines the rules found plain: the same problems as converting all.

``preflight._shape_problems(path, payload, other_lines)`` converts the invoice without its lines and only
the lines ``rules.check_invoice_traced`` did not find plain; these tests hold it to the whole conversion
(``other_lines=None``) on generated invoices and on lines broken in every way a plain line could be.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest

from faktoora_async import preflight
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.einvoice.rules import check_invoice, check_invoice_traced
from faktoora_async.models import InvoiceItem, Product, Tax
from faktoora_async.protocol import prepare_invoice

PATH = "invoices[0]"


def _same_shape(payload: dict[str, Any]) -> list[int] | None:
    found, other_lines = check_invoice_traced(payload, path=PATH)
    assert found == check_invoice(payload, path=PATH)
    fast = preflight._shape_problems(PATH, payload, other_lines)
    assert fast == preflight._shape_problems(PATH, payload), payload
    return other_lines


def _line(payload: dict[str, Any], index: int = 0) -> dict[str, Any]:
    item: dict[str, Any] = payload["invoiceItems"][index]
    return item


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation of line 1: ``path`` (dotted, under the item) set to ``value`` (``...``: deleted)."""

    def mutate(payload: dict[str, Any]) -> None:
        target: Any = _line(payload, 1)
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is ...:
            target.pop(last, None)
        else:
            target[int(last) if last.isdigit() else last] = value

    return mutate


MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("id int", _set("id", 7)),
    ("id None", _set("id", None)),
    ("id missing", _set("id", ...)),
    ("id bool", _set("id", True)),
    ("id list", _set("id", ["1"])),
    ("product missing", _set("product", ...)),
    ("product None", _set("product", None)),
    ("product list", _set("product", [])),
    ("name int", _set("product.name", 5)),
    ("name missing", _set("product.name", ...)),
    ("name blank", _set("product.name", "  ")),
    ("name empty", _set("product.name", "")),
    ("name unicode blank", _set("product.name", "\u00a0\u2003\n")),
    ("name zero width", _set("product.name", "\u200b")),
    ("quantity float", _set("product.quantity", 1.5)),
    ("quantity bool", _set("product.quantity", True)),
    ("quantity text", _set("product.quantity", "abc")),
    ("quantity exponent", _set("product.quantity", "1e5")),
    ("quantity negative int", _set("product.quantity", -3)),
    ("quantity missing", _set("product.quantity", ...)),
    ("price None", _set("product.price", None)),
    ("price negative", _set("product.price", "-1.00")),
    ("price nan", _set("product.price", "NaN")),
    ("price dict", _set("product.price", {})),
    ("unit int", _set("product.unitCode", 3)),
    ("unit unknown", _set("product.unitCode", "XYZ")),
    ("description list", _set("product.description", ["x"])),
    ("productId int", _set("product.productId", 12)),
    ("taxes None", _set("product.taxes", None)),
    ("taxes empty", _set("product.taxes", [])),
    ("taxes dict", _set("product.taxes", {})),
    ("tax None", _set("product.taxes.0", None)),
    ("typeCode null", _set("product.taxes.0.typeCode", None)),
    ("typeCode missing", _set("product.taxes.0.typeCode", ...)),
    ("typeCode GST", _set("product.taxes.0.typeCode", "GST")),
    ("typeCode int", _set("product.taxes.0.typeCode", 1)),
    ("category int", _set("product.taxes.0.categoryCode", 5)),
    ("category missing", _set("product.taxes.0.categoryCode", ...)),
    ("category null", _set("product.taxes.0.categoryCode", None)),
    ("rate float", _set("product.taxes.0.rate", 19.0)),
    ("rate bool", _set("product.taxes.0.rate", False)),
    ("rate text", _set("product.taxes.0.rate", "x")),
    ("rate null", _set("product.taxes.0.rate", None)),
    ("reason int", _set("product.taxes.0.exemptionReason", 1)),
    ("reason code list", _set("product.taxes.0.exemptionReasonCode", [])),
    ("gross price text", _set("product.grossPrice", "abc")),
    ("gross price ok", _set("product.grossPrice", "1000.00")),
    ("discount bool", _set("product.priceDiscount", True)),
    ("base quantity ok", _set("product.priceBaseQuantity", "1")),
    ("base unit int", _set("product.priceBaseQuantityUnitCode", 1)),
    ("allowances dict", _set("allowances", {})),
    ("allowances bad amount", _set("allowances", [{"amount": "x"}])),
    ("allowances ok", _set("allowances", [{"amount": "1.00", "reason": "Rabatt"}])),
    ("charges item int", _set("charges", [3])),
    ("period bad date", _set("invoicingPeriod", {"startDate": "20261399"})),
    ("period int", _set("invoicingPeriod", 5)),
    ("period ok", _set("invoicingPeriod", {"startDate": "20260101", "endDate": "20260131"})),
    ("unknown key", _set("product.colour", object())),
    ("unknown item key", _set("note", 5)),
    ("two taxes", _set("product.taxes.1", {"typeCode": "VAT", "categoryCode": "S", "rate": "19"})),
]


def mutated(
    bases: list[dict[str, Any]], mutate: Callable[[dict[str, Any]], None]
) -> Iterator[dict[str, Any]]:
    """A deep copy of each base with ``mutate`` applied; a base that lacks the part to break is skipped."""
    for base in bases:
        payload = copy.deepcopy(base)
        try:
            mutate(payload)
        except (IndexError, KeyError, TypeError):
            continue
        yield payload


def _invoices() -> list[dict[str, Any]]:
    out = []
    for seed, terms in ((3, False), (4, True)):
        for i in range(12):
            out.append(prepare_invoice(generate_invoice(i, seed=seed, lines=4, terms=terms)).payload)
    return out


@pytest.mark.parametrize("index", range(24))
def test_generated_invoices(index: int) -> None:
    _same_shape(_invoices()[index])


@pytest.mark.parametrize(("name", "mutate"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_broken_lines(name: str, mutate: Callable[[dict[str, Any]], None]) -> None:
    for payload in mutated(_invoices()[::5], mutate):
        other_lines = _same_shape(payload)
        if other_lines is not None and 1 not in other_lines:
            msgspec.convert(_line(payload, 1), InvoiceItem, strict=False)  # a plain line does fit


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("invoiceItems"),
        lambda p: p.update(invoiceItems=None),
        lambda p: p.update(invoiceItems="x"),
        lambda p: p.update(invoiceItems=tuple(p["invoiceItems"])),
        lambda p: p.update(invoiceItems=[]),
        lambda p: p["invoiceItems"].append(5),
        lambda p: p.update(issueDate="20261399"),
        lambda p: p.update(issueDate=20260101),
        lambda p: p.pop("buyer"),
        lambda p: p.update(prepaidAmount="x"),
        lambda p: p.update(draftOnly="true"),
    ],
)
def test_broken_invoices(mutate: Callable[[dict[str, Any]], Any]) -> None:
    payload = copy.deepcopy(_invoices()[1])
    mutate(payload)
    _same_shape(payload)


def test_plain_line_keys_are_the_models() -> None:
    """The plain line's definition names every field of the line models (a new field must be added there)."""
    names = {cls: {f.encode_name for f in msgspec.structs.fields(cls)} for cls in (InvoiceItem, Product, Tax)}
    assert names[InvoiceItem] == {"id", "product", "allowances", "charges", "invoicingPeriod"}
    assert names[Product] == {
        "name",
        "quantity",
        "price",
        "productId",
        "description",
        "unitCode",
        "taxes",
        "grossPrice",
        "priceDiscount",
        "priceBaseQuantity",
        "priceBaseQuantityUnitCode",
    }
    assert names[Tax] == {"categoryCode", "rate", "typeCode", "exemptionReason", "exemptionReasonCode"}


def test_preflight_check_reports_the_same() -> None:
    """``preflight.check`` of a broken dict: the whole conversion's message, then the rules."""
    payload = copy.deepcopy(_invoices()[0])
    _line(payload, 1)["product"]["quantity"] = True
    (checked,) = preflight.check([payload])
    full = preflight._shape_problems(PATH, prepare_invoice(payload).payload)
    assert full and list(checked.problems[: len(full)]) == full
