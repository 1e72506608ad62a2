"""The PEPPOL BIS 3.0 rules XRechnung 3.0 adopts (PEPPOL-EN16931-R*), reported with ``xrechnung=True``."""

# ruff: noqa: E501
from __future__ import annotations

from decimal import Decimal

from ..document import Document, Line
from ..verdict import Out
from ._common import ONE, ZERO, dsum

__all__ = ["check_peppol"]


def _document(d: Document, out: Out) -> None:
    """R001, R005, R008, R010, R020, R041, R042."""
    E = out.error
    if not d.process_present:
        E("PEPPOL-EN16931-R001", "Business process MUST be provided.")
    if d.tax_currency and d.tax_currency == d.currency:
        E(
            "PEPPOL-EN16931-R005",
            "VAT accounting currency code MUST be different from invoice currency code when provided.",
        )
    if d.empty_elements:
        E(
            "PEPPOL-EN16931-R008",
            f"Document MUST not contain empty elements ({', '.join(sorted(set(d.empty_elements))[:5])}).",
        )
    if d.buyer.present and not d.buyer.endpoint_present:
        E("PEPPOL-EN16931-R010", "Buyer electronic address MUST be provided")
    if d.seller.present and not d.seller.endpoint_present:
        E("PEPPOL-EN16931-R020", "Seller electronic address MUST be provided")
    ac_scope = (
        d.acs + [a for ln in d.lines for a in ln.acs]
        if d.syntax == "cii"
        else (d.acs if not d.credit else [])
    )
    for ac in ac_scope:
        if ac.percent_present and not ac.base_present:
            E(
                "PEPPOL-EN16931-R041",
                "Allowance/charge base amount MUST be provided when allowance/charge percentage is provided.",
            )
        if ac.base_present and not ac.percent_present:
            E(
                "PEPPOL-EN16931-R042",
                "Allowance/charge percentage MUST be provided when allowance/charge base amount is provided.",
            )


def _line_net(d: Document, line: Line, loc: str, out: Out) -> None:
    """R120 (UBL): line net amount = quantity x (price / base quantity) + charges - allowances."""
    if line.net is None or line.qty is None or line.price is None:
        return
    base = line.base_qty if line.base_qty_present and line.base_qty else ONE
    if line.base_qty_present and line.base_qty is None:
        return
    if any(a.amount is None for a in line.acs if a.charge is not None):
        return
    expected = (
        line.qty * (line.price / base)
        + dsum(a.amount for a in line.acs if a.charge is True)
        - dsum(a.amount for a in line.acs if a.charge is False)
    )
    slack = Decimal("0.5") if d.currency == "HUF" else Decimal("0.02")
    if abs(line.net - expected) > slack:
        out.error(
            "PEPPOL-EN16931-R120",
            "Invoice line net amount MUST equal (Invoiced quantity * (Item net price/item price base quantity) + Sum of invoice line charge amount - sum of invoice line allowance amount",
            loc,
        )


def _line(d: Document, line: Line, loc: str, out: Out) -> None:
    """R044, R046, R110, R111, R121, R130 (and R120 for UBL) on one line."""
    E = out.error
    flags = line.price_charge_flags
    if any((flag if d.syntax == "cii" else flag.strip()) != "false" for flag in flags):
        E("PEPPOL-EN16931-R044", "Charge on price level is NOT allowed. Only value 'false' allowed.", loc)
    if line.gross_present and line.gross is not None and line.price is not None:
        readable = not (line.price_discount_present and line.price_discount is None)
        applies = d.syntax == "cii" or line.price_discount_present
        if readable and applies and line.price != line.gross - (line.price_discount or ZERO):
            E(
                "PEPPOL-EN16931-R046",
                "Item net price MUST equal (Gross price - Allowance amount) when gross price is provided.",
                loc,
            )
    if line.base_qty_present and line.base_qty is not None and line.base_qty <= 0:
        E("PEPPOL-EN16931-R121", "Base quantity MUST be a positive number above zero.", loc)
    if line.unit is not None and any(u != line.unit for u in line.base_qty_units):
        E("PEPPOL-EN16931-R130", "Unit code of price base quantity MUST be same as invoiced quantity.", loc)
    in_period = not (d.syntax == "ubl" and d.credit)
    if in_period and d.period_start and line.period_start and line.period_start < d.period_start:
        E("PEPPOL-EN16931-R110", "Start date of line period MUST be within invoice period.", loc)
    if in_period and d.period_end and line.period_end and line.period_end > d.period_end:
        E("PEPPOL-EN16931-R111", "End date of line period MUST be within invoice period.", loc)
    if d.syntax == "ubl":
        _line_net(d, line, loc, out)


def _tax_totals(d: Document, out: Out) -> None:
    """R053, R054: one VAT total in the invoice currency, one in the accounting currency if any."""
    E = out.error
    in_currency = [t for t in d.tax_totals if t[0] == d.currency]
    if d.syntax == "cii":
        if len(in_currency) > 1:
            E(
                "PEPPOL-EN16931-R053",
                "No more than one tax total amount must be provided where currency id equals document currency code.",
            )
        others = [t for t in d.tax_totals if t[0] != d.currency]
        if d.currency is not None and len(others) != (1 if d.tax_currency else 0):
            E(
                "PEPPOL-EN16931-R054",
                "Only one tax total amount must be provided where currency id equals tax currency code, if tax currency code (BT-6) is provided.",
            )
    else:
        if sum(1 for t in d.tax_totals if t[2]) != 1:
            E("PEPPOL-EN16931-R053", "Only one tax total with tax subtotals MUST be provided.")
        if sum(1 for t in d.tax_totals if not t[2]) != (1 if d.tax_currency else 0):
            E(
                "PEPPOL-EN16931-R054",
                "Only one tax total without tax subtotals MUST be provided when tax currency code is provided.",
            )
    for i, pm in enumerate(d.payment_means, start=1):
        if (pm.code or "") in ("49", "59") and not d.mandate_id:
            E(
                "PEPPOL-EN16931-R061",
                "Mandate reference MUST be provided for direct debit.",
                f"/paymentMeans[{i}]",
            )


def check_peppol(d: Document, out: Out) -> None:
    """Every adopted PEPPOL rule."""
    _document(d, out)
    for i, line in enumerate(d.lines, start=1):
        _line(d, line, f"/line[{i}]", out)
    _tax_totals(d, out)
