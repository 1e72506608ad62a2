"""UN/CEFACT CII (Cross Industry Invoice D16B) rendering of a faktoora payload: XRechnung 3.0 or Factur-X.

``render_cii(invoice)`` writes exactly what the payload says (no silent fixes of codes or ids), so the
official rules judge the payload itself; totals come from :func:`compute_totals`.  Missing optional
fields are left out; a payload whose amounts cannot be computed raises ``ValueError`` naming the field.
The specification identifier (BT-24) is XRechnung 3.0's, except for ``format: "zf:2"``, whose PDF says
"Factur-X EN 16931": there it is EN 16931's own (``urn:cen.eu:en16931:2017``), as the Factur-X rules want.
Elements follow the D16B order that the Factur-X EN 16931 XML Schema checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from faktoora_async.einvoice._util import (
    DIRECT_DEBIT_CODES,
    amount,
    checked_date,
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
from faktoora_async.einvoice.totals import AllowanceCharge, LineAmount, Totals, compute_totals

__all__ = [
    "BUSINESS_PROCESS_ID",
    "EN16931_ID",
    "NAMESPACES",
    "XRECHNUNG_CIUS_ID",
    "electronic_scheme",
    "render_cii",
    "specification_id",
]

XRECHNUNG_CIUS_ID = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
EN16931_ID = "urn:cen.eu:en16931:2017"
BUSINESS_PROCESS_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}


_MAKER = ElementMaker(NAMESPACES)
_el = _MAKER.el
_opt = _MAKER.opt


def specification_id(invoice: Mapping[str, Any]) -> str:
    """BT-24: EN 16931 for Factur-X (``zf:2``), else XRechnung 3.0."""
    return EN16931_ID if text(invoice.get("format")) == "zf:2" else XRECHNUNG_CIUS_ID


def _date(parent: etree._Element, tag: str, value: str, *, qualified: bool = False) -> None:
    _el(_el(parent, tag), "qdt:DateTimeString" if qualified else "udt:DateTimeString", value, format="102")


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


def _period(parent: etree._Element, period: Any, path: str = "invoicingPeriod") -> None:
    """BG-14 / BG-26: written whenever the payload has the object (an empty one is for the rules to judge)."""
    if not isinstance(period, Mapping):
        return
    element = _el(parent, "ram:BillingSpecifiedPeriod")
    for key, tag in (("startDate", "ram:StartDateTime"), ("endDate", "ram:EndDateTime")):
        value = checked_date(period.get(key), f"{path}.{key}")
        if value is not None:
            _date(element, tag, value)


def _allowance_charge(parent: etree._Element, ac: AllowanceCharge) -> None:
    element = _el(parent, "ram:SpecifiedTradeAllowanceCharge")
    _el(_el(element, "ram:ChargeIndicator"), "udt:Indicator", "true" if ac.charge else "false")
    if ac.percentage is not None:
        _el(element, "ram:CalculationPercent", plain(ac.percentage))
    if ac.base_amount is not None:
        _el(element, "ram:BasisAmount", amount(ac.base_amount))
    _el(element, "ram:ActualAmount", amount(ac.amount))
    _opt(element, "ram:ReasonCode", ac.reason_code)
    _opt(element, "ram:Reason", ac.reason)
    if ac.category is not None:
        tax = _el(element, "ram:CategoryTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", ac.category)
        if ac.category != "O" and ac.rate is not None:
            _el(tax, "ram:RateApplicablePercent", plain(ac.rate))


def _prices(agreement: etree._Element, line: LineAmount, unit: str, base_unit: str | None) -> None:
    base_attrib = {"unitCode": base_unit or unit}
    if line.gross_price is not None:
        gross = _el(agreement, "ram:GrossPriceProductTradePrice")
        _el(gross, "ram:ChargeAmount", price(line.gross_price))
        if line.base_quantity is not None:
            _el(gross, "ram:BasisQuantity", plain(line.base_quantity), **base_attrib)
        if line.price_discount is not None:
            discount = _el(gross, "ram:AppliedTradeAllowanceCharge")
            _el(_el(discount, "ram:ChargeIndicator"), "udt:Indicator", "false")
            _el(discount, "ram:ActualAmount", price(line.price_discount))
    net = _el(agreement, "ram:NetPriceProductTradePrice")
    _el(net, "ram:ChargeAmount", price(line.price))
    if line.base_quantity is not None:
        _el(net, "ram:BasisQuantity", plain(line.base_quantity), **base_attrib)


def _line(parent: etree._Element, invoice: Mapping[str, Any], totals: Totals, index: int) -> None:
    line = totals.lines[index]
    raw_item = mapping(sequence(invoice.get("invoiceItems"))[index])
    product = mapping(raw_item.get("product"))
    item = _el(parent, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.line_id)
    trade_product = _el(item, "ram:SpecifiedTradeProduct")
    _opt(trade_product, "ram:SellerAssignedID", text(product.get("productId")))
    _opt(trade_product, "ram:Name", text(product.get("name")))
    _opt(trade_product, "ram:Description", text(product.get("description")))
    unit = text(product.get("unitCode")) or "C62"
    _prices(
        _el(item, "ram:SpecifiedLineTradeAgreement"),
        line,
        unit,
        text(product.get("priceBaseQuantityUnitCode")),
    )
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
    _period(settlement, raw_item.get("invoicingPeriod"), f"invoiceItems[{index}].invoicingPeriod")
    for ac in line.allowances + line.charges:
        _allowance_charge(settlement, ac)
    summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _el(summation, "ram:LineTotalAmount", amount(line.net_amount))


def _attachments(agreement: etree._Element, invoice: Mapping[str, Any]) -> None:
    for raw in sequence(invoice.get("attachments")):
        item = mapping(raw)
        ref = _el(agreement, "ram:AdditionalReferencedDocument")
        _opt(ref, "ram:IssuerAssignedID", text(item.get("id")))
        _opt(ref, "ram:URIID", text(item.get("uri")))
        _el(ref, "ram:TypeCode", "916")
        _opt(ref, "ram:Name", text(item.get("description")))
        content = text(item.get("content"))
        if content is not None:
            attrib = {
                k: v
                for k, v in (
                    ("mimeCode", text(item.get("mimeCode"))),
                    ("filename", text(item.get("fileName"))),
                )
                if v
            }
            _el(ref, "ram:AttachmentBinaryObject", content, **attrib)


def _agreement(transaction: etree._Element, invoice: Mapping[str, Any]) -> None:
    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _opt(agreement, "ram:BuyerReference", text(invoice.get("buyerReference")))
    _party(agreement, "ram:SellerTradeParty", mapping(invoice.get("seller")))
    _party(agreement, "ram:BuyerTradeParty", mapping(invoice.get("buyer")))
    for key, tag in (
        ("purchaseOrderReference", "ram:BuyerOrderReferencedDocument"),
        ("contractReference", "ram:ContractReferencedDocument"),
    ):
        value = text(invoice.get(key))
        if value is not None:
            _el(_el(agreement, tag), "ram:IssuerAssignedID", value)
    _attachments(agreement, invoice)
    project = text(invoice.get("projectReference"))
    if project is not None:
        element = _el(agreement, "ram:SpecifiedProcuringProject")
        _el(element, "ram:ID", project)
        _el(element, "ram:Name", "Project reference")


def _delivery(transaction: etree._Element, invoice: Mapping[str, Any]) -> None:
    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    ship_to = invoice.get("shipTo")
    if isinstance(ship_to, Mapping):
        party = _el(delivery, "ram:ShipToTradeParty")
        _opt(party, "ram:Name", text(ship_to.get("name")))
        _address(party, ship_to)
    delivery_date = text(invoice.get("deliveryDate"))
    if delivery_date is not None:
        _date(_el(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime", delivery_date)


def _payment_means(settlement: etree._Element, invoice: Mapping[str, Any], code: str) -> None:
    seller = mapping(invoice.get("seller"))
    debit = mapping(invoice.get("directDebit"))
    means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _el(means, "ram:TypeCode", code)
    debited = text(debit.get("debitedAccount"))
    if debited is not None:
        _el(_el(means, "ram:PayerPartyDebtorFinancialAccount"), "ram:IBANID", debited)
    iban = text(seller.get("iban"))
    if iban is not None and code not in DIRECT_DEBIT_CODES:  # BR-DE-25-b: no credit transfer with a debit
        account = _el(means, "ram:PayeePartyCreditorFinancialAccount")
        _el(account, "ram:IBANID", iban)
        bic = text(seller.get("bic"))
        if bic is not None:
            _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", bic)


def _summation(settlement: etree._Element, invoice: Mapping[str, Any], totals: Totals) -> None:
    summation = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summation, "ram:LineTotalAmount", amount(totals.line_total))
    if totals.charges:
        _el(summation, "ram:ChargeTotalAmount", amount(totals.charge_total))
    if totals.allowances:
        _el(summation, "ram:AllowanceTotalAmount", amount(totals.allowance_total))
    _el(summation, "ram:TaxBasisTotalAmount", amount(totals.tax_basis_total))
    _el(summation, "ram:TaxTotalAmount", amount(totals.tax_total), currencyID=totals.currency)
    if totals.tax_currency is not None and totals.tax_total_in_tax_currency is not None:
        _el(
            summation,
            "ram:TaxTotalAmount",
            amount(totals.tax_total_in_tax_currency),
            currencyID=totals.tax_currency,
        )
    if invoice.get("roundingAmount") is not None:
        _el(summation, "ram:RoundingAmount", amount(totals.rounding_amount))
    _el(summation, "ram:GrandTotalAmount", amount(totals.grand_total))
    if invoice.get("prepaidAmount") is not None:
        _el(summation, "ram:TotalPrepaidAmount", amount(totals.paid_amount))
    _el(summation, "ram:DuePayableAmount", amount(totals.due_payable))


def _settlement(transaction: etree._Element, invoice: Mapping[str, Any], totals: Totals) -> None:
    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    debit = mapping(invoice.get("directDebit"))
    _opt(settlement, "ram:CreditorReferenceID", text(debit.get("creditorId")))
    _opt(settlement, "ram:PaymentReference", text(invoice.get("remittanceInformation")))
    _opt(settlement, "ram:TaxCurrencyCode", text(invoice.get("taxCurrency")))
    _el(settlement, "ram:InvoiceCurrencyCode", totals.currency)
    _payment_means(settlement, invoice, payment_means_code(invoice))
    for group in totals.vat:
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", amount(group.tax))
        _el(tax, "ram:TypeCode", "VAT")
        _opt(tax, "ram:ExemptionReason", group.exemption_reason)
        _el(tax, "ram:BasisAmount", amount(group.basis))
        _el(tax, "ram:CategoryCode", group.category)
        _opt(tax, "ram:ExemptionReasonCode", group.exemption_reason_code)
        _el(tax, "ram:RateApplicablePercent", plain(group.rate))
    _period(settlement, invoice.get("invoicingPeriod"))
    for ac in totals.allowances + totals.charges:
        _allowance_charge(settlement, ac)
    terms_text = raw_text(invoice.get("paymentTerms"))
    due_date = text(invoice.get("dueDate"))
    mandate = text(debit.get("mandateReference"))
    if terms_text is not None or due_date is not None or mandate is not None:
        terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        _opt(terms, "ram:Description", terms_text)
        if due_date is not None:
            _date(terms, "ram:DueDateDateTime", due_date)
        _opt(terms, "ram:DirectDebitMandateID", mandate)
    _summation(settlement, invoice, totals)
    preceding = text(invoice.get("precedingInvoiceNumber"))
    preceding_date = checked_date(invoice.get("precedingInvoiceDate"), "precedingInvoiceDate")
    if preceding is not None or preceding_date is not None:
        reference = _el(settlement, "ram:InvoiceReferencedDocument")
        _opt(reference, "ram:IssuerAssignedID", preceding)
        if preceding_date is not None:
            _date(reference, "ram:FormattedIssueDateTime", preceding_date, qualified=True)
    accounting = text(invoice.get("buyerAccountingReference"))
    if accounting is not None:
        _el(_el(settlement, "ram:ReceivableSpecifiedTradeAccountingAccount"), "ram:ID", accounting)


def render_cii(invoice: Mapping[str, Any]) -> bytes:
    """Render one payload invoice as CII (XRechnung 3.0, or Factur-X EN 16931 for ``zf:2``); UTF-8 bytes."""
    totals = compute_totals(invoice)
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NAMESPACES)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID", BUSINESS_PROCESS_ID)
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", specification_id(invoice))

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
    _agreement(transaction, invoice)
    _delivery(transaction, invoice)
    _settlement(transaction, invoice, totals)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
