"""VAT category rules: BR-S, BR-Z, BR-E, BR-AE, BR-IC (K), BR-G, BR-O, BR-AF (L), BR-AG (M), BR-B."""

# ruff: noqa: E501
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ..document import AllowanceCharge, Document, Line, Tax
from ..verdict import Out
from ._common import HUNDRED, ONE, dsum, is_vat, round0x, round2x

__all__ = ["check_vat_categories"]


_CATEGORY_PREFIX: Final = {
    "S": "BR-S",
    "Z": "BR-Z",
    "E": "BR-E",
    "AE": "BR-AE",
    "K": "BR-IC",
    "G": "BR-G",
    "O": "BR-O",
    "L": "BR-AF",
    "M": "BR-AG",
}
_CATEGORY_NAME: Final = {
    "S": "Standard rated",
    "Z": "Zero rated",
    "E": "Exempt from VAT",
    "AE": "Reverse charge",
    "K": "Intra-community supply",
    "G": "Export outside the EU",
    "O": "Not subject to VAT",
    "L": "IGIC (Canary Islands)",
    "M": "IPSI (Ceuta and Melilla)",
}


def _party_ok(d: Document, cat: str) -> bool:
    seller_va = bool(d.seller.vat_ids)
    seller_any = (
        bool(d.seller.vat_ids or d.seller.fc_ids) if d.syntax == "cii" else bool(d.seller.any_tax_ids)
    )
    rep = d.tax_rep_vat
    buyer_va = bool(d.buyer.vat_ids)
    if cat in ("S", "Z", "E", "L", "M"):
        return seller_any or rep
    if cat == "AE":
        return (seller_any or rep) and (buyer_va or d.buyer.legal_id)
    if cat == "K":
        return (seller_va or rep) and buyer_va
    if cat == "G":
        return seller_va or rep
    if cat == "O":
        return not seller_va and not rep and not buyer_va
    return True


def _rate_ok(cat: str, rate: Decimal | None, rate_present: bool) -> bool:
    if cat == "O":
        return not rate_present
    if rate is None:
        return False
    if cat in ("L", "M"):  # CII wants > 0, UBL >= 0: only the rate both reject is reported
        return rate >= 0
    return rate > 0 if cat == "S" else rate == 0


@dataclass
class _Scope:
    """What one VAT category's rules look at."""

    d: Document
    cat: str
    prefix: str
    name: str
    lines: list[Line]
    allowances: list[AllowanceCharge]
    charges: list[AllowanceCharge]
    acs: list[AllowanceCharge]
    line_acs: list[AllowanceCharge]
    breakdown: list[Tax]


def _scope(d: Document, cat: str, prefix: str) -> _Scope:
    return _Scope(
        d=d,
        cat=cat,
        prefix=prefix,
        name=_CATEGORY_NAME[cat],
        lines=[ln for ln in d.lines if ln.category == cat],
        allowances=[a for a in d.acs if a.category == cat and a.charge is False],
        charges=[a for a in d.acs if a.category == cat and a.charge is True],
        acs=[a for a in d.acs if a.category == cat],
        line_acs=[a for ln in d.lines for a in ln.acs if a.category == cat],
        breakdown=[t for t in d.taxes if t.category == cat],
    )


def _breakdown_presence(sc: _Scope, out: Out) -> None:
    """-01: a category in use has its VAT breakdown (exactly one for the zero-rate categories)."""
    E = out.error
    d = sc.d
    cat = sc.cat
    prefix = sc.prefix
    name = sc.name
    lines = sc.lines
    acs = sc.acs
    line_acs = sc.line_acs
    breakdown = sc.breakdown
    if cat in ("S", "L", "M"):
        if d.syntax == "cii":
            bad = (lines and len(lines) + len(breakdown) < 2) or (
                (acs or line_acs) and len(acs) + len(line_acs) + len(breakdown) < 2
            )
        else:
            bad = bool(lines or acs or line_acs) != bool(breakdown)
        if bad:
            E(
                f"{prefix}-01",
                f"An Invoice that contains an item, allowance or charge with VAT category '{name}' shall contain a VAT breakdown (BG-23) with that category.",
            )
    elif cat == "O" and d.syntax == "cii":
        if breakdown and (len(breakdown) != 1 or not (lines or acs or line_acs)):
            E(
                f"{prefix}-01",
                f"An Invoice with a VAT breakdown for '{name}' shall contain exactly one such breakdown and at least one item, allowance or charge with that category.",
            )
    else:
        used = bool(lines or acs or line_acs)
        if d.syntax == "cii":
            bad = (used or bool(breakdown)) and not (len(breakdown) == 1 and used)
        else:
            bad = (used or bool(breakdown)) and len(breakdown) != 1
        if bad:
            E(
                f"{prefix}-01",
                f"An Invoice that contains an item, allowance or charge with VAT category '{name}' shall contain exactly one VAT breakdown (BG-23) with that category.",
            )


def _party_ids(sc: _Scope, out: Out) -> None:
    """-02 .. -04: the Seller/Buyer VAT identifiers the category needs."""
    E = out.error
    d = sc.d
    cat = sc.cat
    prefix = sc.prefix
    name = sc.name
    lines = sc.lines
    allowances = sc.allowances
    charges = sc.charges
    if not _party_ok(d, cat):
        if any(is_vat(ln.tax_type) for ln in lines):
            E(
                f"{prefix}-02",
                f"An Invoice line with VAT category '{name}' requires the matching Seller/Buyer VAT identifiers.",
            )
        if allowances and d.syntax == "cii":
            E(
                f"{prefix}-03",
                f"A Document level allowance with VAT category '{name}' requires the matching Seller/Buyer VAT identifiers.",
            )
        if charges and d.syntax == "cii":
            E(
                f"{prefix}-04",
                f"A Document level charge with VAT category '{name}' requires the matching Seller/Buyer VAT identifiers.",
            )


def _rates(sc: _Scope, out: Out) -> None:
    """-05 .. -07: the VAT rate of lines, allowances and charges."""
    E = out.error
    cat = sc.cat
    prefix = sc.prefix
    name = sc.name
    lines = sc.lines
    allowances = sc.allowances
    charges = sc.charges
    for i, ln in enumerate(lines, start=1):
        if is_vat(ln.tax_type) and not _rate_ok(cat, ln.rate, ln.rate_present):
            E(
                f"{prefix}-05",
                f"In an Invoice line with VAT category '{name}' the Invoiced item VAT rate (BT-152) is not allowed.",
                f"/line[{i}]",
            )
    for ac in allowances:
        if not _rate_ok(cat, ac.rate, ac.rate is not None):
            E(
                f"{prefix}-06",
                f"In a Document level allowance with VAT category '{name}' the VAT rate (BT-96) is not allowed.",
            )
    for ac in charges:
        if not _rate_ok(cat, ac.rate, ac.rate is not None):
            E(
                f"{prefix}-07",
                f"In a Document level charge with VAT category '{name}' the VAT rate (BT-103) is not allowed.",
            )


def _breakdowns(sc: _Scope, out: Out) -> None:
    """-08 .. -10: taxable amount, tax amount and exemption reason of each breakdown."""
    E = out.error
    d = sc.d
    cat = sc.cat
    prefix = sc.prefix
    name = sc.name
    lines = sc.lines
    allowances = sc.allowances
    charges = sc.charges
    breakdown = sc.breakdown
    for i, tax in enumerate(breakdown, start=1):
        if not is_vat(tax.type_code):
            continue
        loc = f"/taxBreakdown[{cat}][{i}]"
        canary = cat in ("L", "M")
        if canary and d.syntax == "cii":
            pass  # BR-AF-08/09, BR-AG-08/09 cannot fail in the official CII rules (their paths select nothing)
        elif tax.basis is not None and not any(ln.net is None and ln.net_present for ln in lines):
            if cat == "S" or canary:
                if tax.rate is not None:
                    rate_lines = [ln.net for ln in lines if ln.rate == tax.rate]
                    rate_ch = [a.amount for a in charges if a.rate == tax.rate]
                    rate_al = [a.amount for a in allowances if a.rate == tax.rate]
                    if d.syntax == "cii":
                        expected = round2x(dsum(rate_lines)) + round2x(dsum(rate_ch)) - round2x(dsum(rate_al))
                        bad = tax.basis != expected
                    else:
                        expected = dsum(rate_lines) + dsum(rate_ch) - dsum(rate_al)
                        bad = not (tax.basis - ONE < expected < tax.basis + ONE)
                    if bad:
                        E(
                            f"{prefix}-08",
                            "For each different value of VAT category rate (BT-119) where the VAT category code (BT-118) is 'Standard rated', the VAT category taxable amount (BT-116) shall equal the sum of line net amounts plus charges minus allowances with that category and rate.",
                            loc,
                        )
            else:
                expected = (
                    dsum(ln.net for ln in lines)
                    + dsum(a.amount for a in charges)
                    - dsum(a.amount for a in allowances)
                )
                if not (tax.basis - ONE < expected < tax.basis + ONE):
                    E(
                        f"{prefix}-08",
                        f"In a VAT breakdown (BG-23) where the VAT category code (BT-118) is '{name}' the VAT category taxable amount (BT-116) shall equal the sum of line net amounts plus charges minus allowances with that category.",
                        loc,
                    )
        if tax.amount is not None and not (canary and d.syntax == "cii"):
            if cat == "S" or canary:
                if tax.basis is not None and tax.rate is not None:
                    if d.syntax == "cii":
                        expected = round0x(abs(tax.basis) * tax.rate) / HUNDRED
                    else:
                        expected = round2x(abs(tax.basis) * tax.rate / HUNDRED)
                    if not (abs(tax.amount) - ONE < expected < abs(tax.amount) + ONE):
                        E(
                            f"{prefix}-09",
                            "The VAT category tax amount (BT-117) in a VAT breakdown (BG-23) where VAT category code (BT-118) is 'Standard rated' shall equal the VAT category taxable amount (BT-116) multiplied by the VAT category rate (BT-119).",
                            loc,
                        )
            elif tax.amount != 0:
                E(
                    f"{prefix}-09",
                    f"The VAT category tax amount (BT-117) in a VAT breakdown (BG-23) where the VAT category code (BT-118) is '{name}' shall equal 0 (zero).",
                    loc,
                )
        if cat in ("S", "Z", "L", "M"):
            if tax.exemption:
                E(
                    f"{prefix}-10",
                    f"A VAT breakdown (BG-23) with VAT Category code (BT-118) '{name}' shall not have a VAT exemption reason code (BT-121) or VAT exemption reason text (BT-120).",
                    loc,
                )
        elif not tax.exemption:
            E(
                f"{prefix}-10",
                f"A VAT breakdown (BG-23) with VAT Category code (BT-118) '{name}' shall have a VAT exemption reason code (BT-121) or a VAT exemption reason text (BT-120).",
                loc,
            )


def _category_extras(sc: _Scope, out: Out) -> None:
    """BR-O-11 .. BR-O-14 and BR-IC-11/12."""
    E = out.error
    d = sc.d
    cat = sc.cat
    breakdown = sc.breakdown
    if cat == "O" and breakdown:
        _not_subject_to_vat(d, out)
    if cat == "K" and breakdown:
        if not (d.delivery_date or d.period_start or d.period_end):
            E(
                "BR-IC-11",
                "In an Invoice with a VAT breakdown (BG-23) where the VAT category code (BT-118) is 'Intra-community supply' the Actual delivery date (BT-72) or the Invoicing period (BG-14) shall not be blank.",
            )
        if not d.ship_to_country:
            E(
                "BR-IC-12",
                "In an Invoice with a VAT breakdown (BG-23) where the VAT category code (BT-118) is 'Intra-community supply' the Deliver to country code (BT-80) shall not be blank.",
            )


def check_vat_categories(d: Document, out: Out) -> None:
    """Every VAT category rule, category by category."""
    for cat, prefix in _CATEGORY_PREFIX.items():
        sc = _scope(d, cat, prefix)
        for check in (_breakdown_presence, _party_ids, _rates, _breakdowns, _category_extras):
            check(sc, out)
    _italian_split_payment(d, out)


def _not_subject_to_vat(d: Document, out: Out) -> None:
    """BR-O-11 .. BR-O-14: an invoice with an 'O' breakdown has no other VAT category anywhere."""
    E = out.error
    if any(t.category != "O" for t in d.taxes if t.category):
        E(
            "BR-O-11",
            "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) 'Not subject to VAT' shall not contain other VAT breakdown groups (BG-23).",
        )
    if any(ln.category != "O" for ln in d.lines if ln.category and is_vat(ln.tax_type)):
        E(
            "BR-O-12",
            "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) 'Not subject to VAT' shall not contain an Invoice line (BG-25) where the Invoiced item VAT category code (BT-151) is not 'Not subject to VAT'.",
        )
    other = [a for a in d.acs if a.category and a.category != "O"]
    if d.syntax == "cii":
        other += [a for ln in d.lines for a in ln.acs if a.category and a.category != "O"]
    allowance = any(a.charge is False for a in other) or (d.syntax == "cii" and bool(other))
    charge = any(a.charge is True for a in other) or (d.syntax == "cii" and bool(other))
    if allowance:
        E(
            "BR-O-13",
            "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) 'Not subject to VAT' shall not contain Document level allowances (BG-20) where Document level allowance VAT category code (BT-95) is not 'Not subject to VAT'.",
        )
    if charge:
        E(
            "BR-O-14",
            "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) 'Not subject to VAT' shall not contain Document level charges (BG-21) where Document level charge VAT category code (BT-102) is not 'Not subject to VAT'.",
        )


def _italian_split_payment(d: Document, out: Out) -> None:
    """BR-B-01/BR-B-02 (category B, Italian split payment), reported only where both syntaxes agree."""
    categories = {ln.category for ln in d.lines} | {t.category for t in d.taxes} | {a.category for a in d.acs}
    if "B" not in categories:
        return
    countries = {d.seller.country, d.buyer.country, d.ship_to_country, d.tax_rep_country} - {None}
    if any(c != "IT" for c in countries):
        out.error(
            "BR-B-01",
            "An Invoice where the VAT category code (BT-151, BT-95 or BT-102) is 'Split payment' shall be a domestic Italian invoice.",
        )
    if "S" in categories:
        out.error(
            "BR-B-02",
            "An Invoice that contains an Invoice line (BG-25), a Document level allowance (BG-20) or a Document level charge (BG-21) where the VAT category code (BT-151, BT-95 or BT-102) is 'Split payment' shall not contain an invoice line (BG-25), a Document level allowance (BG-20) or a Document level charge (BG-21) where the VAT category code (BT-151, BT-95 or BT-102) is 'Standard rated'.",
        )
