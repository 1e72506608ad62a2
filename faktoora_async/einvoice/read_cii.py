"""The one reader of UN/CEFACT CII (D16B) invoices: XML tree -> :class:`~.document.Document`.

Both the content model (:mod:`.parse`) and the rules (:mod:`.validate`) use what this module reads, so
a CII path is written down once.  Reading never raises on a malformed invoice: what is missing stays
``None``/``False``, and the rules report it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from lxml import etree

from .document import AllowanceCharge, Document, EmbeddedFile, Line, Party, PaymentMeans, Tax
from .xmlread import NS, dec, first, has, raw, s, t

__all__ = ["read_cii"]

_RAM: Final = NS["ram"]
_ZERO: Final = Decimal(0)
_DATE_102: Final = re.compile(r"^\s*(\d{4})(1[0-2]|0[1-9])(3[01]|[12][0-9]|0[1-9])\s*$")
_DATE: Final = "udt:DateTimeString"
_SUMS: Final = (
    ("line", "ram:LineTotalAmount"),
    ("allowance", "ram:AllowanceTotalAmount"),
    ("charge", "ram:ChargeTotalAmount"),
    ("basis", "ram:TaxBasisTotalAmount"),
    ("grand", "ram:GrandTotalAmount"),
    ("prepaid", "ram:TotalPrepaidAmount"),
    ("rounding", "ram:RoundingAmount"),
    ("due", "ram:DuePayableAmount"),
)
# CII-DT-015 .. CII-DT-029: elements a *ReferencedDocument may not carry (None: never; else the
# AdditionalReferencedDocument type codes that allow it)
_REFDOC_RULES: Final[tuple[tuple[str, str, frozenset[str] | None], ...]] = (
    ("CII-DT-015", "URIID", frozenset({"916"})),
    ("CII-DT-016", "StatusCode", None),
    ("CII-DT-017", "CopyIndicator", None),
    ("CII-DT-019", "GlobalID", None),
    ("CII-DT-020", "RevisionID", None),
    ("CII-DT-021", "Name", frozenset({"916"})),
    ("CII-DT-022", "AttachmentBinaryObject", frozenset({"916"})),
    ("CII-DT-023", "Information", None),
    ("CII-DT-024", "ReferenceTypeCode", frozenset({"130"})),
    ("CII-DT-025", "SectionName", None),
    ("CII-DT-026", "PreviousRevisionID", None),
    ("CII-DT-028", "EffectiveSpecifiedPeriod", None),
    ("CII-DT-029", "IssuerTradeParty", None),
)


def _party(el: etree._Element | None) -> Party:
    party = Party()
    if el is None:
        return party
    party.present = True
    party.name = s(el, "ram:Name")
    address = first(el, "ram:PostalTradeAddress")
    party.address_present = address is not None
    party.street = s(address, "ram:LineOne")
    party.city = s(address, "ram:CityName")
    party.postcode = s(address, "ram:PostcodeCode")
    party.country = t(address, "ram:CountryID")
    contact = first(el, "ram:DefinedTradeContact")
    party.contact_present = contact is not None
    if contact is not None:
        party.contact_name = s(contact, "ram:PersonName") or s(contact, "ram:DepartmentName")
        party.phone = s(contact, "ram:TelephoneUniversalCommunication/ram:CompleteNumber")
        party.email = s(contact, "ram:EmailURIUniversalCommunication/ram:URIID")
    uri = first(el, "ram:URIUniversalCommunication/ram:URIID")
    party.endpoint_present = uri is not None
    party.electronic_address = s(uri)
    party.electronic_address_scheme = uri.get("schemeID") if uri is not None else None
    first_uri = first(el, "ram:URIUniversalCommunication")
    first_id = first(first_uri, "ram:URIID") if first_uri is not None else None
    party.endpoint_scheme = (first_id.get("schemeID") or "").strip() or None if first_id is not None else None
    party.scheme_missing = first_uri is not None and party.endpoint_scheme is None
    for reg in el.iterfind("ram:SpecifiedTaxRegistration/ram:ID", NS):
        scheme = reg.get("schemeID")
        if scheme == "VA":
            party.vat_ids.append(reg.text or "")
            party.vat_id = party.vat_id or s(reg)
        elif scheme == "FC":
            party.fc_ids.append(reg.text or "")
            party.tax_id = party.tax_id or s(reg)
    party.legal_id = has(el, "ram:SpecifiedLegalOrganization/ram:ID")
    party.legal_registration_id = s(el, "ram:SpecifiedLegalOrganization/ram:ID")
    party.other_id = has(el, "ram:ID") or has(el, "ram:GlobalID")
    return party


def _allowance_charge(el: etree._Element) -> AllowanceCharge:
    indicator = t(el, "ram:ChargeIndicator/udt:Indicator")
    amount_el = first(el, "ram:ActualAmount")
    tax = first(el, "ram:CategoryTradeTax")
    vat_tax = tax if tax is not None and (t(tax, "ram:TypeCode") or "").upper() == "VAT" else None
    rate_text = t(tax, "ram:RateApplicablePercent")
    return AllowanceCharge(
        charge=True if indicator == "true" else False if indicator == "false" else None,
        indicator_text=indicator,
        amount=dec(t(amount_el)),
        amount_present=amount_el is not None,
        base_present=has(el, "ram:BasisAmount"),
        base=dec(t(el, "ram:BasisAmount")),
        percent_present=has(el, "ram:CalculationPercent"),
        percent=dec(t(el, "ram:CalculationPercent")),
        category=t(vat_tax, "ram:CategoryCode") if vat_tax is not None else t(tax, "ram:CategoryCode"),
        category_present=has(vat_tax, "ram:CategoryCode"),
        rate=dec(rate_text),
        reason=has(el, "ram:Reason") or has(el, "ram:ReasonCode"),
        amount_text=t(amount_el),
        base_text=t(el, "ram:BasisAmount"),
        percent_text=t(el, "ram:CalculationPercent"),
        rate_text=rate_text,
        reason_text=s(el, "ram:Reason"),
        reason_code=t(el, "ram:ReasonCode"),
    )


def _period_broken(period: etree._Element | None) -> bool:
    """Start and end elements both present but one lacks its format-102 date string (BR-29/BR-30)."""
    if period is None or not (has(period, "ram:StartDateTime") and has(period, "ram:EndDateTime")):
        return False
    return not (
        has(period, "ram:StartDateTime/udt:DateTimeString[@format='102']")
        and has(period, "ram:EndDateTime/udt:DateTimeString[@format='102']")
    )


def _line(item: etree._Element) -> Line:
    agreement = first(item, "ram:SpecifiedLineTradeAgreement")
    net_price = first(agreement, "ram:NetPriceProductTradePrice") if agreement is not None else None
    gross_price = first(agreement, "ram:GrossPriceProductTradePrice") if agreement is not None else None
    qty = first(item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity")
    settlement = first(item, "ram:SpecifiedLineTradeSettlement")
    tax = first(settlement, "ram:ApplicableTradeTax") if settlement is not None else None
    net = (
        first(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
        if settlement is not None
        else None
    )
    period = first(settlement, "ram:BillingSpecifiedPeriod") if settlement is not None else None
    price_el = first(net_price, "ram:ChargeAmount") if net_price is not None else None
    gross_el = first(gross_price, "ram:ChargeAmount") if gross_price is not None else None
    price_acs = (
        list(gross_price.iterfind("ram:AppliedTradeAllowanceCharge", NS)) if gross_price is not None else []
    )
    discount = (
        first(gross_price, "ram:AppliedTradeAllowanceCharge/ram:ActualAmount")
        if gross_price is not None
        else None
    )
    base_units = [
        b.get("unitCode") or ""
        for p in (net_price, gross_price)
        if p is not None
        for b in p.iterfind("ram:BasisQuantity[@unitCode]", NS)
    ]
    base = first(net_price, "ram:BasisQuantity") if net_price is not None else None
    acs = settlement.iterfind("ram:SpecifiedTradeAllowanceCharge", NS) if settlement is not None else ()
    return Line(
        line_id=t(item, "ram:AssociatedDocumentLineDocument/ram:LineID"),
        qty_present=qty is not None,
        qty=dec(t(qty)),
        unit=qty.get("unitCode") if qty is not None else None,
        net_present=net is not None,
        net=dec(t(net)),
        name=s(item, "ram:SpecifiedTradeProduct/ram:Name"),
        price_present=price_el is not None,
        price=dec(t(price_el)),
        gross_present=gross_el is not None,
        gross=dec(t(gross_el)),
        price_discount=dec(t(discount)),
        price_discount_present=discount is not None,
        price_charge_flags=[
            t(ac, "ram:ChargeIndicator/udt:Indicator") or ""
            for ac in price_acs
            if has(ac, "ram:ActualAmount")
        ],
        base_qty=dec(t(base)),
        base_qty_present=base is not None,
        base_qty_units=base_units,
        tax_type=t(tax, "ram:TypeCode"),
        category=t(tax, "ram:CategoryCode"),
        category_present=has(tax, "ram:CategoryCode"),
        rate=dec(t(tax, "ram:RateApplicablePercent")),
        rate_present=has(tax, "ram:RateApplicablePercent"),
        acs=[_allowance_charge(ac) for ac in acs],
        period_start=t(period, f"ram:StartDateTime/{_DATE}"),
        period_end=t(period, f"ram:EndDateTime/{_DATE}"),
        period_present=period is not None,
        period_broken=_period_broken(period),
        description=s(item, "ram:SpecifiedTradeProduct/ram:Description"),
        qty_text=t(qty),
        net_text=t(net),
        price_text=t(price_el),
        gross_text=t(gross_el),
        price_discount_text=t(discount),
        base_qty_text=t(base),
        rate_text=t(tax, "ram:RateApplicablePercent"),
        seller_item_id=t(item, "ram:SpecifiedTradeProduct/ram:SellerAssignedID"),
        base_qty_unit=base.get("unitCode") if base is not None else None,
    )


def _header(doc: Document, root: etree._Element) -> None:
    ctx = first(root, "rsm:ExchangedDocumentContext")
    doc.spec_id = t(ctx, "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
    doc.process_id = t(ctx, "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID")
    doc.process_present = ctx is None or has(
        ctx, "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID"
    )
    exdoc = first(root, "rsm:ExchangedDocument")
    doc.number = t(exdoc, "ram:ID")
    issue = exdoc.find(f"ram:IssueDateTime/{_DATE}", NS) if exdoc is not None else None
    doc.issue_date = t(issue)
    doc.issue_date_ok = issue is not None and issue.get("format") == "102" and t(issue) is not None
    doc.type_code = t(exdoc, "ram:TypeCode")
    notes = [n for n in (s(c) for c in _iter(exdoc, "ram:IncludedNote/ram:Content")) if n]
    doc.note = "\n".join(notes) if notes else None


def _iter(el: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if el is None else list(el.iterfind(path, NS))


def _agreement(doc: Document, agreement: etree._Element) -> None:
    doc.buyer_reference = t(agreement, "ram:BuyerReference")
    doc.seller = _party(first(agreement, "ram:SellerTradeParty"))
    doc.buyer = _party(first(agreement, "ram:BuyerTradeParty"))
    rep = first(agreement, "ram:SellerTaxRepresentativeTradeParty")
    if rep is not None:
        doc.tax_rep_present = True
        doc.tax_rep_name = s(rep, "ram:Name")
        doc.tax_rep_address = has(rep, "ram:PostalTradeAddress")
        doc.tax_rep_country = t(rep, "ram:PostalTradeAddress/ram:CountryID")
        doc.tax_rep_vat = first(rep, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") is not None
    doc.order_reference = t(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID")
    doc.contract_reference = t(agreement, "ram:ContractReferencedDocument/ram:IssuerAssignedID")
    doc.project_reference = t(agreement, "ram:SpecifiedProcuringProject/ram:ID")
    for ref in agreement.iterfind("ram:AdditionalReferencedDocument", NS):
        obj = first(ref, "ram:AttachmentBinaryObject")
        item = EmbeddedFile(
            filename=obj.get("filename") if obj is not None else None,
            mime_code=obj.get("mimeCode") if obj is not None else None,
            reference=t(ref, "ram:IssuerAssignedID"),
            description=s(ref, "ram:Name"),
            base64_text=obj.text if obj is not None else None,
            uri=t(ref, "ram:URIID"),
        )
        if t(ref, "ram:TypeCode") in (None, "916"):  # 50 and 130 are other terms (BT-17, BT-18)
            doc.documents.append(item)
        if obj is not None:
            doc.attachments.append((obj.get("filename"), obj.get("mimeCode")))
            doc.embedded.append(item)


def _delivery(doc: Document, delivery: etree._Element) -> None:
    party = first(delivery, "ram:ShipToTradeParty")
    ship = first(party, "ram:PostalTradeAddress") if party is not None else None
    doc.ship_to_name = s(party, "ram:Name")
    doc.ship_to_address = ship is not None
    doc.ship_to_street = s(ship, "ram:LineOne")
    doc.ship_to_country = t(ship, "ram:CountryID")
    doc.ship_to_city = s(ship, "ram:CityName")
    doc.ship_to_postcode = s(ship, "ram:PostcodeCode")
    doc.delivery_date = t(delivery, f"ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/{_DATE}")


def _payment(doc: Document, settlement: etree._Element) -> None:
    for pm in settlement.iterfind("ram:SpecifiedTradeSettlementPaymentMeans", NS):
        account = first(pm, "ram:PayeePartyCreditorFinancialAccount")
        doc.payment_means.append(
            PaymentMeans(
                code=t(pm, "ram:TypeCode"),
                code_present=has(pm, "ram:TypeCode"),
                account_present=account is not None,
                account_id=t(account, "ram:IBANID") is not None
                or t(account, "ram:ProprietaryID") is not None,
                card=has(pm, "ram:ApplicableTradeSettlementFinancialCard"),
                mandate=has(pm, "ram:PayerPartyDebtorFinancialAccount/ram:IBANID"),
                account_id_element=has(account, "ram:IBANID") or has(account, "ram:ProprietaryID"),
                information=s(pm, "ram:Information"),
                iban=t(account, "ram:IBANID") or t(account, "ram:ProprietaryID"),
                bic=t(pm, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
                account_name=s(account, "ram:AccountName"),
                debited_account=t(pm, "ram:PayerPartyDebtorFinancialAccount/ram:IBANID"),
            )
        )
    doc.mandate_id = has(settlement, "ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID")
    doc.mandate_reference = t(settlement, "ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID")
    doc.creditor_id = t(settlement, "ram:CreditorReferenceID")
    doc.remittance = s(settlement, "ram:PaymentReference")
    doc.direct_debit = doc.mandate_id or has(settlement, "ram:CreditorReferenceID")
    terms = settlement.findall("ram:SpecifiedTradePaymentTerms", NS)
    first_terms = first(settlement, "ram:SpecifiedTradePaymentTerms/ram:Description")
    doc.terms_first = first_terms.text if first_terms is not None else None
    texts = [d for term in terms if (d := raw(term, "ram:Description"))]
    doc.terms_description = "\n".join(texts) if texts else None
    due_dates = [d for term in terms if (d := t(term, f"ram:DueDateDateTime/{_DATE}"))]
    doc.due_date = due_dates[0] if due_dates else None


def _taxes(doc: Document, settlement: etree._Element) -> None:
    for tax in settlement.iterfind("ram:ApplicableTradeTax", NS):
        doc.taxes.append(
            Tax(
                type_code=t(tax, "ram:TypeCode"),
                category=t(tax, "ram:CategoryCode"),
                category_present=has(tax, "ram:CategoryCode"),
                rate=dec(t(tax, "ram:RateApplicablePercent")),
                rate_present=t(tax, "ram:RateApplicablePercent") is not None,
                basis=dec(t(tax, "ram:BasisAmount")),
                basis_present=has(tax, "ram:BasisAmount"),
                amount=dec(t(tax, "ram:CalculatedAmount")),
                amount_present=has(tax, "ram:CalculatedAmount"),
                exemption=has(tax, "ram:ExemptionReason") or has(tax, "ram:ExemptionReasonCode"),
                exemption_code=t(tax, "ram:ExemptionReasonCode"),
                rate_text=t(tax, "ram:RateApplicablePercent"),
                basis_text=t(tax, "ram:BasisAmount"),
                amount_text=t(tax, "ram:CalculatedAmount"),
                exemption_reason=s(tax, "ram:ExemptionReason"),
            )
        )


def _sums(doc: Document, settlement: etree._Element) -> None:
    sums = first(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    if sums is None:
        return
    doc.sums_present = True
    for key, tag in _SUMS:
        node = sums.find(tag, NS)
        if node is not None:
            doc.sums[key] = dec(node.text)
            doc.sum_texts[key] = t(node)
    calc_sum = sum((tax.amount or _ZERO for tax in doc.taxes), _ZERO)
    for node in sums.iterfind("ram:TaxTotalAmount", NS):
        doc.tax_totals.append((node.get("currencyID"), dec(node.text), True, calc_sum))
        if (value := t(node)) is not None:
            doc.tax_total_texts.append((node.get("currencyID"), value))


def _settlement(doc: Document, settlement: etree._Element) -> None:
    doc.currency = t(settlement, "ram:InvoiceCurrencyCode")
    doc.tax_currency = t(settlement, "ram:TaxCurrencyCode")
    period = first(settlement, "ram:BillingSpecifiedPeriod")
    if period is not None:
        doc.period_present = True
        doc.period_start = t(period, f"ram:StartDateTime/{_DATE}")
        doc.period_end = t(period, f"ram:EndDateTime/{_DATE}")
        doc.period_broken = _period_broken(period)
    _payment(doc, settlement)
    doc.acs = [_allowance_charge(ac) for ac in settlement.iterfind("ram:SpecifiedTradeAllowanceCharge", NS)]
    _taxes(doc, settlement)
    for prec in settlement.iterfind("ram:InvoiceReferencedDocument", NS):
        if t(prec, "ram:IssuerAssignedID") is None:
            doc.preceding_without_id += 1
    doc.preceding_number = t(settlement, "ram:InvoiceReferencedDocument/ram:IssuerAssignedID")
    doc.preceding_date = t(
        settlement, "ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/qdt:DateTimeString"
    )
    doc.buyer_accounting_reference = t(settlement, "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID")
    _sums(doc, settlement)


def _scheme_ids(root: etree._Element) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    product = f"{{{_RAM}}}SpecifiedTradeProduct"
    ship_to = f"{{{_RAM}}}ShipToTradeParty"
    tax_reg = f"{{{_RAM}}}SpecifiedTaxRegistration"
    for el in root.iter(f"{{{_RAM}}}GlobalID"):
        scheme = el.get("schemeID")
        if scheme is None:
            continue
        ancestors = {a.tag for a in el.iterancestors()}
        if product in ancestors:
            out.append(("BR-CL-21", scheme))
        elif ship_to in ancestors:
            out.append(("BR-CL-26", scheme))
        else:
            out.append(("BR-CL-10", scheme))
    for el in root.iter(f"{{{_RAM}}}ID"):
        scheme = el.get("schemeID")
        if scheme is not None and not any(a.tag == tax_reg for a in el.iterancestors()):
            out.append(("BR-CL-11", scheme))
    return out


def _referenced_documents(root: etree._Element) -> list[str]:
    out: list[str] = []
    for el in root.iter(etree.Element):
        qname = etree.QName(el)
        if qname.namespace != _RAM or not qname.localname.endswith("ReferencedDocument"):
            continue
        additional = qname.localname == "AdditionalReferencedDocument"
        codes = {(c.text or "") for c in el.iterfind("ram:TypeCode", NS)}
        for rule, child, allowed in _REFDOC_RULES:
            if el.find(f"ram:{child}", NS) is not None and not (additional and allowed and codes & allowed):
                out.append(rule)
        if codes and not (additional and codes & {"50", "130", "916"}):
            out.append("CII-DT-018")
        if (
            first(el, "ram:FormattedIssueDateTime") is not None
            and qname.localname != "InvoiceReferencedDocument"
        ):
            out.append("CII-DT-027")
    return out


def empty_elements(root: etree._Element, skip: str | None = None) -> list[str]:
    """Local names of elements with no element children and no text (PEPPOL-EN16931-R008)."""
    out = []
    for el in root.iter(etree.Element):
        if any(isinstance(child.tag, str) for child in el):
            continue
        text = (el.text or "") + "".join(child.tail or "" for child in el)
        if text.strip() or el.tag == skip:
            continue
        out.append(etree.QName(el).localname)
    return out


def _scan(doc: Document, root: etree._Element) -> None:
    """Whole-document facts: every VAT id, address scheme, identifier scheme, subject code and date."""
    for reg in root.iter(f"{{{_RAM}}}SpecifiedTaxRegistration"):
        for node in reg.iterfind("ram:ID[@schemeID='VA']", NS):
            doc.all_vat_ids.append((node.text or "").strip())
    for uri in root.iter(f"{{{_RAM}}}URIUniversalCommunication"):
        for node in uri.iterfind("ram:URIID[@schemeID]", NS):
            doc.endpoint_schemes.append(node.get("schemeID") or "")
    for ref in root.iter(f"{{{_RAM}}}AdditionalReferencedDocument"):
        if t(ref, "ram:IssuerAssignedID") is None:
            doc.doc_refs_without_id += 1
    doc.scheme_ids = _scheme_ids(root)
    doc.structure = _referenced_documents(root)
    doc.subject_codes = [" ".join((n.text or "").split()) for n in root.iter(f"{{{_RAM}}}SubjectCode")]
    for node in root.iter(f"{{{NS['udt']}}}DateTimeString"):
        if node.get("format") == "102" and not _DATE_102.match(node.text or ""):
            doc.bad_dates += 1
    doc.empty_elements = empty_elements(root, skip=f"{{{_RAM}}}ApplicableHeaderTradeDelivery")


def read_cii(root: etree._Element, *, scan: bool = True) -> Document:
    """Read a ``rsm:CrossIndustryInvoice`` element tree; ``scan=False`` leaves out the whole-document facts
    that only the rules read (:func:`_scan`: schemes, structure, empty elements), as a view needs none."""
    doc = Document(syntax="cii")
    _header(doc, root)
    tx = first(root, "rsm:SupplyChainTradeTransaction")
    if tx is not None:
        agreement = first(tx, "ram:ApplicableHeaderTradeAgreement")
        if agreement is not None:
            _agreement(doc, agreement)
        delivery = first(tx, "ram:ApplicableHeaderTradeDelivery")
        if delivery is not None:
            _delivery(doc, delivery)
        settlement = first(tx, "ram:ApplicableHeaderTradeSettlement")
        if settlement is not None:
            _settlement(doc, settlement)
        doc.lines = [_line(item) for item in tx.iterfind("ram:IncludedSupplyChainTradeLineItem", NS)]
    if scan:
        _scan(doc, root)
    return doc
