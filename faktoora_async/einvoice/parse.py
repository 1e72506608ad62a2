"""Read EN 16931 invoices: UN/CEFACT CII (D16B), OASIS UBL Invoice/CreditNote, and PDFs embedding one.

``parse_document(data)`` returns a :class:`ParsedInvoice` holding the invoice XML, its syntax, the content
model of :mod:`faktoora_async.einvoice.content` and the embedded attachments (BG-24, plus the other
files embedded in a PDF).  Anything that is not a readable CII/UBL invoice raises
:class:`~faktoora_async.einvoice.errors.DocumentError` with one sentence naming the reason.

XML is parsed with a hardened lxml parser: no DTD loading, no entity resolution, no network, and any
document carrying a ``<!DOCTYPE`` is refused outright (that closes XXE and "billion laughs").
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from lxml import etree

from .content import (
    DELIVERY_KEYS,
    LINE_KEYS,
    PARTY_KEYS,
    PAYMENT_MEANS_KEYS,
    TAX_KEYS,
    empty_content,
    keyed,
    summarize,
)
from .errors import DocumentError

__all__ = ["Attachment", "ParsedInvoice", "detect_syntax", "parse_document", "parse_xml"]

logger = logging.getLogger("faktoora_async.einvoice.parse")

CII_ROOT: Final = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice"
UBL_INVOICE_ROOT: Final = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
UBL_CREDIT_NOTE_ROOT: Final = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
ZUGFERD1_ROOT: Final = "{urn:ferd:CrossIndustryDocument:invoice:1p0}CrossIndustryDocument"

_UBL_NOTE_SUBJECT: Final = re.compile(r"^#[A-Z]{3}#")  # UBL's "#ADU#text" encoding of the subject code

INVOICE_ATTACHMENT_NAMES: Final = frozenset({"factur-x.xml", "xrechnung.xml", "zugferd-invoice.xml"})

NS: Final = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}

_MIME_BY_SUFFIX: Final = {
    ".pdf": "application/pdf",
    ".xml": "text/xml",
    ".csv": "text/csv",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".txt": "text/plain",
}


@dataclass(frozen=True)
class Attachment:
    """One embedded file (BG-24 binary object, or another file embedded in a PDF)."""

    id: str
    filename: str
    mime_type: str
    description: str | None
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class ParsedInvoice:
    """A readable EN 16931 invoice: its XML, syntax, content model and attachments."""

    syntax: str  # "cii" | "ubl"
    source_kind: str  # "xml" | "pdf"
    xml: bytes = field(repr=False)
    content: dict[str, Any] = field(repr=False)
    attachments: list[Attachment] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        """Key attributes: number, dates, type, currency, party names, totals, line count, syntax."""
        return summarize(self.content, self.syntax)


# --------------------------------------------------------------------------------------------- XML


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


_LOCAL = threading.local()  # lxml parser objects must not be shared between threads


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = _new_parser()
    return parser


def parse_xml(data: bytes, *, what: str = "the file") -> etree._Element:
    """Parse ``data`` with the hardened parser; refuse DOCTYPEs; raise ``DocumentError`` when unreadable."""
    if not data or not data.strip():
        raise DocumentError(f"{what} is empty.")
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!doctype" in head or b"<!ENTITY" in data:
        raise DocumentError(f"{what} contains a DOCTYPE or entity declaration, which is refused.")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"{what} is not well-formed XML ({exc.msg}).") from None
    except ValueError as exc:  # e.g. unicode strings with an encoding declaration
        raise DocumentError(f"{what} is not readable XML ({exc}).") from None
    if root is None:
        raise DocumentError(f"{what} holds no XML element.")
    if root.getroottree().docinfo.internalDTD is not None:
        raise DocumentError(f"{what} contains a DOCTYPE declaration, which is refused.")
    return root


def detect_syntax(root: etree._Element, *, what: str = "the file") -> str:
    """``"cii"`` or ``"ubl"`` from the root element, else ``DocumentError``."""
    tag = root.tag
    if tag == CII_ROOT:
        return "cii"
    if tag in (UBL_INVOICE_ROOT, UBL_CREDIT_NOTE_ROOT):
        return "ubl"
    if tag == ZUGFERD1_ROOT:
        raise DocumentError(
            f"{what} is a ZUGFeRD 1.0 invoice (root {tag}), which is not an EN 16931 CII or UBL invoice."
        )
    raise DocumentError(f"{what} is not a CII or UBL invoice: root element {tag}.")


# ------------------------------------------------------------------------------------------ values


def _text(el: etree._Element | None, path: str | None = None) -> str | None:
    if el is None:
        return None
    node = el.find(path, NS) if path else el
    if node is None or node.text is None:
        return None
    value = node.text.strip()
    return value or None


def _raw_text(el: etree._Element | None, path: str | None = None) -> str | None:
    """Text kept verbatim (payment terms: XRechnung's Skonto lines end with a line break); blank -> None."""
    if el is None:
        return None
    node = el.find(path, NS) if path else el
    if node is None or node.text is None or not node.text.strip():
        return None
    return node.text


def _texts(el: etree._Element | None, path: str) -> list[str]:
    if el is None:
        return []
    out = []
    for node in el.iterfind(path, NS):
        if node.text and node.text.strip():
            out.append(node.text.strip())
    return out


def _joined(el: etree._Element | None, path: str) -> str | None:
    values = _texts(el, path)
    return "\n".join(values) if values else None


def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def fmt_number(value: str | None) -> str | None:
    """A quantity or rate as a plain decimal string without trailing zeros; unreadable text as is."""
    number = _decimal(value)
    if number is None:
        return value
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def fmt_amount(value: str | None) -> str | None:
    """An amount as a plain decimal string with at least two decimals; unreadable text as is."""
    number = _decimal(value)
    if number is None:
        return value
    text = format(number.normalize(), "f")
    if "." not in text:
        return f"{text}.00"
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _amount(el: etree._Element | None, path: str) -> str | None:
    return fmt_amount(_text(el, path))


def _date_cii(el: etree._Element | None, path: str) -> str | None:
    return _text(el, path)


def _date_ubl(el: etree._Element | None, path: str) -> str | None:
    value = _text(el, path)
    return value.replace("-", "") if value else None


def _amount_in_currency(el: etree._Element | None, path: str, currency: str | None) -> str | None:
    if el is None:
        return None
    nodes = [n for n in el.iterfind(path, NS) if n.text and n.text.strip()]
    if not nodes:
        return None
    for node in nodes:
        if currency is not None and node.get("currencyID") == currency:
            return fmt_amount(node.text)
    without = [n for n in nodes if n.get("currencyID") is None]
    return fmt_amount((without or nodes)[0].text)


# ------------------------------------------------------------------------------------------- CII


def _cii_party(party: etree._Element | None) -> dict[str, Any]:
    if party is None:
        return keyed(PARTY_KEYS)
    uri = party.find("ram:URIUniversalCommunication/ram:URIID", NS)
    contact = party.find("ram:DefinedTradeContact", NS)
    vat_id = None
    tax_id = None
    for reg in party.iterfind("ram:SpecifiedTaxRegistration/ram:ID", NS):
        scheme = reg.get("schemeID")
        if scheme == "VA" and vat_id is None:
            vat_id = _text(reg)
        elif scheme == "FC" and tax_id is None:
            tax_id = _text(reg)
    return {
        "name": _text(party, "ram:Name"),
        "vatId": vat_id,
        "taxId": tax_id,
        "street": _text(party, "ram:PostalTradeAddress/ram:LineOne"),
        "postcode": _text(party, "ram:PostalTradeAddress/ram:PostcodeCode"),
        "city": _text(party, "ram:PostalTradeAddress/ram:CityName"),
        "country": _text(party, "ram:PostalTradeAddress/ram:CountryID"),
        "contactName": _text(contact, "ram:PersonName") or _text(contact, "ram:DepartmentName"),
        "phone": _text(contact, "ram:TelephoneUniversalCommunication/ram:CompleteNumber"),
        "email": _text(contact, "ram:EmailURIUniversalCommunication/ram:URIID"),
        "electronicAddress": _text(uri),
        "electronicAddressScheme": uri.get("schemeID") if uri is not None else None,
    }


def _cii_content(root: etree._Element) -> dict[str, Any]:
    content = empty_content()
    doc = root.find("rsm:ExchangedDocument", NS)
    tx = root.find("rsm:SupplyChainTradeTransaction", NS)
    agreement = tx.find("ram:ApplicableHeaderTradeAgreement", NS) if tx is not None else None
    delivery = tx.find("ram:ApplicableHeaderTradeDelivery", NS) if tx is not None else None
    settlement = tx.find("ram:ApplicableHeaderTradeSettlement", NS) if tx is not None else None
    currency = _text(settlement, "ram:InvoiceCurrencyCode")
    terms = settlement.findall("ram:SpecifiedTradePaymentTerms", NS) if settlement is not None else []
    due_dates = [d for t in terms if (d := _date_cii(t, "ram:DueDateDateTime/udt:DateTimeString"))]
    term_texts = [d for t in terms if (d := _raw_text(t, "ram:Description"))]
    content.update(
        invoiceNumber=_text(doc, "ram:ID"),
        issueDate=_date_cii(doc, "ram:IssueDateTime/udt:DateTimeString"),
        dueDate=due_dates[0] if due_dates else None,
        invoiceTypeCode=_text(doc, "ram:TypeCode"),
        currency=currency,
        buyerReference=_text(agreement, "ram:BuyerReference"),
        note=_joined(doc, "ram:IncludedNote/ram:Content"),
        precedingInvoiceNumber=_text(settlement, "ram:InvoiceReferencedDocument/ram:IssuerAssignedID"),
    )
    content["seller"] = _cii_party(
        agreement.find("ram:SellerTradeParty", NS) if agreement is not None else None
    )
    content["buyer"] = _cii_party(
        agreement.find("ram:BuyerTradeParty", NS) if agreement is not None else None
    )
    ship_to = delivery.find("ram:ShipToTradeParty", NS) if delivery is not None else None
    content["delivery"] = keyed(
        DELIVERY_KEYS,
        {
            "name": _text(ship_to, "ram:Name"),
            "street": _text(ship_to, "ram:PostalTradeAddress/ram:LineOne"),
            "postcode": _text(ship_to, "ram:PostalTradeAddress/ram:PostcodeCode"),
            "city": _text(ship_to, "ram:PostalTradeAddress/ram:CityName"),
            "country": _text(ship_to, "ram:PostalTradeAddress/ram:CountryID"),
            "date": _date_cii(
                delivery, "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString"
            ),
        },
    )
    lines = []
    for item in tx.iterfind("ram:IncludedSupplyChainTradeLineItem", NS) if tx is not None else ():
        qty = item.find("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", NS)
        line_tax = item.find("ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax", NS)
        lines.append(
            keyed(
                LINE_KEYS,
                {
                    "lineId": _text(item, "ram:AssociatedDocumentLineDocument/ram:LineID"),
                    "name": _text(item, "ram:SpecifiedTradeProduct/ram:Name"),
                    "description": _text(item, "ram:SpecifiedTradeProduct/ram:Description"),
                    "quantity": fmt_number(_text(qty)),
                    "unitCode": qty.get("unitCode") if qty is not None else None,
                    "netPrice": fmt_amount(
                        _text(
                            item,
                            "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount",
                        )
                    ),
                    "netAmount": _amount(
                        item,
                        "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation"
                        "/ram:LineTotalAmount",
                    ),
                    "vatCategory": _text(line_tax, "ram:CategoryCode"),
                    "vatRate": fmt_number(_text(line_tax, "ram:RateApplicablePercent")),
                },
            )
        )
    content["lineItems"] = lines
    content["taxes"] = [
        keyed(
            TAX_KEYS,
            {
                "category": _text(tax, "ram:CategoryCode"),
                "rate": fmt_number(_text(tax, "ram:RateApplicablePercent")),
                "basisAmount": _amount(tax, "ram:BasisAmount"),
                "taxAmount": _amount(tax, "ram:CalculatedAmount"),
                "exemptionReason": _text(tax, "ram:ExemptionReason"),
                "exemptionReasonCode": _text(tax, "ram:ExemptionReasonCode"),
            },
        )
        for tax in (settlement.iterfind("ram:ApplicableTradeTax", NS) if settlement is not None else ())
    ]
    sums = (
        settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
        if settlement is not None
        else None
    )
    content["totals"] = {
        "lineTotal": _amount(sums, "ram:LineTotalAmount"),
        "allowanceTotal": _amount(sums, "ram:AllowanceTotalAmount"),
        "chargeTotal": _amount(sums, "ram:ChargeTotalAmount"),
        "taxBasisTotal": _amount(sums, "ram:TaxBasisTotalAmount"),
        "taxTotal": _amount_in_currency(sums, "ram:TaxTotalAmount", currency),
        "grandTotal": _amount(sums, "ram:GrandTotalAmount"),
        "paidAmount": _amount(sums, "ram:TotalPrepaidAmount"),
        "roundingAmount": _amount(sums, "ram:RoundingAmount"),
        "duePayable": _amount(sums, "ram:DuePayableAmount"),
    }
    content["paymentTerms"] = {
        "description": "\n".join(term_texts) if term_texts else None,
        "dueDate": due_dates[0] if due_dates else None,
    }
    means = []
    for pm in (
        settlement.iterfind("ram:SpecifiedTradeSettlementPaymentMeans", NS) if settlement is not None else ()
    ):
        account = pm.find("ram:PayeePartyCreditorFinancialAccount", NS)
        means.append(
            keyed(
                PAYMENT_MEANS_KEYS,
                {
                    "typeCode": _text(pm, "ram:TypeCode"),
                    "information": _text(pm, "ram:Information"),
                    "iban": _text(account, "ram:IBANID") or _text(account, "ram:ProprietaryID"),
                    "bic": _text(pm, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
                    "accountName": _text(account, "ram:AccountName"),
                },
            )
        )
    content["paymentMeans"] = means
    return content


def _cii_attachments(root: etree._Element) -> list[tuple[str, str, str | None, bytes]]:
    out = []
    path = (
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:AdditionalReferencedDocument"
    )
    for ref in root.iterfind(path, NS):
        obj = ref.find("ram:AttachmentBinaryObject", NS)
        if obj is None:
            continue
        filename = obj.get("filename") or _text(ref, "ram:IssuerAssignedID") or "attachment"
        out.append((filename, obj.get("mimeCode") or "", _text(ref, "ram:Name"), _b64(obj.text, filename)))
    return out


# ------------------------------------------------------------------------------------------- UBL


def _ubl_party(party: etree._Element | None) -> dict[str, Any]:
    if party is None:
        return keyed(PARTY_KEYS)
    endpoint = party.find("cbc:EndpointID", NS)
    vat_id = None
    tax_id = None
    for scheme in party.iterfind("cac:PartyTaxScheme", NS):
        company_id = _text(scheme, "cbc:CompanyID")
        if _text(scheme, "cac:TaxScheme/cbc:ID") == "VAT":
            vat_id = vat_id or company_id
        else:
            tax_id = tax_id or company_id
    contact = party.find("cac:Contact", NS)
    address = party.find("cac:PostalAddress", NS)
    return {
        "name": _text(party, "cac:PartyLegalEntity/cbc:RegistrationName")
        or _text(party, "cac:PartyName/cbc:Name"),
        "vatId": vat_id,
        "taxId": tax_id,
        "street": _text(address, "cbc:StreetName"),
        "postcode": _text(address, "cbc:PostalZone"),
        "city": _text(address, "cbc:CityName"),
        "country": _text(address, "cac:Country/cbc:IdentificationCode"),
        "contactName": _text(contact, "cbc:Name"),
        "phone": _text(contact, "cbc:Telephone"),
        "email": _text(contact, "cbc:ElectronicMail"),
        "electronicAddress": _text(endpoint),
        "electronicAddressScheme": endpoint.get("schemeID") if endpoint is not None else None,
    }


def _ubl_content(root: etree._Element) -> dict[str, Any]:
    content = empty_content()
    credit = root.tag == UBL_CREDIT_NOTE_ROOT
    currency = _text(root, "cbc:DocumentCurrencyCode")
    due = _date_ubl(root, "cbc:DueDate") or _date_ubl(root, "cac:PaymentMeans/cbc:PaymentDueDate")
    content.update(
        invoiceNumber=_text(root, "cbc:ID"),
        issueDate=_date_ubl(root, "cbc:IssueDate"),
        dueDate=due,
        invoiceTypeCode=_text(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode"),
        currency=currency,
        buyerReference=_text(root, "cbc:BuyerReference"),
        note="\n".join(_UBL_NOTE_SUBJECT.sub("", n) for n in _texts(root, "cbc:Note")) or None,
        precedingInvoiceNumber=_text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
    )
    content["seller"] = _ubl_party(root.find("cac:AccountingSupplierParty/cac:Party", NS))
    content["buyer"] = _ubl_party(root.find("cac:AccountingCustomerParty/cac:Party", NS))
    delivery = root.find("cac:Delivery", NS)
    address = delivery.find("cac:DeliveryLocation/cac:Address", NS) if delivery is not None else None
    content["delivery"] = keyed(
        DELIVERY_KEYS,
        {
            "name": _text(delivery, "cac:DeliveryParty/cac:PartyName/cbc:Name"),
            "street": _text(address, "cbc:StreetName"),
            "postcode": _text(address, "cbc:PostalZone"),
            "city": _text(address, "cbc:CityName"),
            "country": _text(address, "cac:Country/cbc:IdentificationCode"),
            "date": _date_ubl(delivery, "cbc:ActualDeliveryDate"),
        },
    )
    line_tag, qty_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        if credit
        else (
            "cac:InvoiceLine",
            "cbc:InvoicedQuantity",
        )
    )
    lines = []
    for line in root.iterfind(line_tag, NS):
        qty = line.find(qty_tag, NS)
        category = line.find("cac:Item/cac:ClassifiedTaxCategory", NS)
        lines.append(
            keyed(
                LINE_KEYS,
                {
                    "lineId": _text(line, "cbc:ID"),
                    "name": _text(line, "cac:Item/cbc:Name"),
                    "description": _text(line, "cac:Item/cbc:Description"),
                    "quantity": fmt_number(_text(qty)),
                    "unitCode": qty.get("unitCode") if qty is not None else None,
                    "netPrice": _amount(line, "cac:Price/cbc:PriceAmount"),
                    "netAmount": _amount(line, "cbc:LineExtensionAmount"),
                    "vatCategory": _text(category, "cbc:ID"),
                    "vatRate": fmt_number(_text(category, "cbc:Percent")),
                },
            )
        )
    content["lineItems"] = lines
    taxes = []
    tax_total = None
    for total in root.iterfind("cac:TaxTotal", NS):
        amount = total.find("cbc:TaxAmount", NS)
        if amount is not None and (tax_total is None or amount.get("currencyID") == currency):
            tax_total = fmt_amount(_text(amount))
        for sub in total.iterfind("cac:TaxSubtotal", NS):
            cat = sub.find("cac:TaxCategory", NS)
            taxes.append(
                keyed(
                    TAX_KEYS,
                    {
                        "category": _text(cat, "cbc:ID"),
                        "rate": fmt_number(_text(cat, "cbc:Percent")),
                        "basisAmount": _amount(sub, "cbc:TaxableAmount"),
                        "taxAmount": _amount(sub, "cbc:TaxAmount"),
                        "exemptionReason": _text(cat, "cbc:TaxExemptionReason"),
                        "exemptionReasonCode": _text(cat, "cbc:TaxExemptionReasonCode"),
                    },
                )
            )
    content["taxes"] = taxes
    sums = root.find("cac:LegalMonetaryTotal", NS)
    content["totals"] = {
        "lineTotal": _amount(sums, "cbc:LineExtensionAmount"),
        "allowanceTotal": _amount(sums, "cbc:AllowanceTotalAmount"),
        "chargeTotal": _amount(sums, "cbc:ChargeTotalAmount"),
        "taxBasisTotal": _amount(sums, "cbc:TaxExclusiveAmount"),
        "taxTotal": tax_total,
        "grandTotal": _amount(sums, "cbc:TaxInclusiveAmount"),
        "paidAmount": _amount(sums, "cbc:PrepaidAmount"),
        "roundingAmount": _amount(sums, "cbc:PayableRoundingAmount"),
        "duePayable": _amount(sums, "cbc:PayableAmount"),
    }
    ubl_terms = [d for n in root.iterfind("cac:PaymentTerms/cbc:Note", NS) if (d := _raw_text(n))]
    content["paymentTerms"] = {"description": "\n".join(ubl_terms) or None, "dueDate": due}
    means = []
    for pm in root.iterfind("cac:PaymentMeans", NS):
        code = pm.find("cbc:PaymentMeansCode", NS)
        account = pm.find("cac:PayeeFinancialAccount", NS)
        means.append(
            keyed(
                PAYMENT_MEANS_KEYS,
                {
                    "typeCode": _text(code),
                    "information": (code.get("name") or None) if code is not None else None,
                    "iban": _text(account, "cbc:ID"),
                    "bic": _text(account, "cac:FinancialInstitutionBranch/cbc:ID"),
                    "accountName": _text(account, "cbc:Name"),
                },
            )
        )
    content["paymentMeans"] = means
    return content


def _ubl_attachments(root: etree._Element) -> list[tuple[str, str, str | None, bytes]]:
    out = []
    for ref in root.iterfind("cac:AdditionalDocumentReference", NS):
        obj = ref.find("cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS)
        if obj is None:
            continue
        filename = obj.get("filename") or _text(ref, "cbc:ID") or "attachment"
        out.append(
            (
                filename,
                obj.get("mimeCode") or "",
                _text(ref, "cbc:DocumentDescription"),
                _b64(obj.text, filename),
            )
        )
    return out


def _b64(text: str | None, filename: str) -> bytes:
    if not text:
        return b""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DocumentError(f"the embedded attachment {filename!r} is not valid base64.") from None


# ------------------------------------------------------------------------------------------- PDF


def _guess_mime(filename: str) -> str:
    lower = filename.lower()
    for suffix, mime in _MIME_BY_SUFFIX.items():
        if lower.endswith(suffix):
            return mime
    return "application/octet-stream"


def _pdf_files(data: bytes) -> list[tuple[str, bytes]]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        files: list[tuple[str, bytes]] = []
        for name, contents in reader.attachments.items():
            for blob in contents:
                files.append((name, blob))
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise DocumentError(f"the PDF cannot be read ({exc}).") from None
    return files


def _from_pdf(data: bytes) -> tuple[bytes, list[tuple[str, str, str | None, bytes]]]:
    files = _pdf_files(data)
    invoice = [i for i, (n, _) in enumerate(files) if n.lower() in INVOICE_ATTACHMENT_NAMES]
    if not invoice:
        names = ", ".join(sorted(n for n, _ in files)) or "none"
        raise DocumentError(
            "the PDF embeds no invoice XML (factur-x.xml, xrechnung.xml or zugferd-invoice.xml); "
            f"embedded files: {names}."
        )
    xml = files[invoice[0]][1]
    others: list[tuple[str, str, str | None, bytes]] = [
        (n, _guess_mime(n), None, b) for i, (n, b) in enumerate(files) if i != invoice[0]
    ]
    return xml, others


# ------------------------------------------------------------------------------------------ public


def _is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def parse_document(data: bytes) -> ParsedInvoice:
    """Parse CII, UBL Invoice/CreditNote or a PDF embedding one; raise ``DocumentError`` otherwise."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DocumentError("the document must be given as bytes.")
    data = bytes(data)
    if not data.strip():
        raise DocumentError("the file is empty.")
    extra: list[tuple[str, str, str | None, bytes]] = []
    if _is_pdf(data):
        xml, extra = _from_pdf(data)
        source_kind = "pdf"
        what = "the invoice XML embedded in the PDF"
    else:
        xml = data
        source_kind = "xml"
        what = "the file"
    root = parse_xml(xml, what=what)
    syntax = detect_syntax(root, what=what)
    content = _cii_content(root) if syntax == "cii" else _ubl_content(root)
    embedded = _cii_attachments(root) if syntax == "cii" else _ubl_attachments(root)
    attachments = _number_attachments(embedded + extra)
    logger.debug(
        "parsed %s invoice %s from %s (%d lines, %d attachments)",
        syntax,
        content.get("invoiceNumber"),
        source_kind,
        len(content["lineItems"]),
        len(attachments),
    )
    return ParsedInvoice(
        syntax=syntax, source_kind=source_kind, xml=xml, content=content, attachments=attachments
    )


def _number_attachments(items: Iterable[tuple[str, str, str | None, bytes]]) -> list[Attachment]:
    return [
        Attachment(
            id=str(index),
            filename=filename,
            mime_type=mime or _guess_mime(filename),
            description=description,
            content=blob,
        )
        for index, (filename, mime, description, blob) in enumerate(items, start=1)
    ]
