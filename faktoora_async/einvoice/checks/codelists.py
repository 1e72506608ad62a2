"""Code list rules: BR-CL-01 .. BR-CL-26, plus CII-DT-097 and the structure rules the readers found."""

# ruff: noqa: E501
from __future__ import annotations

from typing import Final

from .. import codes
from ..document import Document
from ..verdict import Out

__all__ = ["check_code_lists"]


_STRUCTURE_TEXT: Final = {
    "UBL-SR-12": "Seller VAT identifier shall occur maximum once.",
    "UBL-SR-13": "Seller tax registration shall occur maximum once.",
    "UBL-SR-18": "Buyer VAT identifier shall occur maximum once.",
}


def check_code_lists(d: Document, out: Out) -> None:
    """Every code list rule (BR-CL-*), the CII date format (CII-DT-097) and the syntax-binding findings."""
    E = out.error
    if d.type_code and d.type_code not in codes.TYPE_CODES_EN16931:
        E(
            "BR-CL-01",
            "The document type code MUST be coded by the invoice and credit note related code lists of UNTDID 1001.",
        )
    for cur, _v, _s, _c in d.tax_totals:
        if cur is not None and cur not in codes.CURRENCIES:
            E("BR-CL-03", "currencyID MUST be coded using ISO code list 4217 alpha-3.")
    if d.currency and d.currency not in codes.CURRENCIES:
        E("BR-CL-04", "Invoice currency code MUST be coded using ISO code list 4217 alpha-3.")
    if d.tax_currency and d.tax_currency not in codes.CURRENCIES:
        E("BR-CL-05", "Tax currency code MUST be coded using ISO code list 4217 alpha-3.")
    for country in (d.seller.country, d.buyer.country, d.ship_to_country, d.tax_rep_country):
        if country and country not in codes.COUNTRIES_EITHER:
            E("BR-CL-14", "Country codes in an invoice MUST be coded using ISO code list 3166-1.")
    for pm in d.payment_means:
        if pm.code_present and (pm.code or "") not in codes.PAYMENT_MEANS:
            E("BR-CL-16", "Payment means in an invoice MUST be coded using UNCL4461 code list.")
    # CII: allowances/charges -> BR-CL-17, lines and breakdown -> BR-CL-18;
    # UBL: every cac:TaxCategory (allowances/charges and breakdown) -> BR-CL-17, line categories -> BR-CL-18.
    ac_categories = [a.category for a in d.acs + [a for ln in d.lines for a in ln.acs]]
    breakdown = [t.category for t in d.taxes]
    cl17 = ac_categories + (breakdown if d.syntax == "ubl" else [])
    cl18 = [ln.category for ln in d.lines] + (breakdown if d.syntax == "cii" else [])
    if any(c and c not in codes.VAT_CATEGORIES for c in cl17):
        E("BR-CL-17", "Invoice tax categories MUST be coded using UNCL5305 code list.")
    if any(c and c not in codes.VAT_CATEGORIES for c in cl18):
        E("BR-CL-18", "Invoice tax categories MUST be coded using UNCL5305 code list.")
    if any(c not in codes.SUBJECT_CODES for c in d.subject_codes):
        E("BR-CL-08", "Subject Code MUST be coded using a restriction of UNTDID 4451.")
    if d.bad_dates:
        E("CII-DT-097", "Date time string with format attribute 102 shall be YYYYMMDD.")
    for rule in sorted(set(d.structure)):
        E(
            rule,
            _STRUCTURE_TEXT.get(rule, "This element shall not be used here (EN 16931 CII syntax binding)."),
        )
    for tax in d.taxes:
        if tax.exemption_code and tax.exemption_code.upper() not in codes.VATEX_CODES:
            E(
                "BR-CL-22",
                "Tax exemption reason code identifier scheme identifier MUST belong to the CEF VATEX code list.",
            )
    for line in d.lines:
        for unit in [line.unit, *line.base_qty_units]:
            if unit is not None and unit.strip() and unit.strip() not in codes.UNIT_CODES:
                E(
                    "BR-CL-23",
                    "Unit code MUST be coded according to the UN/ECE Recommendation 20 with Rec 21 extension.",
                )
    for _name, mime in d.attachments:
        if mime is not None and mime not in codes.MIME_TYPES:
            E("BR-CL-24", "For Mime code in attribute use MIMEMediaType.")
    for rule, scheme in d.scheme_ids:
        if " ".join(scheme.split()) not in codes.ICD_CODES:
            E(rule, "Any identifier scheme identifier MUST be coded using one of the ISO 6523 ICD list.")
    for scheme in d.endpoint_schemes:
        if scheme.strip() and scheme.strip() not in codes.EAS_CODES:
            E("BR-CL-25", "Endpoint identifier scheme identifier MUST belong to the CEF EAS code list.")
