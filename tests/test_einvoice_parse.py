"""parse_document: every shared sample parses to the values in its own XML (read here with independent XPath).

The expected values never come from the parser: the tests read them from the XML with lxml XPath
(and from PDFs with pypdf's attachment API), then compare with ``ParsedInvoice``.
"""

# ruff: noqa: E501
from __future__ import annotations

import base64
import io
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from faktoora_async.einvoice.errors import DocumentError
from faktoora_async.einvoice.parse import Attachment, ParsedInvoice, parse_document

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
INDEX_ROW = re.compile(r"^\| (\S+\.(?:xml|pdf)) \| ([^|]+) \| ([^|]+) \|")
UNREADABLE = {
    "ZUGFeRD+corpus/ZUGFeRDv2/fail/Mustangproject/factur-x-invalid-xml-encoding-attribute.pdf": "not well-formed",
}
ZUGFERD1_SAMPLE = "ZUGFeRD+corpus/ZUGFeRDv1/correct/Intarsys/ZUGFeRD_1p0_BASIC_Einfach.pdf"


def _index_rows() -> list[tuple[str, str, str]]:
    shared = Path(os.environ.get("FAKTOORA_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    index = shared / "samples" / "INDEX.md"
    if not index.exists():
        return [("missing-shared-dir", "xml", "cii")]
    rows = []
    for line in index.read_text(encoding="utf-8").splitlines():
        match = INDEX_ROW.match(line)
        if match:
            rows.append((match.group(1), match.group(2).strip(), match.group(3).strip()))
    return rows


ROWS = _index_rows()
READABLE = [r for r in ROWS if r[2] in ("cii", "ubl")]


def _embedded_xml(pdf: bytes) -> bytes:
    """The invoice XML of a PDF via pypdf's attachment API (independent of the parser)."""
    from pypdf import PdfReader

    attachments = PdfReader(io.BytesIO(pdf)).attachments
    for name, blobs in attachments.items():
        if name.lower() in ("factur-x.xml", "xrechnung.xml", "zugferd-invoice.xml"):
            return blobs[0]
    raise AssertionError(f"no invoice XML among {list(attachments)}")


def _s(root: etree._Element, path: str) -> str | None:
    value = root.xpath(f"normalize-space(({path})[1])", namespaces=NS)
    assert isinstance(value, str)
    return value or None


def _d(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def expected_values(xml: bytes) -> dict[str, Any]:
    """Key values of an invoice, read with XPath straight from the XML."""
    root = etree.fromstring(xml)
    if root.tag.endswith("CrossIndustryInvoice"):
        settle = "//ram:ApplicableHeaderTradeSettlement"
        sums = f"{settle}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
        currency = _s(root, f"{settle}/ram:InvoiceCurrencyCode")
        taxes = [
            (
                _s(t, "ram:CategoryCode"),
                _d(_s(t, "ram:RateApplicablePercent")),
                _d(_s(t, "ram:BasisAmount")),
                _d(_s(t, "ram:CalculatedAmount")),
            )
            for t in root.xpath(f"{settle}/ram:ApplicableTradeTax", namespaces=NS)
        ]
        attachments = [
            (o.get("filename"), len(base64.b64decode("".join((o.text or "").split()))))
            for o in root.xpath(
                "//ram:AdditionalReferencedDocument/ram:AttachmentBinaryObject", namespaces=NS
            )
        ]
        return {
            "invoiceNumber": _s(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID"),
            "issueDate": _s(root, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"),
            "invoiceTypeCode": _s(root, "//rsm:ExchangedDocument/ram:TypeCode"),
            "currency": currency,
            "sellerName": _s(root, "//ram:SellerTradeParty/ram:Name"),
            "buyerName": _s(root, "//ram:BuyerTradeParty/ram:Name"),
            "lineCount": int(root.xpath("count(//ram:IncludedSupplyChainTradeLineItem)", namespaces=NS)),
            "taxes": taxes,
            "lineTotal": _d(_s(root, f"{sums}/ram:LineTotalAmount")),
            "taxBasisTotal": _d(_s(root, f"{sums}/ram:TaxBasisTotalAmount")),
            "taxTotal": _d(_s(root, f"{sums}/ram:TaxTotalAmount[@currencyID='{currency}']"))
            or _d(_s(root, f"{sums}/ram:TaxTotalAmount")),
            "grandTotal": _d(_s(root, f"{sums}/ram:GrandTotalAmount")),
            "duePayable": _d(_s(root, f"{sums}/ram:DuePayableAmount")),
            "attachments": attachments,
        }
    currency = _s(root, "/*/cbc:DocumentCurrencyCode")
    taxes = [
        (
            _s(t, "cac:TaxCategory/cbc:ID"),
            _d(_s(t, "cac:TaxCategory/cbc:Percent")),
            _d(_s(t, "cbc:TaxableAmount")),
            _d(_s(t, "cbc:TaxAmount")),
        )
        for t in root.xpath("/*/cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
    ]
    attachments = [
        (o.get("filename"), len(base64.b64decode("".join((o.text or "").split()))))
        for o in root.xpath(
            "/*/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject",
            namespaces=NS,
        )
    ]
    issue = _s(root, "/*/cbc:IssueDate")
    return {
        "invoiceNumber": _s(root, "/*/cbc:ID"),
        "issueDate": issue.replace("-", "") if issue else None,
        "invoiceTypeCode": _s(root, "/*/cbc:InvoiceTypeCode | /*/cbc:CreditNoteTypeCode"),
        "currency": currency,
        "sellerName": _s(
            root, "/*/cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName"
        ),
        "buyerName": _s(
            root, "/*/cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName"
        ),
        "lineCount": int(root.xpath("count(/*/cac:InvoiceLine | /*/cac:CreditNoteLine)", namespaces=NS)),
        "taxes": taxes,
        "lineTotal": _d(_s(root, "/*/cac:LegalMonetaryTotal/cbc:LineExtensionAmount")),
        "taxBasisTotal": _d(_s(root, "/*/cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount")),
        "taxTotal": _d(_s(root, f"/*/cac:TaxTotal/cbc:TaxAmount[@currencyID='{currency}']")),
        "grandTotal": _d(_s(root, "/*/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount")),
        "duePayable": _d(_s(root, "/*/cac:LegalMonetaryTotal/cbc:PayableAmount")),
        "attachments": attachments,
    }


def actual_values(parsed: ParsedInvoice) -> dict[str, Any]:
    c = parsed.content
    totals = c["totals"]
    return {
        "invoiceNumber": c["invoiceNumber"],
        "issueDate": c["issueDate"],
        "invoiceTypeCode": c["invoiceTypeCode"],
        "currency": c["currency"],
        "sellerName": c["seller"]["name"],
        "buyerName": c["buyer"]["name"],
        "lineCount": len(c["lineItems"]),
        "taxes": [
            (t["category"], _d(t["rate"]), _d(t["basisAmount"]), _d(t["taxAmount"])) for t in c["taxes"]
        ],
        "lineTotal": _d(totals["lineTotal"]),
        "taxBasisTotal": _d(totals["taxBasisTotal"]),
        "taxTotal": _d(totals["taxTotal"]),
        "grandTotal": _d(totals["grandTotal"]),
        "duePayable": _d(totals["duePayable"]),
        "attachments": [(a.filename, len(a.content)) for a in parsed.attachments],
    }


@pytest.mark.parametrize(
    ("name", "kind", "syntax"), READABLE, ids=[r[0].rsplit("/", 1)[-1] for r in READABLE]
)
def test_sample_parses_to_its_own_values(samples_dir: Path, name: str, kind: str, syntax: str) -> None:
    data = (samples_dir / name).read_bytes()
    parsed = parse_document(data)
    xml = _embedded_xml(data) if kind.startswith("pdf") else data
    expected = expected_values(xml)
    assert parsed.syntax == syntax
    assert parsed.source_kind == ("pdf" if kind.startswith("pdf") else "xml")
    assert parsed.xml == xml
    assert actual_values(parsed) == expected
    summary = parsed.summary()
    assert summary["invoiceNumber"] == expected["invoiceNumber"]
    assert summary["lineCount"] == expected["lineCount"]
    assert summary["syntax"] == syntax
    assert _d(summary["grandTotal"]) == expected["grandTotal"]


def test_index_lists_the_samples(samples_dir: Path) -> None:
    assert len(READABLE) >= 40
    assert {r[0] for r in ROWS} >= set(UNREADABLE)


def test_attachment_of_kosit_case_01_15(samples_dir: Path) -> None:
    base = samples_dir / "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard"
    for name in ("01.15a-INVOICE_uncefact.xml", "01.15a-INVOICE_ubl.xml"):
        parsed = parse_document((base / name).read_bytes())
        assert len(parsed.attachments) == 1
        att = parsed.attachments[0]
        assert isinstance(att, Attachment)
        assert (att.id, att.filename, att.mime_type) == ("1", "01_15_Anhang_01.pdf", "application/pdf")
        assert att.description == "Aufschlüsselung der einzelnen Leistungspositionen"
        assert att.content.startswith(b"%PDF-")
        assert len(att.content) == 150128


KOSIT_PAIRS = [
    "01.01a",
    "01.05a",
    "01.07a",
    "01.14a",
    "01.15a",
    "01.18a",
    "01.19a",
    "03.03a",
]
# In these three cases the KoSIT test suite's UBL and CII files themselves carry different data in a few
# fields (checked by hand in the XML): everything else must still be equal.
KOSIT_PAIRS_WITH_DATA_DIFFERENCES = {
    # the UBL files carry the placeholder order reference "Dummywert" (their OrderReference needs an ID)
    "01.02a": {"purchaseOrderReference"},
    "01.10a": {"purchaseOrderReference"},
    "01.20a": {
        "seller.street",
        "seller.city",
        "totals.allowanceTotal",
        "totals.chargeTotal",
        "totals.paidAmount",
    },
    "01.21a": {
        "seller.vatId",
        "taxes.0.exemptionReason",
        "totals.allowanceTotal",
        "paymentMeans.0.information",
    },
    "03.06a": {"seller.postcode", "seller.city", "buyer.postcode", "buyer.city", "note"},
}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list):
        out = {f"{prefix}len": len(value)}
        for i, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}{i}."))
        return out
    return {prefix.rstrip("."): value}


@pytest.mark.parametrize("case", KOSIT_PAIRS + sorted(KOSIT_PAIRS_WITH_DATA_DIFFERENCES))
def test_ubl_and_cii_of_one_kosit_case_parse_to_equal_content(samples_dir: Path, case: str) -> None:
    base = samples_dir / "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard"
    ubl = parse_document((base / f"{case}-INVOICE_ubl.xml").read_bytes())
    cii = parse_document((base / f"{case}-INVOICE_uncefact.xml").read_bytes())
    assert (ubl.syntax, cii.syntax) == ("ubl", "cii")
    ignore = KOSIT_PAIRS_WITH_DATA_DIFFERENCES.get(case, set())
    left = {k: v for k, v in _flatten(ubl.content).items() if k not in ignore}
    right = {k: v for k, v in _flatten(cii.content).items() if k not in ignore}
    assert left == right
    assert len(left) > 60


def test_minimal_cius_pair_is_equal(samples_dir: Path) -> None:
    base = samples_dir / "itplr-kosit+xrechnung-testsuite/src/test/technical-cases/cius"
    ubl = parse_document((base / "01.06_minimal_test_ubl.xml").read_bytes())
    cii = parse_document((base / "01.06_minimal_test_uncefact.xml").read_bytes())
    assert ubl.content == cii.content


def test_content_model_shape(samples_dir: Path) -> None:
    parsed = parse_document(
        (
            samples_dir
            / "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard/01.07a-INVOICE_ubl.xml"
        ).read_bytes()
    )
    c = parsed.content
    assert set(c) == {
        "invoiceNumber", "issueDate", "dueDate", "invoiceTypeCode", "currency", "buyerReference", "note",
        "precedingInvoiceNumber", "seller", "buyer", "delivery", "lineItems", "taxes", "totals",
        "paymentTerms", "paymentMeans",
        # issue 13: the extended business terms
        "specificationId", "projectReference", "contractReference", "purchaseOrderReference",
        "buyerAccountingReference", "precedingInvoiceDate", "remittanceInformation", "taxCurrency",
        "invoicingPeriod", "allowances", "charges", "directDebit", "attachments",
    }  # fmt: skip
    assert set(c["seller"]) == set(c["buyer"]) >= {"name", "vatId", "street", "postcode", "city", "country"}
    assert "legalRegistrationId" in c["seller"]
    assert set(c["lineItems"][0]) == {
        "lineId", "name", "description", "quantity", "unitCode", "netPrice", "netAmount", "vatCategory", "vatRate",
        "productId", "grossPrice", "priceDiscount", "priceBaseQuantity", "priceBaseQuantityUnitCode",
        "invoicingPeriod", "allowances", "charges",
    }  # fmt: skip
    assert "taxTotalInTaxCurrency" in c["totals"]
    assert c["dueDate"] == "20160814"
    assert c["paymentTerms"]["dueDate"] == "20160814"
    assert c["paymentMeans"][0]["iban"] is not None
    assert c["totals"]["grandTotal"] == "45.22"
    # JSON-ready: strings, None, lists and dicts only
    for key, value in _flatten(c).items():
        assert value is None or isinstance(value, (str, int)), key


# ------------------------------------------------------------------------------------ unreadable


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_samples_raise_document_error(samples_dir: Path, name: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_document((samples_dir / name).read_bytes())
    assert UNREADABLE[name] in info.value.reason
    assert info.value.reason.endswith(".")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<Invoice><ID>1</ID>", "not well-formed"),
        (b"just some text", "not well-formed"),
        (b"<?xml version='1.0'?><order xmlns='urn:example'><id>1</id></order>", "not a CII or UBL invoice"),
        (
            b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
            b"<rsm:CrossIndustryInvoice xmlns:rsm='urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100'>"
            b"&x;</rsm:CrossIndustryInvoice>",
            "DOCTYPE",
        ),
        (
            b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
            b"<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
            b"<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]><lolz>&lol3;</lolz>",
            "DOCTYPE",
        ),
        (b"%PDF-1.4\nnot really a pdf", "PDF"),
    ],
    ids=["empty", "blank", "truncated", "text", "other-xml", "xxe", "billion-laughs", "broken-pdf"],
)
def test_unreadable_inputs_raise_document_error(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(data)
    assert reason in info.value.reason


def test_pdf_without_invoice_xml_raises() -> None:
    from faktoora_async.einvoice.content import empty_content
    from faktoora_async.einvoice.pdf import render_content_pdf

    content = empty_content()
    content["invoiceNumber"] = "NO-XML-1"
    pdf = render_content_pdf(content)
    with pytest.raises(DocumentError) as info:
        parse_document(pdf)
    assert "embeds no invoice XML" in info.value.reason


# ------------------------------------------------------------------------------------ round trip


def _generated(n: int) -> list[dict[str, Any]]:
    from faktoora_async.einvoice.generate import generate_invoices

    return list(generate_invoices(n, seed=11))


@pytest.mark.parametrize("syntax", ["cii", "ubl"])
def test_round_trip_of_generated_invoices(syntax: str) -> None:
    from faktoora_async.einvoice.cii import render_cii
    from faktoora_async.einvoice.totals import compute_totals
    from faktoora_async.einvoice.ubl import render_ubl

    render = render_cii if syntax == "cii" else render_ubl
    checked_lines = 0
    for invoice in _generated(40):
        parsed = parse_document(render(invoice))
        c = parsed.content
        assert parsed.syntax == syntax
        assert c["invoiceNumber"] == invoice["invoiceNumber"]
        assert c["issueDate"] == invoice["issueDate"]
        assert c["dueDate"] == invoice.get("dueDate")
        assert c["currency"] == invoice["currency"]
        assert c["invoiceTypeCode"] == str(invoice["invoiceTypeCode"])
        assert c["buyerReference"] == invoice["buyerReference"]
        assert c["precedingInvoiceNumber"] == invoice.get("precedingInvoiceNumber")
        assert c["note"] == invoice.get("note")
        assert c["paymentTerms"]["description"] == invoice.get("paymentTerms")
        assert c["delivery"]["date"] == invoice.get("deliveryDate")
        for role in ("seller", "buyer"):
            for key in ("name", "street", "postcode", "city", "country", "vatId", "contactName", "phone", "email",
                        "electronicAddress"):  # fmt: skip
                assert c[role][key] == invoice[role].get(key), (role, key)
            assert c[role]["taxId"] == invoice[role].get("taxId"), role
            expected_scheme = invoice[role].get("electronicAddressScheme")
            if (
                invoice[role].get("electronicAddress")
                and not expected_scheme
                and "@" in invoice[role]["electronicAddress"]
            ):
                expected_scheme = "EM"  # the renderers' documented default for e-mail addresses
            assert c[role]["electronicAddressScheme"] == expected_scheme, role
        if (
            invoice.get("paymentMeansCode") == "59"
        ):  # SEPA direct debit: BG-19, no credit transfer (BR-DE-25-b)
            assert c["directDebit"] == invoice["directDebit"]
            assert c["paymentMeans"][0]["iban"] is None
        elif invoice["seller"].get("iban"):
            assert c["paymentMeans"][0]["iban"] == invoice["seller"]["iban"]
            assert c["paymentMeans"][0]["bic"] == invoice["seller"].get("bic")
        assert c["paymentMeans"][0]["typeCode"] == invoice["paymentMeansCode"]
        assert len(c["lineItems"]) == len(invoice["invoiceItems"])
        for line, item in zip(c["lineItems"], invoice["invoiceItems"], strict=True):
            product = item["product"]
            tax = product["taxes"][0]
            assert line["lineId"] == item["id"]
            assert line["name"] == product["name"]
            assert line["description"] == product.get("description")
            assert Decimal(line["quantity"]) == Decimal(str(product["quantity"]))
            assert line["unitCode"] == product.get("unitCode", "C62")
            assert Decimal(line["netPrice"]) == Decimal(str(product["price"]))
            assert line["vatCategory"] == tax["categoryCode"]
            if tax["categoryCode"] == "O":
                assert line["vatRate"] is None
            else:
                assert Decimal(line["vatRate"]) == Decimal(str(tax["rate"]))
            checked_lines += 1
        totals = compute_totals(invoice)
        for line, amount in zip(c["lineItems"], totals.lines, strict=True):
            assert Decimal(line["netAmount"]) == amount.net_amount
        assert [
            (
                t["category"],
                t["rate"] and Decimal(t["rate"]),
                Decimal(t["basisAmount"]),
                Decimal(t["taxAmount"]),
            )
            for t in c["taxes"]
        ] == [(g.category, g.rate, g.basis, g.tax) for g in totals.vat]
        assert [(t["exemptionReason"], t["exemptionReasonCode"]) for t in c["taxes"]] == [
            (g.exemption_reason, g.exemption_reason_code) for g in totals.vat
        ]
        t = c["totals"]
        assert Decimal(t["lineTotal"]) == totals.line_total
        assert Decimal(t["taxBasisTotal"]) == totals.tax_basis_total
        assert Decimal(t["taxTotal"]) == totals.tax_total
        assert Decimal(t["grandTotal"]) == totals.grand_total
        assert Decimal(t["duePayable"]) == totals.due_payable
    assert checked_lines > 100


def test_parse_throughput_is_reported(samples_dir: Path) -> None:
    """Not a timing assert: parses the same documents repeatedly and checks the results stay identical."""
    data = (samples_dir / "ZUGFeRD+corpus/XML-Rechnung/FX/EN16931_Rabatte.pdf").read_bytes()
    first = parse_document(data)
    for _ in range(5):
        again = parse_document(data)
        assert again.content == first.content
        assert again.xml == first.xml


def test_parsing_from_many_threads_gives_the_same_content(samples_dir: Path) -> None:
    """The sandbox parses in a worker-thread pool: results must not depend on the thread."""
    from concurrent.futures import ThreadPoolExecutor

    datas = [(samples_dir / name).read_bytes() for name, _kind, _syntax in READABLE]
    sequential = [parse_document(d).content for d in datas]
    with ThreadPoolExecutor(max_workers=6) as pool:
        threaded = list(pool.map(lambda d: parse_document(d).content, datas * 3))
    assert threaded == sequential * 3


def test_pdf_attachments_besides_the_invoice_xml_are_listed() -> None:
    from facturx import generate_from_binary

    from faktoora_async.einvoice.cii import render_cii
    from faktoora_async.einvoice.pdf import render_content_pdf

    invoice = _generated(1)[0]
    xml = render_cii(invoice)
    visual = render_content_pdf(parse_document(xml).content)
    pdf = generate_from_binary(
        visual,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,
        attachments={"timesheet.csv": {"filedata": b"day;hours\n1;8\n", "description": "Timesheet"}},
    )
    parsed = parse_document(pdf)
    assert parsed.source_kind == "pdf"
    assert parsed.xml == xml
    assert [(a.id, a.filename, a.mime_type, a.content) for a in parsed.attachments] == [
        ("1", "timesheet.csv", "text/csv", b"day;hours\n1;8\n")
    ]


# ------------------------------------------------------------------------------------ ZUGFeRD 1.0


def test_zugferd_1_pdf_is_read_for_import(samples_dir: Path) -> None:
    """ZUGFeRD 1.0 (issue 13: import reads it instead of refusing it); expected values via XPath."""
    from faktoora_async.einvoice.validate import validate_document

    data = (samples_dir / ZUGFERD1_SAMPLE).read_bytes()
    parsed = parse_document(data)
    root = etree.fromstring(_embedded_xml(data))
    ns = {
        "rsm": "urn:ferd:CrossIndustryDocument:invoice:1p0",
        "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12",
        "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15",
    }

    def x(path: str) -> str | None:
        value = root.xpath(f"normalize-space(({path})[1])", namespaces=ns)
        return value or None

    c = parsed.content
    assert parsed.syntax == "zugferd1" and parsed.source_kind == "pdf"
    assert c["invoiceNumber"] == x("//rsm:HeaderExchangedDocument/ram:ID")
    assert c["issueDate"] == x("//rsm:HeaderExchangedDocument/ram:IssueDateTime/udt:DateTimeString")
    assert c["invoiceTypeCode"] == x("//rsm:HeaderExchangedDocument/ram:TypeCode")
    assert c["seller"]["name"] == x("//ram:SellerTradeParty/ram:Name")
    assert c["seller"]["vatId"] == x(
        "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"
    )
    assert c["buyer"]["city"] == x("//ram:BuyerTradeParty/ram:PostalTradeAddress/ram:CityName")
    assert c["currency"] == x("//ram:InvoiceCurrencyCode")
    assert c["remittanceInformation"] == x("//ram:PaymentReference")
    assert c["paymentMeans"][0]["iban"] == x("//ram:PayeePartyCreditorFinancialAccount/ram:IBANID")
    sums = "//ram:ApplicableSupplyChainTradeSettlement/ram:SpecifiedTradeSettlementMonetarySummation"
    for key, tag in (
        ("lineTotal", "LineTotalAmount"),
        ("taxTotal", "TaxTotalAmount"),
        ("grandTotal", "GrandTotalAmount"),
    ):
        assert Decimal(c["totals"][key]) == Decimal(str(x(f"{sums}/ram:{tag}"))), key
    assert [Decimal(t["rate"]) for t in c["taxes"]] == [
        Decimal(str(x("//ram:ApplicableTradeTax/ram:ApplicablePercent")))
    ]
    line_count = int(root.xpath("count(//ram:IncludedSupplyChainTradeLineItem)", namespaces=ns))
    assert len(c["lineItems"]) == line_count
    assert Decimal(c["lineItems"][0]["quantity"]) == Decimal(str(x("//ram:BilledQuantity")))
    assert c["lineItems"][0]["productId"] == x("//ram:SpecifiedTradeProduct/ram:SellerAssignedID")
    verdict = validate_document(parsed)
    assert not verdict.accepted and verdict.error_ids() == {"FAKTOORA-ZUGFERD1"}
    assert validate_document(_embedded_xml(data)).error_ids() == {"FAKTOORA-ZUGFERD1"}
