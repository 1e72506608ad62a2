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

from faktoora_async.einvoice import codes
from faktoora_async.einvoice._util import (
    DIRECT_DEBIT_CODES,
    ZERO,
    amount,
    checked_date,
    iso_date,
    mapping,
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
from faktoora_async.einvoice.totals import AllowanceCharge, LineAmount, Totals, compute_totals

__all__ = ["CREDIT_NOTE_TYPE_CODES", "render_ubl"]

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_NS = {"cac": CAC, "cbc": CBC}

CREDIT_NOTE_TYPE_CODES = codes.CREDIT_NOTE_TYPE_CODES


_MAKER = ElementMaker(_NS)
_el = _MAKER.el
_opt = _MAKER.opt


_iso_date = iso_date


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


def _party(
    parent: etree._Element, tag: str, party: Mapping[str, Any], creditor_id: str | None = None
) -> None:
    element = _el(_el(parent, tag), "cac:Party")
    endpoint = text(party.get("electronicAddress"))
    if endpoint is not None:
        scheme = electronic_scheme(party)
        attrib = {"schemeID": scheme} if scheme else {}
        _el(element, "cbc:EndpointID", endpoint, **attrib)
    if creditor_id is not None:  # BT-90, the SEPA creditor identifier, is a seller identifier in UBL
        _el(_el(element, "cac:PartyIdentification"), "cbc:ID", creditor_id, schemeID="SEPA")
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


def _allowance_charge(parent: etree._Element, ac: AllowanceCharge, currency: str) -> None:
    element = _el(parent, "cac:AllowanceCharge")
    _el(element, "cbc:ChargeIndicator", "true" if ac.charge else "false")
    _opt(element, "cbc:AllowanceChargeReasonCode", ac.reason_code)
    _opt(element, "cbc:AllowanceChargeReason", ac.reason)
    if ac.percentage is not None:
        _el(element, "cbc:MultiplierFactorNumeric", plain(ac.percentage))
    _el(element, "cbc:Amount", amount(ac.amount), currencyID=currency)
    if ac.base_amount is not None:
        _el(element, "cbc:BaseAmount", amount(ac.base_amount), currencyID=currency)
    if ac.category is not None:
        rate = plain(ac.rate) if ac.category != "O" and ac.rate is not None else None
        _tax_category(element, "cac:TaxCategory", ac.category, rate, None, None)


def _period(parent: etree._Element, period: Any, path: str = "invoicingPeriod") -> None:
    """BG-14 / BG-26: written whenever the payload has the object (an empty one is for the rules to judge)."""
    if not isinstance(period, Mapping):
        return
    element = _el(parent, "cac:InvoicePeriod")
    for key, tag in (("startDate", "cbc:StartDate"), ("endDate", "cbc:EndDate")):
        value = checked_date(period.get(key), f"{path}.{key}")
        if value is not None:
            _el(element, tag, _iso_date(value))


def _price(
    element: etree._Element, line: LineAmount, unit: str, base_unit: str | None, currency: str
) -> None:
    price_el = _el(element, "cac:Price")
    _el(price_el, "cbc:PriceAmount", price(line.price), currencyID=currency)
    if line.base_quantity is not None:
        _el(price_el, "cbc:BaseQuantity", plain(line.base_quantity), unitCode=base_unit or unit)
    if line.gross_price is not None:
        discount = _el(price_el, "cac:AllowanceCharge")
        _el(discount, "cbc:ChargeIndicator", "false")
        _el(discount, "cbc:Amount", price(line.price_discount or ZERO), currencyID=currency)
        _el(discount, "cbc:BaseAmount", price(line.gross_price), currencyID=currency)


def _line(root: etree._Element, invoice: Mapping[str, Any], totals: Totals, index: int, credit: bool) -> None:
    line = totals.lines[index]
    raw_item = mapping(sequence(invoice.get("invoiceItems"))[index])
    product = mapping(raw_item.get("product"))
    currency = totals.currency
    element = _el(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
    _el(element, "cbc:ID", line.line_id)
    unit = text(product.get("unitCode")) or "C62"
    quantity_tag = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
    _el(element, quantity_tag, plain(line.quantity), unitCode=unit)
    _el(element, "cbc:LineExtensionAmount", amount(line.net_amount), currencyID=currency)
    _period(element, raw_item.get("invoicingPeriod"), f"invoiceItems[{index}].invoicingPeriod")
    for ac in line.allowances + line.charges:
        _allowance_charge(element, ac, currency)
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
    _price(element, line, unit, text(product.get("priceBaseQuantityUnitCode")), currency)


def _document_references(root: etree._Element, invoice: Mapping[str, Any], credit: bool) -> None:
    """BT-13, BT-25/26, BT-12, BG-24 and BT-11 in the order of the UBL schema."""
    order = text(invoice.get("purchaseOrderReference"))
    if order is not None:
        _el(_el(root, "cac:OrderReference"), "cbc:ID", order)
    preceding = text(invoice.get("precedingInvoiceNumber"))
    preceding_date = checked_date(invoice.get("precedingInvoiceDate"), "precedingInvoiceDate")
    if preceding is not None:  # InvoiceDocumentReference needs its ID: a date alone cannot be written
        reference = _el(_el(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        _el(reference, "cbc:ID", preceding)
        if preceding_date is not None:
            _el(reference, "cbc:IssueDate", _iso_date(preceding_date))
    contract = text(invoice.get("contractReference"))
    if contract is not None:
        _el(_el(root, "cac:ContractDocumentReference"), "cbc:ID", contract)
    for raw in sequence(invoice.get("attachments")):
        item = mapping(raw)
        ref = _el(root, "cac:AdditionalDocumentReference")
        _el(ref, "cbc:ID", text(item.get("id")) or "")
        _opt(ref, "cbc:DocumentDescription", text(item.get("description")))
        content = text(item.get("content"))
        uri = text(item.get("uri"))
        if content is not None or uri is not None:
            attachment = _el(ref, "cac:Attachment")
            if content is not None:
                attrib = {
                    k: v
                    for k, v in (
                        ("mimeCode", text(item.get("mimeCode"))),
                        ("filename", text(item.get("fileName"))),
                    )
                    if v
                }
                _el(attachment, "cbc:EmbeddedDocumentBinaryObject", content, **attrib)
            else:
                _el(_el(attachment, "cac:ExternalReference"), "cbc:URI", uri)
    project = text(invoice.get("projectReference"))
    if project is not None:
        if credit:  # a CreditNote has no ProjectReference: EN 16931 binds BT-11 to a document reference 50
            ref = _el(root, "cac:AdditionalDocumentReference")
            _el(ref, "cbc:ID", project)
            _el(ref, "cbc:DocumentTypeCode", "50")
        else:
            _el(_el(root, "cac:ProjectReference"), "cbc:ID", project)


def _payment(root: etree._Element, invoice: Mapping[str, Any], credit: bool) -> None:
    seller = mapping(invoice.get("seller"))
    debit = mapping(invoice.get("directDebit"))
    code = payment_means_code(invoice)
    means = _el(root, "cac:PaymentMeans")
    _el(means, "cbc:PaymentMeansCode", code)
    due_date = text(invoice.get("dueDate"))
    if due_date is not None and credit:
        _el(means, "cbc:PaymentDueDate", _iso_date(due_date))
    _opt(means, "cbc:PaymentID", text(invoice.get("remittanceInformation")))
    iban = text(seller.get("iban"))
    if iban is not None and code not in DIRECT_DEBIT_CODES:  # BR-DE-25-b: no credit transfer with a debit
        account = _el(means, "cac:PayeeFinancialAccount")
        _el(account, "cbc:ID", iban)
        bic = text(seller.get("bic"))
        if bic is not None:
            _el(_el(account, "cac:FinancialInstitutionBranch"), "cbc:ID", bic)
    mandate = text(debit.get("mandateReference"))
    debited = text(debit.get("debitedAccount"))
    if mandate is not None or debited is not None:
        element = _el(means, "cac:PaymentMandate")
        _opt(element, "cbc:ID", mandate)
        if debited is not None:
            _el(_el(element, "cac:PayerFinancialAccount"), "cbc:ID", debited)
    terms_text = raw_text(invoice.get("paymentTerms"))
    if terms_text is not None:
        _el(_el(root, "cac:PaymentTerms"), "cbc:Note", terms_text)


def _taxes_and_totals(root: etree._Element, totals: Totals) -> None:
    currency = totals.currency
    for ac in totals.allowances + totals.charges:
        _allowance_charge(root, ac, currency)
    tax_total = _el(root, "cac:TaxTotal")
    _el(tax_total, "cbc:TaxAmount", amount(totals.tax_total), currencyID=currency)
    for group in totals.vat:
        subtotal = _el(tax_total, "cac:TaxSubtotal")
        _el(subtotal, "cbc:TaxableAmount", amount(group.basis), currencyID=currency)
        _el(subtotal, "cbc:TaxAmount", amount(group.tax), currencyID=currency)
        reason_code, reason = group.exemption_reason_code, group.exemption_reason
        _tax_category(subtotal, "cac:TaxCategory", group.category, plain(group.rate), reason_code, reason)
    if totals.tax_currency is not None and totals.tax_total_in_tax_currency is not None:
        in_tax_currency = _el(root, "cac:TaxTotal")
        value = amount(totals.tax_total_in_tax_currency)
        _el(in_tax_currency, "cbc:TaxAmount", value, currencyID=totals.tax_currency)
    monetary = _el(root, "cac:LegalMonetaryTotal")
    _el(monetary, "cbc:LineExtensionAmount", amount(totals.line_total), currencyID=currency)
    _el(monetary, "cbc:TaxExclusiveAmount", amount(totals.tax_basis_total), currencyID=currency)
    _el(monetary, "cbc:TaxInclusiveAmount", amount(totals.grand_total), currencyID=currency)
    if totals.allowances:
        _el(monetary, "cbc:AllowanceTotalAmount", amount(totals.allowance_total), currencyID=currency)
    if totals.charges:
        _el(monetary, "cbc:ChargeTotalAmount", amount(totals.charge_total), currencyID=currency)
    if totals.paid_amount:
        _el(monetary, "cbc:PrepaidAmount", amount(totals.paid_amount), currencyID=currency)
    if totals.rounding_amount:
        _el(monetary, "cbc:PayableRoundingAmount", amount(totals.rounding_amount), currencyID=currency)
    _el(monetary, "cbc:PayableAmount", amount(totals.due_payable), currencyID=currency)


def _delivery(root: etree._Element, invoice: Mapping[str, Any]) -> None:
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


def render_ubl(invoice: Mapping[str, Any]) -> bytes:
    """Render one payload invoice as XRechnung 3.0 UBL (Invoice, or CreditNote for credit-note codes)."""
    totals = compute_totals(invoice)
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
    _el(root, "cbc:DocumentCurrencyCode", totals.currency)
    _opt(root, "cbc:TaxCurrencyCode", totals.tax_currency)
    _opt(root, "cbc:AccountingCost", text(invoice.get("buyerAccountingReference")))
    _opt(root, "cbc:BuyerReference", text(invoice.get("buyerReference")))
    _period(root, invoice.get("invoicingPeriod"))
    _document_references(root, invoice, credit)
    creditor_id = text(mapping(invoice.get("directDebit")).get("creditorId"))
    _party(root, "cac:AccountingSupplierParty", mapping(invoice.get("seller")), creditor_id)
    _party(root, "cac:AccountingCustomerParty", mapping(invoice.get("buyer")))
    _delivery(root, invoice)
    _payment(root, invoice, credit)
    _taxes_and_totals(root, totals)
    for index in range(len(totals.lines)):
        _line(root, invoice, totals, index, credit)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
