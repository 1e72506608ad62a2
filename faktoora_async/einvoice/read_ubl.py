"""The one reader of OASIS UBL 2.1 ``Invoice``/``CreditNote``: XML tree -> :class:`~.document.Document`.

Both the content model (:mod:`.parse`) and the rules (:mod:`.validate`) use what this module reads.
Reading never raises on a malformed invoice: what is missing stays ``None``/``False``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from lxml import etree

from .document import AllowanceCharge, Document, EmbeddedFile, Line, Party, PaymentMeans, Tax
from .read_cii import empty_elements
from .xmlread import NS, UBL_CREDIT_NOTE_ROOT, dec, first, has, raw, s, t

__all__ = ["read_ubl"]

_ZERO: Final = Decimal(0)
_NOTE_SUBJECT: Final = re.compile(r"^#[A-Z]{3}#")  # UBL's "#ADU#text" encoding of the subject code
_SUMS: Final = (
    ("line", "cbc:LineExtensionAmount"),
    ("allowance", "cbc:AllowanceTotalAmount"),
    ("charge", "cbc:ChargeTotalAmount"),
    ("basis", "cbc:TaxExclusiveAmount"),
    ("grand", "cbc:TaxInclusiveAmount"),
    ("prepaid", "cbc:PrepaidAmount"),
    ("rounding", "cbc:PayableRoundingAmount"),
    ("due", "cbc:PayableAmount"),
)


def _is_vat_scheme(el: etree._Element) -> bool:
    return (t(el, "cac:TaxScheme/cbc:ID") or "").upper() == "VAT"


def _party_taxes(party: Party, el: etree._Element) -> None:
    for scheme in el.iterfind("cac:PartyTaxScheme", NS):
        company = first(scheme, "cbc:CompanyID")
        if company is not None:
            party.any_tax_ids.append(company.text or "")
            if _is_vat_scheme(scheme):
                party.vat_ids.append(company.text or "")
        company_id = t(scheme, "cbc:CompanyID")
        if t(scheme, "cac:TaxScheme/cbc:ID") == "VAT":
            party.vat_id = party.vat_id or company_id
        else:
            party.tax_id = party.tax_id or company_id


def _party(el: etree._Element | None) -> Party:
    party = Party()
    if el is None:
        return party
    party.present = True
    party.name = s(el, "cac:PartyLegalEntity/cbc:RegistrationName")
    party.trading_name = s(el, "cac:PartyName/cbc:Name")
    address = first(el, "cac:PostalAddress")
    party.address_present = address is not None
    party.street = s(address, "cbc:StreetName")
    party.city = s(address, "cbc:CityName")
    party.postcode = s(address, "cbc:PostalZone")
    party.country = t(address, "cac:Country/cbc:IdentificationCode")
    contact = first(el, "cac:Contact")
    party.contact_present = contact is not None
    party.contact_name = s(contact, "cbc:Name")
    party.phone = s(contact, "cbc:Telephone")
    party.email = s(contact, "cbc:ElectronicMail")
    endpoint = first(el, "cbc:EndpointID")
    party.endpoint_present = endpoint is not None
    party.endpoint_scheme = (
        ((endpoint.get("schemeID") or "").strip() or None) if endpoint is not None else None
    )
    party.scheme_missing = endpoint is not None and endpoint.get("schemeID") is None
    party.electronic_address = s(endpoint)
    party.electronic_address_scheme = endpoint.get("schemeID") if endpoint is not None else None
    _party_taxes(party, el)
    party.legal_id = has(el, "cac:PartyLegalEntity/cbc:CompanyID")
    party.legal_registration_id = s(el, "cac:PartyLegalEntity/cbc:CompanyID")
    party.other_id = any(
        i.get("schemeID") != "SEPA" for i in el.iterfind("cac:PartyIdentification/cbc:ID", NS)
    )
    return party


def _allowance_charge(el: etree._Element) -> AllowanceCharge:
    indicator = t(el, "cbc:ChargeIndicator")
    amount_el = first(el, "cbc:Amount")
    cat = first(el, "cac:TaxCategory")
    return AllowanceCharge(
        charge=True if indicator == "true" else False if indicator == "false" else None,
        indicator_text=indicator,
        amount=dec(t(amount_el)),
        amount_present=amount_el is not None,
        base_present=has(el, "cbc:BaseAmount"),
        base=dec(t(el, "cbc:BaseAmount")),
        percent_present=has(el, "cbc:MultiplierFactorNumeric"),
        percent=dec(t(el, "cbc:MultiplierFactorNumeric")),
        category=t(cat, "cbc:ID"),
        category_present=cat is not None and _is_vat_scheme(cat) and has(cat, "cbc:ID"),
        rate=dec(t(cat, "cbc:Percent")),
        reason=has(el, "cbc:AllowanceChargeReason") or has(el, "cbc:AllowanceChargeReasonCode"),
        amount_text=t(amount_el),
        base_text=t(el, "cbc:BaseAmount"),
        percent_text=t(el, "cbc:MultiplierFactorNumeric"),
        rate_text=t(cat, "cbc:Percent"),
        reason_text=s(el, "cbc:AllowanceChargeReason"),
        reason_code=t(el, "cbc:AllowanceChargeReasonCode"),
    )


def _line(line: etree._Element, qty_tag: str) -> Line:
    qty = line.find(qty_tag, NS)
    price = first(line, "cac:Price")
    price_el = first(price, "cbc:PriceAmount") if price is not None else None
    price_ac = first(price, "cac:AllowanceCharge") if price is not None else None
    cat = first(line, "cac:Item/cac:ClassifiedTaxCategory")
    base = first(price, "cbc:BaseQuantity") if price is not None else None
    period = first(line, "cac:InvoicePeriod")
    net = first(line, "cbc:LineExtensionAmount")
    price_acs = price.iterfind("cac:AllowanceCharge", NS) if price is not None else ()
    return Line(
        line_id=t(line, "cbc:ID"),
        qty_present=qty is not None,
        qty=dec(t(qty)),
        unit=qty.get("unitCode") if qty is not None else None,
        net_present=net is not None,
        net=dec(t(net)),
        name=s(line, "cac:Item/cbc:Name"),
        price_present=price_el is not None,
        price=dec(t(price_el)),
        gross_present=has(price_ac, "cbc:BaseAmount"),
        gross=dec(t(price_ac, "cbc:BaseAmount")),
        price_discount=dec(t(price_ac, "cbc:Amount")),
        price_discount_present=has(price_ac, "cbc:Amount"),
        price_charge_flags=[t(ac, "cbc:ChargeIndicator") or "" for ac in price_acs],
        base_qty=dec(t(base)),
        base_qty_present=base is not None,
        base_qty_units=[base.get("unitCode") or ""]
        if base is not None and base.get("unitCode") is not None
        else [],
        tax_type="VAT" if cat is not None and _is_vat_scheme(cat) else None,
        category=t(cat, "cbc:ID"),
        category_present=cat is not None and _is_vat_scheme(cat) and has(cat, "cbc:ID"),
        rate=dec(t(cat, "cbc:Percent")),
        rate_present=has(cat, "cbc:Percent"),
        acs=[_allowance_charge(ac) for ac in line.iterfind("cac:AllowanceCharge", NS)],
        period_start=t(period, "cbc:StartDate"),
        period_end=t(period, "cbc:EndDate"),
        period_present=period is not None,
        description=s(line, "cac:Item/cbc:Description"),
        qty_text=t(qty),
        net_text=t(net),
        price_text=t(price_el),
        gross_text=t(price_ac, "cbc:BaseAmount"),
        price_discount_text=t(price_ac, "cbc:Amount"),
        base_qty_text=t(base),
        rate_text=t(cat, "cbc:Percent"),
        seller_item_id=t(line, "cac:Item/cac:SellersItemIdentification/cbc:ID"),
        base_qty_unit=base.get("unitCode") if base is not None else None,
    )


def _header(doc: Document, root: etree._Element) -> None:
    doc.spec_id = t(root, "cbc:CustomizationID")
    doc.process_id = t(root, "cbc:ProfileID")
    doc.process_present = first(root, "cbc:ProfileID") is not None
    doc.number = t(root, "cbc:ID")
    doc.issue_date = t(root, "cbc:IssueDate")
    doc.issue_date_ok = doc.issue_date is not None
    doc.type_code = t(root, "cbc:CreditNoteTypeCode" if doc.credit else "cbc:InvoiceTypeCode")
    doc.currency = t(root, "cbc:DocumentCurrencyCode")
    doc.tax_currency = t(root, "cbc:TaxCurrencyCode")
    doc.buyer_reference = t(root, "cbc:BuyerReference")
    notes = [n for n in (s(node) for node in root.iterfind("cbc:Note", NS)) if n]
    doc.note = "\n".join(_NOTE_SUBJECT.sub("", n) for n in notes) or None
    for note in root.iterfind("cbc:Note", NS):
        text = note.text or ""
        if "#" in text:
            code = text.split("#", 2)[1] if text.count("#") >= 2 else ""
            if len(code) == 3 and " " not in code:
                doc.subject_codes.append(code)
    doc.due_date = t(root, "cbc:DueDate") or t(root, "cac:PaymentMeans/cbc:PaymentDueDate")
    doc.preceding_number = t(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
    for ref in root.iterfind("cac:BillingReference/cac:InvoiceDocumentReference", NS):
        if t(ref, "cbc:ID") is None:
            doc.preceding_without_id += 1


def _parties(doc: Document, root: etree._Element) -> None:
    doc.seller = _party(first(root, "cac:AccountingSupplierParty/cac:Party"))
    doc.buyer = _party(first(root, "cac:AccountingCustomerParty/cac:Party"))
    rep = first(root, "cac:TaxRepresentativeParty")
    if rep is not None:
        doc.tax_rep_present = True
        doc.tax_rep_name = s(rep, "cac:PartyName/cbc:Name")
        doc.tax_rep_address = has(rep, "cac:PostalAddress")
        doc.tax_rep_country = t(rep, "cac:PostalAddress/cac:Country/cbc:IdentificationCode")
        doc.tax_rep_vat = any(
            _is_vat_scheme(x) and has(x, "cbc:CompanyID") for x in rep.iterfind("cac:PartyTaxScheme", NS)
        )
    for ref in root.iterfind("cac:AdditionalDocumentReference", NS):
        if t(ref, "cbc:ID") is None:
            doc.doc_refs_without_id += 1
        obj = first(ref, "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
        item = EmbeddedFile(
            filename=obj.get("filename") if obj is not None else None,
            mime_code=obj.get("mimeCode") if obj is not None else None,
            reference=t(ref, "cbc:ID"),
            description=s(ref, "cbc:DocumentDescription"),
            base64_text=obj.text if obj is not None else None,
            uri=t(ref, "cac:Attachment/cac:ExternalReference/cbc:URI"),
        )
        kind = t(ref, "cbc:DocumentTypeCode")
        if kind == "50":  # a CreditNote's project reference (BT-11)
            doc.project_reference = doc.project_reference or item.reference
        elif kind != "130":  # 130: the invoiced object identifier (BT-18)
            doc.documents.append(item)
        if obj is not None:
            doc.attachments.append((obj.get("filename"), obj.get("mimeCode")))
            doc.embedded.append(item)
    doc.order_reference = t(root, "cac:OrderReference/cbc:ID")
    doc.contract_reference = t(root, "cac:ContractDocumentReference/cbc:ID")
    doc.project_reference = t(root, "cac:ProjectReference/cbc:ID") or doc.project_reference
    doc.buyer_accounting_reference = t(root, "cbc:AccountingCost")
    doc.preceding_date = t(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate")
    for path in ("cac:AccountingSupplierParty/cac:Party", "cac:PayeeParty"):
        for ident in root.iterfind(f"{path}/cac:PartyIdentification/cbc:ID", NS):
            if ident.get("schemeID") == "SEPA" and doc.creditor_id is None:
                doc.creditor_id = t(ident)


def _delivery(doc: Document, root: etree._Element) -> None:
    delivery = first(root, "cac:Delivery")
    if delivery is not None:
        address = first(delivery, "cac:DeliveryLocation/cac:Address")
        doc.ship_to_name = s(delivery, "cac:DeliveryParty/cac:PartyName/cbc:Name")
        doc.ship_to_address = address is not None
        doc.ship_to_street = s(address, "cbc:StreetName")
        doc.ship_to_country = t(address, "cac:Country/cbc:IdentificationCode")
        doc.ship_to_city = s(address, "cbc:CityName")
        doc.ship_to_postcode = s(address, "cbc:PostalZone")
        doc.delivery_date = t(delivery, "cbc:ActualDeliveryDate")
    period = first(root, "cac:InvoicePeriod")
    if period is not None:
        doc.period_present = True
        doc.period_start = t(period, "cbc:StartDate")
        doc.period_end = t(period, "cbc:EndDate")


def _payment(doc: Document, root: etree._Element) -> None:
    for pm in root.iterfind("cac:PaymentMeans", NS):
        account = first(pm, "cac:PayeeFinancialAccount")
        code = first(pm, "cbc:PaymentMeansCode")
        doc.payment_means.append(
            PaymentMeans(
                code=t(code),
                code_present=code is not None,
                account_present=account is not None,
                account_id=t(account, "cbc:ID") is not None,
                card=has(pm, "cac:CardAccount"),
                mandate=has(pm, "cac:PaymentMandate"),
                information=(code.get("name") or None) if code is not None else None,
                iban=t(account, "cbc:ID"),
                bic=t(account, "cac:FinancialInstitutionBranch/cbc:ID"),
                account_name=s(account, "cbc:Name"),
                debited_account=t(pm, "cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID"),
            )
        )
    doc.mandate_id = has(root, "cac:PaymentMeans/cac:PaymentMandate/cbc:ID")
    doc.mandate_reference = t(root, "cac:PaymentMeans/cac:PaymentMandate/cbc:ID")
    doc.remittance = s(root, "cac:PaymentMeans/cbc:PaymentID")
    first_note = first(root, "cac:PaymentTerms/cbc:Note")
    doc.terms_first = first_note.text if first_note is not None else None
    texts = [d for n in root.iterfind("cac:PaymentTerms/cbc:Note", NS) if (d := raw(n))]
    doc.terms_description = "\n".join(texts) or None


def _tax(sub: etree._Element) -> Tax:
    cat = first(sub, "cac:TaxCategory")
    return Tax(
        type_code="VAT" if cat is not None and _is_vat_scheme(cat) else t(cat, "cac:TaxScheme/cbc:ID"),
        category=t(cat, "cbc:ID"),
        category_present=cat is not None and _is_vat_scheme(cat) and has(cat, "cbc:ID"),
        rate=dec(t(cat, "cbc:Percent")),
        rate_present=t(cat, "cbc:Percent") is not None,
        basis=dec(t(sub, "cbc:TaxableAmount")),
        basis_present=has(sub, "cbc:TaxableAmount"),
        amount=dec(t(sub, "cbc:TaxAmount")),
        amount_present=has(sub, "cbc:TaxAmount"),
        exemption=has(cat, "cbc:TaxExemptionReason") or has(cat, "cbc:TaxExemptionReasonCode"),
        exemption_code=t(cat, "cbc:TaxExemptionReasonCode"),
        rate_text=t(cat, "cbc:Percent"),
        basis_text=t(sub, "cbc:TaxableAmount"),
        amount_text=t(sub, "cbc:TaxAmount"),
        exemption_reason=s(cat, "cbc:TaxExemptionReason"),
    )


def _taxes_and_sums(doc: Document, root: etree._Element) -> None:
    for total in root.iterfind("cac:TaxTotal", NS):
        amount = first(total, "cbc:TaxAmount")
        subtotals = total.findall("cac:TaxSubtotal", NS)
        sub_sum = sum((dec(t(x, "cbc:TaxAmount")) or _ZERO for x in subtotals), _ZERO)
        currency = amount.get("currencyID") if amount is not None else None
        doc.tax_totals.append((currency, dec(t(amount)), bool(subtotals), sub_sum))
        if (value := t(amount)) is not None:
            doc.tax_total_texts.append((currency, value))
        doc.taxes.extend(_tax(sub) for sub in subtotals)
    sums = first(root, "cac:LegalMonetaryTotal")
    if sums is not None:
        doc.sums_present = True
        for key, tag in _SUMS:
            node = sums.find(tag, NS)
            if node is not None:
                doc.sums[key] = dec(node.text)
                doc.sum_texts[key] = t(node)


def _party_tax_scheme_counts(root: etree._Element) -> list[str]:
    """UBL-SR-12/13/18: at most one VAT / one other tax registration per party."""
    out: list[str] = []

    def count(party: str, vat: bool) -> int:
        n = 0
        for scheme in root.iterfind(f"{party}/cac:PartyTaxScheme", NS):
            scheme_id = first(scheme, "cac:TaxScheme/cbc:ID")
            if scheme_id is None or first(scheme, "cbc:CompanyID") is None:
                continue
            n += ((scheme_id.text or "").upper() == "VAT") == vat
        return n

    if count("cac:AccountingSupplierParty/cac:Party", True) > 1:
        out.append("UBL-SR-12")
    if count("cac:AccountingSupplierParty/cac:Party", False) > 1:
        out.append("UBL-SR-13")
    if count("cac:AccountingCustomerParty/cac:Party", True) > 1:
        out.append("UBL-SR-18")
    return out


def _scheme_ids(root: etree._Element) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path, rule in (
        (".//cac:PartyIdentification/cbc:ID[@schemeID]", "BR-CL-10"),
        (".//cac:PartyLegalEntity/cbc:CompanyID[@schemeID]", "BR-CL-11"),
        (".//cac:StandardItemIdentification/cbc:ID[@schemeID]", "BR-CL-21"),
        (".//cac:DeliveryLocation/cbc:ID[@schemeID]", "BR-CL-26"),
    ):
        for el in root.iterfind(path, NS):
            scheme = el.get("schemeID") or ""
            if rule == "BR-CL-10" and scheme.strip() == "SEPA":
                tags = {etree.QName(a).localname for a in el.iterancestors()}
                if "AccountingSupplierParty" in tags or "PayeeParty" in tags:
                    continue
            out.append((rule, scheme))
    return out


def _scan(doc: Document, root: etree._Element) -> None:
    """Whole-document facts: every VAT id, tax scheme, address scheme and identifier scheme."""
    for scheme in root.iter(f"{{{NS['cac']}}}PartyTaxScheme"):
        company_id = t(scheme, "cbc:CompanyID")
        if _is_vat_scheme(scheme) and first(scheme, "cbc:CompanyID") is not None:
            doc.all_vat_ids.append(company_id or "")
        if t(scheme, "cac:TaxScheme/cbc:ID") is None or first(scheme, "cbc:CompanyID") is None:
            doc.incomplete_tax_schemes += 1
    for endpoint in root.iter(f"{{{NS['cbc']}}}EndpointID"):
        if endpoint.get("schemeID") is not None:
            doc.endpoint_schemes.append(endpoint.get("schemeID") or "")
    doc.scheme_ids = _scheme_ids(root)
    doc.structure = _party_tax_scheme_counts(root)
    doc.empty_elements = empty_elements(root)


def read_ubl(root: etree._Element, *, scan: bool = True) -> Document:
    """Read a UBL ``Invoice`` or ``CreditNote`` element tree; ``scan=False`` leaves out the whole-document
    facts that only the rules read (:func:`_scan`), as a view needs none."""
    credit = root.tag == UBL_CREDIT_NOTE_ROOT
    doc = Document(syntax="ubl", credit=credit)
    _header(doc, root)
    _parties(doc, root)
    _delivery(doc, root)
    _payment(doc, root)
    doc.acs = [_allowance_charge(ac) for ac in root.iterfind("cac:AllowanceCharge", NS)]
    _taxes_and_sums(doc, root)
    line_tag, qty_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        if credit
        else ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    )
    doc.lines = [_line(line, qty_tag) for line in root.iterfind(line_tag, NS)]
    if scan:
        _scan(doc, root)
    return doc
