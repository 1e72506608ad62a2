"""Mandatory content and syntax-binding rules: BR-01 .. BR-63, BR-CO-04/09/18/21 .. 26, CII-SR-*, UBL-SR-*."""

# ruff: noqa: E501
from __future__ import annotations

from .. import codes
from ..document import Document, Line
from ..verdict import Out
from ._common import is_vat, shadowed

__all__ = ["check_mandatory"]


def _header(d: Document, out: Out) -> None:
    """BR-01 .. BR-16: the document-level terms every invoice has."""
    E = out.error
    if not d.spec_id:
        E("BR-01", "An Invoice shall have a Specification identifier (BT-24).")
    if not d.number:
        E("BR-02", "An Invoice shall have an Invoice number (BT-1).")
    if not d.issue_date_ok:
        E("BR-03", "An Invoice shall have an Invoice issue date (BT-2).")
    if not d.type_code:
        E("BR-04", "An Invoice shall have an Invoice type code (BT-3).")
    if not d.currency:
        E("BR-05", "An Invoice shall have an Invoice currency code (BT-5).")
    if not d.seller.name:
        E("BR-06", "An Invoice shall contain the Seller name (BT-27).")
    if not d.buyer.name:
        E("BR-07", "An Invoice shall contain the Buyer name (BT-44).")
    if not d.seller.address_present:
        E("BR-08", "An Invoice shall contain the Seller postal address (BG-5).")
    if not d.seller.country and (d.syntax == "cii" or d.seller.address_present):
        E("BR-09", "The Seller postal address (BG-5) shall contain a Seller country code (BT-40).")
    if not d.buyer.address_present:
        E("BR-10", "An Invoice shall contain the Buyer postal address (BG-8).")
    if not d.buyer.country and (d.syntax == "cii" or d.buyer.address_present):
        E("BR-11", "The Buyer postal address shall contain a Buyer country code (BT-55).")
    if d.sums_present:
        for rule, key, term in (
            ("BR-12", "line", "Sum of Invoice line net amount (BT-106)"),
            ("BR-13", "basis", "Invoice total amount without VAT (BT-109)"),
            ("BR-14", "grand", "Invoice total amount with VAT (BT-112)"),
            ("BR-15", "due", "Amount due for payment (BT-115)"),
        ):
            if key not in d.sums:
                E(rule, f"An Invoice shall have the {term}.", "/totals")
    if not d.lines:
        E("BR-16", "An Invoice shall have at least one Invoice line (BG-25).")


def _line_allowances(line: Line, loc: str, out: Out) -> None:
    """BR-41 .. BR-44, BR-CO-23/24: each line allowance/charge has an amount and a reason."""
    E = out.error
    for ac in line.acs:
        if ac.charge is False:
            if not ac.amount_present:
                E("BR-41", "Each Invoice line allowance (BG-27) shall have an amount (BT-136).", loc)
            if not ac.reason:
                E(
                    "BR-42",
                    "Each Invoice line allowance (BG-27) shall have a reason (BT-139) or reason code (BT-140).",
                    loc,
                )
                E(
                    "BR-CO-23",
                    "Each Invoice line allowance (BG-27) shall contain a reason or a reason code, or both.",
                    loc,
                )
        elif ac.charge is True:
            if not ac.amount_present:
                E("BR-43", "Each Invoice line charge (BG-28) shall have an amount (BT-141).", loc)
            if not ac.reason:
                E(
                    "BR-44",
                    "Each Invoice line charge (BG-28) shall have a reason (BT-144) or reason code (BT-145).",
                    loc,
                )
                E(
                    "BR-CO-24",
                    "Each Invoice line charge (BG-28) shall contain a reason or a reason code, or both.",
                    loc,
                )


def _lines(d: Document, out: Out) -> None:
    """BR-21 .. BR-28, BR-30, BR-CO-04 on every line."""
    E = out.error
    for i, line in enumerate(d.lines, start=1):
        loc = f"/line[{i}]"
        if not line.line_id:
            E("BR-21", "Each Invoice line (BG-25) shall have an Invoice line identifier (BT-126).", loc)
        if not line.qty_present:
            E("BR-22", "Each Invoice line (BG-25) shall have an Invoiced quantity (BT-129).", loc)
        if not line.unit:
            E(
                "BR-23",
                "An Invoice line (BG-25) shall have an Invoiced quantity unit of measure code (BT-130).",
                loc,
            )
        if not line.net_present:
            E("BR-24", "Each Invoice line (BG-25) shall have an Invoice line net amount (BT-131).", loc)
        if not line.name:
            E("BR-25", "Each Invoice line (BG-25) shall contain the Item name (BT-153).", loc)
        if not line.price_present:
            E("BR-26", "Each Invoice line (BG-25) shall contain the Item net price (BT-146).", loc)
        elif line.price is not None and line.price < 0:
            E("BR-27", "The Item net price (BT-146) shall NOT be negative.", loc)
        if line.gross is not None and line.gross < 0:
            E("BR-28", "The Item gross price (BT-148) shall NOT be negative.", loc)
        if not line.category_present or not is_vat(line.tax_type):
            E(
                "BR-CO-04",
                "Each Invoice line (BG-25) shall be categorized with an Invoiced item VAT category code (BT-151).",
                loc,
            )
        if line.period_broken or (
            line.period_start and line.period_end and line.period_end < line.period_start
        ):
            E(
                "BR-30",
                "The Invoice line period end date (BT-135) shall be later or equal to the start date (BT-134).",
                loc,
            )
        _line_allowances(line, loc, out)


def _document_allowances(d: Document, out: Out) -> None:
    """BR-29, BR-31 .. BR-38, BR-CO-21/22: the invoicing period and document allowances/charges."""
    E = out.error
    if d.period_broken or (d.period_start and d.period_end and d.period_end < d.period_start):
        E("BR-29", "The Invoicing period end date (BT-74) shall be later or equal to the start date (BT-73).")
    for i, ac in enumerate(d.acs, start=1):
        loc = f"/allowanceCharge[{i}]"
        if ac.charge is False:
            if not ac.amount_present:
                E("BR-31", "Each Document level allowance (BG-20) shall have an amount (BT-92).", loc)
            if not ac.category_present:
                E(
                    "BR-32",
                    "Each Document level allowance (BG-20) shall have a VAT category code (BT-95).",
                    loc,
                )
            if not ac.reason:
                E(
                    "BR-33",
                    "Each Document level allowance (BG-20) shall have a reason (BT-97) or reason code (BT-98).",
                    loc,
                )
                E(
                    "BR-CO-21",
                    "Each Document level allowance (BG-20) shall contain a reason or a reason code, or both.",
                    loc,
                )
        elif ac.charge is True:
            if not ac.amount_present:
                E("BR-36", "Each Document level charge (BG-21) shall have an amount (BT-99).", loc)
            if not ac.category_present:
                E("BR-37", "Each Document level charge (BG-21) shall have a VAT category code (BT-102).", loc)
            if not ac.reason:
                E(
                    "BR-38",
                    "Each Document level charge (BG-21) shall have a reason (BT-104) or reason code (BT-105).",
                    loc,
                )
                E(
                    "BR-CO-22",
                    "Each Document level charge (BG-21) shall contain a reason or a reason code, or both.",
                    loc,
                )


def _breakdowns(d: Document, out: Out) -> None:
    """BR-45 .. BR-48: each VAT breakdown is complete."""
    E = out.error
    for i, tax in enumerate(d.taxes, start=1):
        loc = f"/taxBreakdown[{i}]"
        if shadowed(d, tax):
            continue
        if not tax.basis_present:
            E("BR-45", "Each VAT breakdown (BG-23) shall have a VAT category taxable amount (BT-116).", loc)
        if not tax.amount_present:
            E("BR-46", "Each VAT breakdown (BG-23) shall have a VAT category tax amount (BT-117).", loc)
        if not tax.category_present or not is_vat(tax.type_code):
            E(
                "BR-47",
                "Each VAT breakdown (BG-23) shall be defined through a VAT category code (BT-118).",
                loc,
            )
        elif not tax.rate_present and tax.category != "O":
            E(
                "BR-48",
                "Each VAT breakdown (BG-23) shall have a VAT category rate (BT-119), except if the Invoice is not subject to VAT.",
                loc,
            )


def _payment(d: Document, out: Out) -> None:
    """BR-49, BR-50, BR-61, UBL-SR-47, CII-SR-467/470: payment instructions."""
    E = out.error
    for i, pm in enumerate(d.payment_means, start=1):
        loc = f"/paymentMeans[{i}]"
        if not pm.code_present:
            E(
                "BR-49",
                "A Payment instruction (BG-16) shall specify the Payment means type code (BT-81).",
                loc,
            )
        if pm.code in ("30", "58"):
            if pm.account_present and not pm.account_id:
                E(
                    "BR-50",
                    "A Payment account identifier (BT-84) shall be present if Credit transfer (BG-17) information is provided.",
                    loc,
                )
            if d.syntax == "ubl" and not pm.account_present:
                E(
                    "BR-61",
                    "If the Payment means type code (BT-81) means SEPA credit transfer, Local credit transfer or Non-SEPA international credit transfer, the Payment account identifier (BT-84) shall be present.",
                    loc,
                )
    codes = {(pm.code or "") for pm in d.payment_means if pm.code_present}
    if d.syntax == "ubl" and len(codes) > 1:
        E("UBL-SR-47", "When there are more than one payment means code, they shall be equal.")
    if d.syntax == "cii" and len(codes) > 1:
        E("CII-SR-467", "All Payment means type codes (BT-81) shall have the same value.")
    if d.syntax == "cii" and any(
        pm.code in ("30", "58") and not pm.account_id_element for pm in d.payment_means
    ):
        E("CII-SR-470", "Either the IBAN or a Proprietary ID (BT-84) shall be used.")


def _parties(d: Document, out: Out) -> None:
    """BR-18 .. BR-20, BR-52, BR-55 .. BR-57, BR-62, BR-63, BR-CO-09, BR-CO-18, BR-CO-26, UBL-SR-53."""
    E = out.error
    if d.tax_rep_present:
        if not d.tax_rep_name:
            E(
                "BR-18",
                "The Seller tax representative name (BT-62) shall be provided in the Invoice, if the Seller (BG-4) has a Seller tax representative party (BG-11).",
            )
        if not d.tax_rep_address:
            E(
                "BR-19",
                "The Seller tax representative postal address (BG-12) shall be provided in the Invoice, if the Seller (BG-4) has a Seller tax representative party (BG-11).",
            )
        if not d.tax_rep_country and (d.syntax == "cii" or d.tax_rep_address):
            E(
                "BR-20",
                "The Seller tax representative postal address (BG-12) shall contain a Tax representative country code (BT-69), if the Seller (BG-4) has a Seller tax representative party (BG-11).",
            )
        if not d.tax_rep_vat:
            E(
                "BR-56",
                "Each Seller tax representative party (BG-11) shall have a Seller tax representative VAT identifier (BT-63).",
            )
    if d.syntax == "ubl" and d.incomplete_tax_schemes:
        E(
            "UBL-SR-53",
            "CompanyID (VAT Identifier) must be stated when providing the PartyTaxScheme/TaxScheme/ID.",
        )
    if d.doc_refs_without_id:
        E(
            "BR-52",
            "Each Additional supporting document (BG-24) shall contain a Supporting document reference (BT-122).",
        )
    if d.preceding_without_id:
        E(
            "BR-55",
            "Each Preceding Invoice reference (BG-3) shall contain a Preceding Invoice reference (BT-25).",
        )
    if d.ship_to_address and not d.ship_to_country:
        E("BR-57", "Each Deliver to address (BG-15) shall contain a Deliver to country code (BT-80).")
    if d.seller.scheme_missing:
        E("BR-62", "The Seller electronic address (BT-34) shall have a Scheme identifier.")
    if d.buyer.scheme_missing:
        E("BR-63", "The Buyer electronic address (BT-49) shall have a Scheme identifier.")
    if d.seller.present and not (d.seller.other_id or d.seller.legal_id or d.seller.vat_ids):
        E(
            "BR-CO-26",
            "In order for the buyer to automatically identify a supplier, the Seller identifier (BT-29), the Seller legal registration identifier (BT-30) and/or the Seller VAT identifier (BT-31) shall be present.",
        )
    # CII compares the two-letter prefix as a token; UBL only checks that it occurs in the list string
    prefixes = f" {' '.join(sorted(codes.VAT_ID_PREFIXES_EITHER))} "
    for vat_id in d.all_vat_ids:
        if (
            (vat_id[:2] not in codes.VAT_ID_PREFIXES_EITHER)
            if d.syntax == "cii"
            else (vat_id[:2] not in prefixes)
        ):
            E(
                "BR-CO-09",
                "The Seller VAT identifier (BT-31), the Seller tax representative VAT identifier (BT-63) and the Buyer VAT identifier (BT-48) shall have a prefix in accordance with ISO code ISO 3166-1 alpha-2.",
            )
    if d.lines and not d.taxes and (d.syntax == "cii"):
        E("BR-CO-18", "An Invoice shall at least have one VAT breakdown group (BG-23).")
    if d.syntax == "ubl" and not d.taxes:
        E("BR-CO-18", "An Invoice shall at least have one VAT breakdown group (BG-23).")


def check_mandatory(d: Document, out: Out) -> None:
    """Every mandatory-content rule."""
    for check in (_header, _lines, _document_allowances, _breakdowns, _payment, _parties):
        check(d, out)
