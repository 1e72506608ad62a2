"""Totals: BR-CO-10 .. BR-CO-17 and BR-53, computed the way the official Schematron computes them."""

# ruff: noqa: E501
from __future__ import annotations

from ..document import Document
from ..verdict import Out
from ._common import HUNDRED, ONE, ZERO, dsum, is_vat, round0x, round2x, shadowed

__all__ = ["check_totals"]


def _line_and_allowance_sums(d: Document, out: Out) -> None:
    """BR-CO-10 .. BR-CO-12."""
    E = out.error
    s = d.sums
    line = s.get("line")
    if (
        not any(ln.net is None and ln.net_present for ln in d.lines)
        and not ("line" in s and line is None)
        and (line is None or line != round2x(dsum(ln.net for ln in d.lines)))
    ):
        E(
            "BR-CO-10",
            "Sum of Invoice line net amount (BT-106) = Σ Invoice line net amount (BT-131).",
            "/totals",
        )
    for rule, key, want_charge, term in (
        (
            "BR-CO-11",
            "allowance",
            False,
            "Sum of allowances on document level (BT-107) = Σ Document level allowance amount (BT-92).",
        ),
        (
            "BR-CO-12",
            "charge",
            True,
            "Sum of charges on document level (BT-108) = Σ Document level charge amount (BT-99).",
        ),
    ):
        items = [ac for ac in d.acs if ac.charge is want_charge]
        if key not in s and not items:
            continue
        if any(ac.amount is None and ac.amount_present for ac in items):
            continue
        if s.get(key) is None or s[key] != round2x(dsum(ac.amount for ac in items)):
            if key in s and s[key] is None:
                continue
            E(rule, term, "/totals")


def _net_and_due(d: Document, out: Out) -> None:
    """BR-CO-13, BR-CO-16."""
    E = out.error
    s = d.sums
    line = s.get("line")
    basis = s.get("basis")
    if line is None or basis is None:
        E(
            "BR-CO-13",
            "Invoice total amount without VAT (BT-109) = Σ Invoice line net amount (BT-131) - Sum of allowances on document level (BT-107) + Sum of charges on document level (BT-108).",
            "/totals",
        )
    elif not (("allowance" in s and s["allowance"] is None) or ("charge" in s and s["charge"] is None)):
        expected = line - (s.get("allowance") or ZERO) + (s.get("charge") or ZERO)
        if basis != round2x(expected):
            E(
                "BR-CO-13",
                "Invoice total amount without VAT (BT-109) = Σ Invoice line net amount (BT-131) - Sum of allowances on document level (BT-107) + Sum of charges on document level (BT-108).",
                "/totals",
            )
    grand = s.get("grand")
    due = s.get("due")
    if grand is None or due is None:
        E(
            "BR-CO-16",
            "Amount due for payment (BT-115) = Invoice total amount with VAT (BT-112) - Paid amount (BT-113) + Rounding amount (BT-114).",
            "/totals",
        )
    elif not (("prepaid" in s and s["prepaid"] is None) or ("rounding" in s and s["rounding"] is None)):
        prepaid = s.get("prepaid") or ZERO
        rounding = s.get("rounding") or ZERO
        if d.syntax == "cii":
            ok = due == grand - prepaid + rounding
        else:
            ok = round2x(due - rounding) == round2x(grand - prepaid)
        if not ok:
            E(
                "BR-CO-16",
                "Amount due for payment (BT-115) = Invoice total amount with VAT (BT-112) - Paid amount (BT-113) + Rounding amount (BT-114).",
                "/totals",
            )


def _tax_currency(d: Document, out: Out) -> None:
    """BR-53: a VAT accounting currency needs the VAT total in that currency."""
    E = out.error
    if d.tax_currency and (d.sums_present or d.syntax == "ubl"):
        missing = not any(t[0] == d.tax_currency for t in d.tax_totals)
        if missing or (d.syntax == "cii" and d.tax_currency == d.currency):
            E(
                "BR-53",
                "If the VAT accounting currency code (BT-6) is present, then the Invoice total VAT amount in accounting currency (BT-111) shall be provided.",
                "/totals",
            )


def _vat_total(d: Document, out: Out) -> None:
    """BR-CO-14, BR-CO-15."""
    E = out.error
    s = d.sums
    in_currency = [t for t in d.tax_totals if t[0] == d.currency]
    if d.syntax == "cii":
        for _cur, value, _subs, calc in in_currency:
            unreadable = any(t.amount is None and t.amount_present for t in d.taxes)
            if value is not None and not unreadable and value != round2x(calc):
                E(
                    "BR-CO-14",
                    "Invoice total VAT amount (BT-110) = Σ VAT category tax amount (BT-117).",
                    "/totals",
                )
    else:
        for _cur, value, subs, calc in d.tax_totals:
            if subs and value is not None and value != round2x(calc):
                E(
                    "BR-CO-14",
                    "Invoice total VAT amount (BT-110) = Σ VAT category tax amount (BT-117).",
                    "/totals",
                )
    if d.currency:
        grand = s.get("grand")
        basis = s.get("basis")
        total_tax = in_currency[0][1] if len(in_currency) == 1 else None
        ok = (
            grand is not None
            and basis is not None
            and (
                (len(in_currency) == 1 and total_tax is not None and grand == round2x(basis + total_tax))
                or (d.syntax == "cii" and grand == basis)
            )
        )
        unreadable = ("grand" in s and grand is None) or ("basis" in s and basis is None)
        if len(in_currency) == 1 and in_currency[0][1] is None:
            unreadable = True
        if not ok and not unreadable and d.currency:
            E(
                "BR-CO-15",
                "Invoice total amount with VAT (BT-112) = Invoice total amount without VAT (BT-109) + Invoice total VAT amount (BT-110).",
                "/totals",
            )


def _breakdown_amounts(d: Document, out: Out) -> None:
    """BR-CO-17 on every VAT breakdown."""
    E = out.error
    for i, tax in enumerate(d.taxes, start=1):
        if not is_vat(tax.type_code) or tax.amount is None or shadowed(d, tax):
            continue
        loc = f"/taxBreakdown[{i}]"
        if tax.rate is None:
            if not tax.rate_present and round0x(tax.amount) != 0:
                E(
                    "BR-CO-17",
                    "VAT category tax amount (BT-117) = VAT category taxable amount (BT-116) x (VAT category rate (BT-119) / 100), rounded to two decimals.",
                    loc,
                )
            continue
        if round0x(tax.rate) == 0:
            ok = round0x(tax.amount) == 0
        elif tax.basis is None:
            continue
        else:
            expected = round2x(abs(tax.basis) * tax.rate / HUNDRED)
            low, high = abs(tax.amount) - ONE, abs(tax.amount) + ONE
            ok = (low <= expected <= high) if d.syntax == "cii" else (low < expected < high)
        if not ok:
            E(
                "BR-CO-17",
                "VAT category tax amount (BT-117) = VAT category taxable amount (BT-116) x (VAT category rate (BT-119) / 100), rounded to two decimals.",
                loc,
            )


def check_totals(d: Document, out: Out) -> None:
    """Every totals rule."""
    if d.sums_present:
        _line_and_allowance_sums(d, out)
        _net_and_due(d, out)
    _tax_currency(d, out)
    _vat_total(d, out)
    _breakdown_amounts(d, out)
