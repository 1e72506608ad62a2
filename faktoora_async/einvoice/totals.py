"""EN 16931 invoice totals (BR-CO-10 ... BR-CO-17) computed from a faktoora payload, in Decimal.

* an allowance or charge (document level BG-20/BG-21, line level BG-27/BG-28) is its ``amount``, or, when
  only ``baseAmount`` and ``percentage`` are given, base × percentage / 100 rounded to 2 places;
* line net amount (BT-131) = quantity × net price / price base quantity (BT-149, default 1), rounded to 2
  places (ROUND_HALF_UP), + the line's charges − its allowances;
* VAT breakdown (BG-23): one group per (category, rate); taxable amount (BT-116) = Σ line nets of the group +
  Σ document charges − Σ document allowances of that category and rate (BR-S-08 etc.), tax amount (BT-117) =
  taxable amount × rate / 100 rounded to 2 (BR-CO-17);
* BT-106 = Σ line nets (BR-CO-10), BT-107/BT-108 = Σ document allowances/charges (BR-CO-11/12),
  BT-109 = BT-106 − BT-107 + BT-108 (BR-CO-13), BT-110 = Σ BT-117 (BR-CO-14), BT-112 = BT-109 + BT-110
  (BR-CO-15), BT-115 = BT-112 − prepaid amount (BT-113) + rounding amount (BT-114) (BR-CO-16).

Negative quantities (credit lines) are allowed and give negative line amounts.  Category ``O`` has no
rate (treated as 0).  Bad input raises ``ValueError`` whose message starts with the field path
relative to the invoice, e.g. ``invoiceItems[2].product.price: 'abc' is not a decimal number``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from faktoora_async.einvoice._util import ONE, ZERO, mapping, round2, sequence, text, to_decimal, vat_tax

__all__ = ["AllowanceCharge", "LineAmount", "Totals", "VatGroup", "compute_totals", "read_allowance_charge"]

_ZERO_RATE_CATEGORIES = frozenset({"Z", "E", "AE", "K", "G", "O"})


@dataclass(frozen=True)
class AllowanceCharge:
    """An allowance or charge, amount resolved (BG-20/21 with category and rate, BG-27/28 without)."""

    charge: bool
    amount: Decimal
    base_amount: Decimal | None = None
    percentage: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None
    category: str | None = None
    rate: Decimal | None = None


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
    base_quantity: Decimal | None = None  # BT-149
    gross_price: Decimal | None = None  # BT-148 (given, or net price + discount)
    price_discount: Decimal | None = None  # BT-147
    allowances: tuple[AllowanceCharge, ...] = ()
    charges: tuple[AllowanceCharge, ...] = ()


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
    """Document totals (BG-22) plus the per-line amounts, allowances/charges and VAT breakdown."""

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
    allowances: tuple[AllowanceCharge, ...] = ()
    charges: tuple[AllowanceCharge, ...] = ()
    tax_currency: str | None = None  # BT-6
    tax_total_in_tax_currency: Decimal | None = None  # BT-111, as given (no exchange rate is known here)


def _optional_decimal(value: Any, path: str) -> Decimal | None:
    return None if value is None else to_decimal(value, path)


def read_allowance_charge(raw: Any, path: str, *, charge: bool, document_level: bool) -> AllowanceCharge:
    """One payload allowance/charge object with its amount resolved; ValueError naming the field."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: expected an object")
    base = _optional_decimal(raw.get("baseAmount"), f"{path}.baseAmount")
    percentage = _optional_decimal(raw.get("percentage"), f"{path}.percentage")
    if raw.get("amount") is not None:
        value = to_decimal(raw.get("amount"), f"{path}.amount")
    elif base is not None and percentage is not None:
        value = round2(base * percentage / 100)
    else:
        raise ValueError(f"{path}.amount: missing (give amount, or baseAmount and percentage)")
    category = rate = None
    if document_level:
        category = text(raw.get("categoryCode"))
        if category is None:
            raise ValueError(f"{path}.categoryCode: missing")
        raw_rate = raw.get("rate")
        if raw_rate is None and category not in _ZERO_RATE_CATEGORIES:
            raise ValueError(f"{path}.rate: missing")
        rate = ZERO if raw_rate is None else to_decimal(raw_rate, f"{path}.rate")
    return AllowanceCharge(
        charge=charge,
        amount=round2(value),
        base_amount=base,
        percentage=percentage,
        reason=text(raw.get("reason")),
        reason_code=text(raw.get("reasonCode")),
        category=category,
        rate=rate,
    )


def _allowances_charges(
    owner: Mapping[str, Any], path: str, *, document_level: bool
) -> tuple[tuple[AllowanceCharge, ...], tuple[AllowanceCharge, ...]]:
    out: list[tuple[AllowanceCharge, ...]] = []
    for key, charge in (("allowances", False), ("charges", True)):
        raw = owner.get(key)
        if raw is not None and not isinstance(raw, (list, tuple)):
            raise ValueError(f"{path}{key}: expected a list")
        out.append(
            tuple(
                read_allowance_charge(item, f"{path}{key}[{i}]", charge=charge, document_level=document_level)
                for i, item in enumerate(raw or ())
            )
        )
    return out[0], out[1]


def _price(
    product: Mapping[str, Any], path: str
) -> tuple[Decimal, Decimal | None, Decimal | None, Decimal | None]:
    """Net price (BT-146), base quantity (BT-149), gross price (BT-148) and price discount (BT-147)."""
    if product.get("price") is None:
        raise ValueError(f"{path}.price: missing")
    price = to_decimal(product.get("price"), f"{path}.price")
    base = _optional_decimal(product.get("priceBaseQuantity"), f"{path}.priceBaseQuantity")
    if base is not None and base <= 0:
        raise ValueError(f"{path}.priceBaseQuantity: must be greater than zero")
    gross = _optional_decimal(product.get("grossPrice"), f"{path}.grossPrice")
    discount = _optional_decimal(product.get("priceDiscount"), f"{path}.priceDiscount")
    if gross is None and discount is not None:
        gross = price + discount
    return price, base, gross, discount


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
    price, base, gross, discount = _price(product, f"{path}.product")
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
    allowances, charges = _allowances_charges(item, f"{path}.", document_level=False)
    net = round2(quantity * price / (base or ONE))
    net += sum((c.amount for c in charges), ZERO) - sum((a.amount for a in allowances), ZERO)
    line_id = text(item.get("id")) or str(index + 1)
    return LineAmount(
        index, line_id, quantity, price, net, category, rate, base, gross, discount, allowances, charges
    )


def _vat_groups(
    lines: tuple[LineAmount, ...], items: Any, document_acs: tuple[AllowanceCharge, ...]
) -> tuple[VatGroup, ...]:
    groups: dict[tuple[str, Decimal], Decimal] = {}
    reasons: dict[tuple[str, Decimal], tuple[str | None, str | None]] = {}
    for line in lines:
        key = (line.category, line.rate)
        groups[key] = groups.get(key, ZERO) + line.net_amount
        product = mapping(mapping(sequence(items)[line.index]).get("product"))
        found = vat_tax(product)
        tax = found[1] if found else {}
        reason, code = reasons.get(key, (None, None))
        reasons[key] = (
            reason or text(tax.get("exemptionReason")),
            code or text(tax.get("exemptionReasonCode")),
        )
    for ac in document_acs:
        assert ac.category is not None and ac.rate is not None
        key = (ac.category, ac.rate)
        groups[key] = groups.get(key, ZERO) + (ac.amount if ac.charge else -ac.amount)
    return tuple(
        VatGroup(
            category, rate, basis, round2(basis * rate / 100), *reasons.get((category, rate), (None, None))
        )
        for (category, rate), basis in groups.items()
    )


def compute_totals(invoice: Mapping[str, Any]) -> Totals:
    """Compute line amounts, allowances/charges, VAT breakdown and document totals of one payload invoice."""
    if not isinstance(invoice, Mapping):
        raise ValueError("invoice: expected an object")
    items = invoice.get("invoiceItems")
    if not isinstance(items, (list, tuple)):
        raise ValueError("invoiceItems: expected a list")
    lines = tuple(_line(i, item) for i, item in enumerate(items))
    allowances, charges = _allowances_charges(invoice, "", document_level=True)
    vat = _vat_groups(lines, items, allowances + charges)
    line_total = sum((line.net_amount for line in lines), ZERO)
    allowance_total = sum((a.amount for a in allowances), ZERO)
    charge_total = sum((c.amount for c in charges), ZERO)
    basis_total = line_total - allowance_total + charge_total
    tax_total = sum((group.tax for group in vat), ZERO)
    grand_total = basis_total + tax_total
    paid = round2(_optional_decimal(invoice.get("prepaidAmount"), "prepaidAmount") or ZERO)
    rounding = round2(_optional_decimal(invoice.get("roundingAmount"), "roundingAmount") or ZERO)
    return Totals(
        currency=text(invoice.get("currency")) or "EUR",
        lines=lines,
        vat=vat,
        line_total=line_total,
        allowance_total=allowance_total,
        charge_total=charge_total,
        tax_basis_total=basis_total,
        tax_total=tax_total,
        grand_total=grand_total,
        paid_amount=paid,
        rounding_amount=rounding,
        due_payable=grand_total - paid + rounding,
        allowances=allowances,
        charges=charges,
        tax_currency=text(invoice.get("taxCurrency")),
        tax_total_in_tax_currency=_optional_decimal(
            invoice.get("taxTotalInTaxCurrency"), "taxTotalInTaxCurrency"
        ),
    )
