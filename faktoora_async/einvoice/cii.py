"""XRechnung 3.0 UN/CEFACT CII (Cross Industry Invoice D16B) rendering of a faktoora payload.

``render_cii(invoice)`` writes exactly what the payload says (no silent fixes of codes or ids), so the
official rules judge the payload itself; totals come from :func:`compute_totals`.  Missing optional
fields are left out; a payload whose amounts cannot be computed raises ``ValueError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from faktoora_async.einvoice._util import (
    amount,
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
from faktoora_async.einvoice.totals import Totals, compute_totals

__all__ = ["BUSINESS_PROCESS_ID", "NAMESPACES", "XRECHNUNG_CIUS_ID", "render_cii"]

XRECHNUNG_CIUS_ID = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
BUSINESS_PROCESS_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}


_MAKER = ElementMaker(NAMESPACES)
_el = _MAKER.el
_opt = _MAKER.opt


def _date(parent: etree._Element, tag: str, value: str) -> None:
    _el(_el(parent, tag), "udt:DateTimeString", value, format="102")


def electronic_scheme(party: Mapping[str, Any]) -> str | None:
    """BT-34/BT-49 scheme: the payload's, else ``EM`` for an address that looks like an e-mail."""
    scheme = text(party.get("electronicAddressScheme"))
    address = text(party.get("electronicAddress"))
    if scheme is None and address is not None and "@" in address:
        return "EM"
    return scheme


def _address(parent: etree._Element, party: Mapping[str, Any]) -> None:
    address = _el(parent, "ram:PostalTradeAddress")
    _opt(address, "ram:PostcodeCode", text(party.get("postcode")))
    _opt(address, "ram:LineOne", text(party.get("street")))
    _opt(address, "ram:CityName", text(party.get("city")))
    _opt(address, "ram:CountryID", text(party.get("country")))


def _party(parent: etree._Element, tag: str, party: Mapping[str, Any]) -> None:
    element = _el(parent, tag)
    _opt(element, "ram:Name", text(party.get("name")))
    legal = text(party.get("legalRegistrationId"))
    if legal is not None:
        _el(_el(element, "ram:SpecifiedLegalOrganization"), "ram:ID", legal)
    contact_name = text(party.get("contactName"))
    phone = text(party.get("phone"))
    email = text(party.get("email"))
    if contact_name or phone or email:
        contact = _el(element, "ram:DefinedTradeContact")
        _opt(contact, "ram:PersonName", contact_name)
        if phone is not None:
            _el(_el(contact, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber", phone)
        if email is not None:
            _el(_el(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", email)
    _address(element, party)
    endpoint = text(party.get("electronicAddress"))
    if endpoint is not None:
        scheme = electronic_scheme(party)
        attrib = {"schemeID": scheme} if scheme else {}
        _el(_el(element, "ram:URIUniversalCommunication"), "ram:URIID", endpoint, **attrib)
    vat_id = text(party.get("vatId"))
    if vat_id is not None:
        _el(_el(element, "ram:SpecifiedTaxRegistration"), "ram:ID", vat_id, schemeID="VA")
    tax_id = text(party.get("taxId"))
    if tax_id is not None:
        _el(_el(element, "ram:SpecifiedTaxRegistration"), "ram:ID", tax_id, schemeID="FC")


def _line(parent: etree._Element, invoice: Mapping[str, Any], totals: Totals, index: int) -> None:
    line = totals.lines[index]
    product = mapping(mapping(sequence(invoice.get("invoiceItems"))[index]).get("product"))
    item = _el(parent, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.line_id)
    trade_product = _el(item, "ram:SpecifiedTradeProduct")
    _opt(trade_product, "ram:SellerAssignedID", text(product.get("productId")))
    _opt(trade_product, "ram:Name", text(product.get("name")))
    _opt(trade_product, "ram:Description", text(product.get("description")))
    agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
    _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", price(line.price))
    unit = text(product.get("unitCode")) or "C62"
    _el(
        _el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", plain(line.quantity), unitCode=unit
    )
    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", line.category)
    found = vat_tax(product)
    has_rate = found is not None and found[1].get("rate") is not None
    if line.category != "O" or (has_rate and line.rate != 0):
        _el(tax, "ram:RateApplicablePercent", plain(line.rate))
    summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _el(summation, "ram:LineTotalAmount", amount(line.net_amount))


def render_cii(invoice: Mapping[str, Any]) -> bytes:
    """Render one payload invoice as XRechnung 3.0 CII; returns UTF-8 XML bytes with declaration."""
    totals = compute_totals(invoice)
    seller = mapping(invoice.get("seller"))
    buyer = mapping(invoice.get("buyer"))
    currency = totals.currency

    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NAMESPACES)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID", BUSINESS_PROCESS_ID)
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", XRECHNUNG_CIUS_ID)

    document = _el(root, "rsm:ExchangedDocument")
    _opt(document, "ram:ID", text(invoice.get("invoiceNumber")))
    _el(document, "ram:TypeCode", type_code(invoice))
    issue_date = text(invoice.get("issueDate"))
    if issue_date is not None:
        _date(document, "ram:IssueDateTime", issue_date)
    note = text(invoice.get("note"))
    if note is not None:
        _el(_el(document, "ram:IncludedNote"), "ram:Content", note)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for index in range(len(totals.lines)):
        _line(transaction, invoice, totals, index)

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _opt(agreement, "ram:BuyerReference", text(invoice.get("buyerReference")))
    _party(agreement, "ram:SellerTradeParty", seller)
    _party(agreement, "ram:BuyerTradeParty", buyer)

    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    ship_to = invoice.get("shipTo")
    if isinstance(ship_to, Mapping):
        party = _el(delivery, "ram:ShipToTradeParty")
        _opt(party, "ram:Name", text(ship_to.get("name")))
        _address(party, ship_to)
    delivery_date = text(invoice.get("deliveryDate"))
    if delivery_date is not None:
        _date(_el(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime", delivery_date)

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", currency)
    means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _el(means, "ram:TypeCode", payment_means_code(invoice))
    iban = text(seller.get("iban"))
    if iban is not None:
        account = _el(means, "ram:PayeePartyCreditorFinancialAccount")
        _el(account, "ram:IBANID", iban)
        bic = text(seller.get("bic"))
        if bic is not None:
            _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", bic)
    for group in totals.vat:
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", amount(group.tax))
        _el(tax, "ram:TypeCode", "VAT")
        _opt(tax, "ram:ExemptionReason", group.exemption_reason)
        _el(tax, "ram:BasisAmount", amount(group.basis))
        _el(tax, "ram:CategoryCode", group.category)
        _opt(tax, "ram:ExemptionReasonCode", group.exemption_reason_code)
        _el(tax, "ram:RateApplicablePercent", plain(group.rate))
    terms_text = raw_text(invoice.get("paymentTerms"))
    due_date = text(invoice.get("dueDate"))
    if terms_text is not None or due_date is not None:
        terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        _opt(terms, "ram:Description", terms_text)
        if due_date is not None:
            _date(terms, "ram:DueDateDateTime", due_date)
    summation = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summation, "ram:LineTotalAmount", amount(totals.line_total))
    _el(summation, "ram:TaxBasisTotalAmount", amount(totals.tax_basis_total))
    _el(summation, "ram:TaxTotalAmount", amount(totals.tax_total), currencyID=currency)
    _el(summation, "ram:GrandTotalAmount", amount(totals.grand_total))
    _el(summation, "ram:DuePayableAmount", amount(totals.due_payable))
    preceding = text(invoice.get("precedingInvoiceNumber"))
    if preceding is not None:
        _el(_el(settlement, "ram:InvoiceReferencedDocument"), "ram:IssuerAssignedID", preceding)

    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
