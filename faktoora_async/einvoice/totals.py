"""EN 16931 invoice totals (BR-CO-10 ... BR-CO-17) computed from a faktoora payload, in Decimal.

* line net amount (BT-131) = quantity × net price, rounded to 2 places (ROUND_HALF_UP);
* VAT breakdown (BG-23): one group per (category, rate); taxable amount (BT-116) = Σ line nets of the
  group (BR-S-08 etc.), tax amount (BT-117) = taxable amount × rate / 100 rounded to 2 (BR-CO-17);
* sum of line nets (BT-106, BR-CO-10); total without VAT (BT-109 = BT-106, no document level
  allowances/charges in the payload, BR-CO-13); VAT total (BT-110 = Σ BT-117, BR-CO-14);
  total with VAT (BT-112 = BT-109 + BT-110, BR-CO-15); amount due (BT-115 = BT-112, BR-CO-16).

Negative quantities (credit lines) are allowed and give negative line amounts.  Category ``O`` has no
rate (treated as 0).  Bad input raises ``ValueError`` whose message starts with the field path
relative to the invoice, e.g. ``invoiceItems[2].product.price: 'abc' is not a decimal number``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from faktoora_async.einvoice._util import ZERO, mapping, round2, sequence, text, to_decimal, vat_tax

__all__ = ["LineAmount", "Totals", "VatGroup", "compute_totals"]

_ZERO_RATE_CATEGORIES = frozenset({"Z", "E", "AE", "K", "G", "O"})


@dataclass(frozen=True)
class LineAmount:
    """One invoice line: BT-126 id, BT-129 quantity, BT-146 price, BT-131 net, BT-151/152 VAT."""

    index: int
    line_id: str
    quantity: Decimal
    price: Decimal
    net_amount: Decimal
    category: str
    rate: Decimal


@dataclass(frozen=True)
class VatGroup:
    """One VAT breakdown group (BG-23)."""

    category: str
    rate: Decimal
    basis: Decimal
    tax: Decimal
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


@dataclass(frozen=True)
class Totals:
    """Document totals (BG-22) plus the per-line amounts and VAT breakdown they come from."""

    currency: str
    lines: tuple[LineAmount, ...]
    vat: tuple[VatGroup, ...]
    line_total: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    tax_basis_total: Decimal
    tax_total: Decimal
    grand_total: Decimal
    paid_amount: Decimal
    rounding_amount: Decimal
    due_payable: Decimal


def _line(index: int, item: Any) -> LineAmount:
    path = f"invoiceItems[{index}]"
    if not isinstance(item, Mapping):
        raise ValueError(f"{path}: expected an object")
    product = item.get("product")
    if not isinstance(product, Mapping):
        raise ValueError(f"{path}.product: expected an object")
    if product.get("quantity") is None:
        raise ValueError(f"{path}.product.quantity: missing")
    quantity = to_decimal(product.get("quantity"), f"{path}.product.quantity")
    if product.get("price") is None:
        raise ValueError(f"{path}.product.price: missing")
    price = to_decimal(product.get("price"), f"{path}.product.price")
    found = vat_tax(product)
    if found is None:
        raise ValueError(f"{path}.product.taxes: no VAT entry")
    tax_index, tax = found
    tax_path = f"{path}.product.taxes[{tax_index}]"
    category = text(tax.get("categoryCode")) or ""
    if not category:
        raise ValueError(f"{tax_path}.categoryCode: missing")
    raw_rate = tax.get("rate")
    if raw_rate is None:
        if category not in _ZERO_RATE_CATEGORIES:
            raise ValueError(f"{tax_path}.rate: missing")
        rate = ZERO
    else:
        rate = to_decimal(raw_rate, f"{tax_path}.rate")
    line_id = text(item.get("id")) or str(index + 1)
    return LineAmount(index, line_id, quantity, price, round2(quantity * price), category, rate)


def compute_totals(invoice: Mapping[str, Any]) -> Totals:
    """Compute line amounts, VAT breakdown and document totals of one payload invoice."""
    if not isinstance(invoice, Mapping):
        raise ValueError("invoice: expected an object")
    items = invoice.get("invoiceItems")
    if not isinstance(items, (list, tuple)):
        raise ValueError("invoiceItems: expected a list")
    lines = tuple(_line(i, item) for i, item in enumerate(items))

    groups: dict[tuple[str, Decimal], list[LineAmount]] = {}
    for line in lines:
        groups.setdefault((line.category, line.rate), []).append(line)
    vat: list[VatGroup] = []
    for (category, rate), members in groups.items():
        basis = sum((m.net_amount for m in members), ZERO)
        reason = code = None
        for m in members:
            product = mapping(mapping(sequence(items)[m.index]).get("product"))
            found = vat_tax(product)
            tax = found[1] if found else {}
            reason = reason or text(tax.get("exemptionReason"))
            code = code or text(tax.get("exemptionReasonCode"))
        vat.append(VatGroup(category, rate, basis, round2(basis * rate / 100), reason, code))

    line_total = sum((line.net_amount for line in lines), ZERO)
    tax_total = sum((group.tax for group in vat), ZERO)
    grand_total = line_total + tax_total
    return Totals(
        currency=text(invoice.get("currency")) or "EUR",
        lines=lines,
        vat=tuple(vat),
        line_total=line_total,
        allowance_total=ZERO,
        charge_total=ZERO,
        tax_basis_total=line_total,
        tax_total=tax_total,
        grand_total=grand_total,
        paid_amount=ZERO,
        rounding_amount=ZERO,
        due_payable=grand_total,
    )
