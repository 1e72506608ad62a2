"""XRechnung 3.0 OASIS UBL 2.1 rendering of a faktoora payload: ``Invoice``, or ``CreditNote`` for 381.

Like :mod:`faktoora_async.einvoice.cii`, the payload is written as given (no silent fixes); optional
fields that are absent are left out; totals come from :func:`compute_totals`.  For a credit note the
UBL CreditNote vocabulary is used (``CreditNoteTypeCode``, ``CreditNoteLine``, ``CreditedQuantity``,
the due date as ``PaymentMeans/PaymentDueDate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from faktoora_async.einvoice._util import (
    amount,
    mapping,
    parse_date,
    payment_means_code,
    plain,
    price,
    raw_text,
    sequence,
    text,
    type_code,
    vat_tax,
)
from faktoora_async.einvoice._xmlbuild import ElementMaker
from faktoora_async.einvoice.cii import BUSINESS_PROCESS_ID, XRECHNUNG_CIUS_ID, electronic_scheme
from faktoora_async.einvoice.totals import Totals, compute_totals

__all__ = ["CREDIT_NOTE_TYPE_CODES", "render_ubl"]

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_NS = {"cac": CAC, "cbc": CBC}

CREDIT_NOTE_TYPE_CODES = frozenset(
    {"381", "81", "83", "261", "262", "296", "308", "396", "420", "458", "532"}
)
"""UNTDID 1001 codes that EN 16931 expects in a UBL ``CreditNote`` (BR-CL-01, UBL)."""


_MAKER = ElementMaker(_NS)
_el = _MAKER.el
_opt = _MAKER.opt


def _iso_date(value: str) -> str:
    try:
        return parse_date(value, "date").isoformat()
    except ValueError:
        return value


def _address(parent: etree._Element, tag: str, party: Mapping[str, Any]) -> None:
    address = _el(parent, tag)
    _opt(address, "cbc:StreetName", text(party.get("street")))
    _opt(address, "cbc:CityName", text(party.get("city")))
    _opt(address, "cbc:PostalZone", text(party.get("postcode")))
    country = text(party.get("country"))
    if country is not None:
        _el(_el(address, "cac:Country"), "cbc:IdentificationCode", country)


def _tax_scheme(parent: etree._Element, tag: str, company_id: str, scheme: str) -> None:
    element = _el(parent, tag)
    _el(element, "cbc:CompanyID", company_id)
    _el(_el(element, "cac:TaxScheme"), "cbc:ID", scheme)


def _party(parent: etree._Element, tag: str, party: Mapping[str, Any]) -> None:
    element = _el(_el(parent, tag), "cac:Party")
    endpoint = text(party.get("electronicAddress"))
    if endpoint is not None:
        scheme = electronic_scheme(party)
        attrib = {"schemeID": scheme} if scheme else {}
        _el(element, "cbc:EndpointID", endpoint, **attrib)
    _address(element, "cac:PostalAddress", party)
    vat_id = text(party.get("vatId"))
    if vat_id is not None:
        _tax_scheme(element, "cac:PartyTaxScheme", vat_id, "VAT")
    tax_id = text(party.get("taxId"))
    if tax_id is not None:
        _tax_scheme(element, "cac:PartyTaxScheme", tax_id, "FC")
    legal = _el(element, "cac:PartyLegalEntity")
    _opt(legal, "cbc:RegistrationName", text(party.get("name")))
    _opt(legal, "cbc:CompanyID", text(party.get("legalRegistrationId")))
    contact_name = text(party.get("contactName"))
    phone = text(party.get("phone"))
    email = text(party.get("email"))
    if contact_name or phone or email:
        contact = _el(element, "cac:Contact")
        _opt(contact, "cbc:Name", contact_name)
        _opt(contact, "cbc:Telephone", phone)
        _opt(contact, "cbc:ElectronicMail", email)


def _tax_category(
    parent: etree._Element,
    tag: str,
    category: str,
    rate: str | None,
    reason_code: str | None,
    reason: str | None,
) -> None:
    element = _el(parent, tag)
    _el(element, "cbc:ID", category)
    _opt(element, "cbc:Percent", rate)
    _opt(element, "cbc:TaxExemptionReasonCode", reason_code)
    _opt(element, "cbc:TaxExemptionReason", reason)
    _el(_el(element, "cac:TaxScheme"), "cbc:ID", "VAT")


def _line(root: etree._Element, invoice: Mapping[str, Any], totals: Totals, index: int, credit: bool) -> None:
    line = totals.lines[index]
    product = mapping(mapping(sequence(invoice.get("invoiceItems"))[index]).get("product"))
    currency = totals.currency
    element = _el(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
    _el(element, "cbc:ID", line.line_id)
    unit = text(product.get("unitCode")) or "C62"
    quantity_tag = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
    _el(element, quantity_tag, plain(line.quantity), unitCode=unit)
    _el(element, "cbc:LineExtensionAmount", amount(line.net_amount), currencyID=currency)
    item = _el(element, "cac:Item")
    _opt(item, "cbc:Description", text(product.get("description")))
    _opt(item, "cbc:Name", text(product.get("name")))
    product_id = text(product.get("productId"))
    if product_id is not None:
        _el(_el(item, "cac:SellersItemIdentification"), "cbc:ID", product_id)
    found = vat_tax(product)
    has_rate = found is not None and found[1].get("rate") is not None
    rate = plain(line.rate) if line.category != "O" or (has_rate and line.rate != 0) else None
    _tax_category(item, "cac:ClassifiedTaxCategory", line.category, rate, None, None)
    _el(_el(element, "cac:Price"), "cbc:PriceAmount", price(line.price), currencyID=currency)


def render_ubl(invoice: Mapping[str, Any]) -> bytes:
    """Render one payload invoice as XRechnung 3.0 UBL (Invoice, or CreditNote for credit-note codes)."""
    totals = compute_totals(invoice)
    seller = mapping(invoice.get("seller"))
    buyer = mapping(invoice.get("buyer"))
    currency = totals.currency
    code = type_code(invoice)
    credit = code in CREDIT_NOTE_TYPE_CODES
    namespace = CREDIT_NOTE_NS if credit else INVOICE_NS
    nsmap: dict[str | None, str] = {None: namespace, "cac": CAC, "cbc": CBC}
    tag = f"{{{namespace}}}{'CreditNote' if credit else 'Invoice'}"
    root = etree.Element(tag, nsmap=nsmap)  # type: ignore[arg-type]  # lxml-stubs: no None prefix

    _el(root, "cbc:CustomizationID", XRECHNUNG_CIUS_ID)
    _el(root, "cbc:ProfileID", BUSINESS_PROCESS_ID)
    _opt(root, "cbc:ID", text(invoice.get("invoiceNumber")))
    issue_date = text(invoice.get("issueDate"))
    if issue_date is not None:
        _el(root, "cbc:IssueDate", _iso_date(issue_date))
    due_date = text(invoice.get("dueDate"))
    if due_date is not None and not credit:
        _el(root, "cbc:DueDate", _iso_date(due_date))
    _el(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", code)
    _opt(root, "cbc:Note", text(invoice.get("note")))
    _el(root, "cbc:DocumentCurrencyCode", currency)
    _opt(root, "cbc:BuyerReference", text(invoice.get("buyerReference")))
    preceding = text(invoice.get("precedingInvoiceNumber"))
    if preceding is not None:
        _el(_el(_el(root, "cac:BillingReference"), "cac:InvoiceDocumentReference"), "cbc:ID", preceding)
    _party(root, "cac:AccountingSupplierParty", seller)
    _party(root, "cac:AccountingCustomerParty", buyer)

    ship_to = invoice.get("shipTo")
    delivery_date = text(invoice.get("deliveryDate"))
    if isinstance(ship_to, Mapping) or delivery_date is not None:
        delivery = _el(root, "cac:Delivery")
        if delivery_date is not None:
            _el(delivery, "cbc:ActualDeliveryDate", _iso_date(delivery_date))
        if isinstance(ship_to, Mapping):
            _address(_el(delivery, "cac:DeliveryLocation"), "cac:Address", ship_to)
            name = text(ship_to.get("name"))
            if name is not None:
                _el(_el(_el(delivery, "cac:DeliveryParty"), "cac:PartyName"), "cbc:Name", name)

    means = _el(root, "cac:PaymentMeans")
    _el(means, "cbc:PaymentMeansCode", payment_means_code(invoice))
    if due_date is not None and credit:
        _el(means, "cbc:PaymentDueDate", _iso_date(due_date))
    iban = text(seller.get("iban"))
    if iban is not None:
        account = _el(means, "cac:PayeeFinancialAccount")
        _el(account, "cbc:ID", iban)
        bic = text(seller.get("bic"))
        if bic is not None:
            _el(_el(account, "cac:FinancialInstitutionBranch"), "cbc:ID", bic)
    terms_text = raw_text(invoice.get("paymentTerms"))
    if terms_text is not None:
        _el(_el(root, "cac:PaymentTerms"), "cbc:Note", terms_text)

    tax_total = _el(root, "cac:TaxTotal")
    _el(tax_total, "cbc:TaxAmount", amount(totals.tax_total), currencyID=currency)
    for group in totals.vat:
        subtotal = _el(tax_total, "cac:TaxSubtotal")
        _el(subtotal, "cbc:TaxableAmount", amount(group.basis), currencyID=currency)
        _el(subtotal, "cbc:TaxAmount", amount(group.tax), currencyID=currency)
        _tax_category(
            subtotal,
            "cac:TaxCategory",
            group.category,
            plain(group.rate),
            group.exemption_reason_code,
            group.exemption_reason,
        )
    monetary = _el(root, "cac:LegalMonetaryTotal")
    _el(monetary, "cbc:LineExtensionAmount", amount(totals.line_total), currencyID=currency)
    _el(monetary, "cbc:TaxExclusiveAmount", amount(totals.tax_basis_total), currencyID=currency)
    _el(monetary, "cbc:TaxInclusiveAmount", amount(totals.grand_total), currencyID=currency)
    _el(monetary, "cbc:PayableAmount", amount(totals.due_payable), currencyID=currency)
    for index in range(len(totals.lines)):
        _line(root, invoice, totals, index, credit)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
