"""PDF output: the invoice view, Factur-X PDF/A-3 embedding, and the validation report.

Every check reads the PDFs back with pypdf (text extraction, the attachment API, XMP metadata), never
with the parser under test, except where the parser itself is what is being checked.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from faktoora_async.einvoice.parse import parse_document
from faktoora_async.einvoice.pdf import render_content_pdf, render_facturx_pdf, render_validation_report_pdf
from faktoora_async.einvoice.validate import Message, Verdict, validate_document


def _generated(n: int, **kwargs: Any) -> list[dict[str, Any]]:
    from faktoora_async.einvoice.generate import generate_invoices

    return list(generate_invoices(n, seed=404, **kwargs))


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def test_content_pdf_shows_the_invoice(samples_dir: Path) -> None:
    data = (
        samples_dir
        / "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard/01.05a-INVOICE_ubl.xml"
    ).read_bytes()
    content = parse_document(data).content
    pdf = render_content_pdf(content)
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4
    text = _text(pdf)
    assert "PRG1502112" in text
    assert "24.04.2015" in text  # issue date
    assert content["seller"]["name"] in text and content["buyer"]["name"] in text
    for line in content["lineItems"]:
        assert line["netAmount"] in text
    assert "10555.30 EUR" in text  # grand total
    assert "1685.30 EUR" in text  # VAT total
    assert content["paymentMeans"][0]["iban"] in text


def test_content_pdf_with_500_lines_continues_over_pages() -> None:
    invoice = _generated(1, lines=1)[0]
    from faktoora_async.einvoice.cii import render_cii

    content = parse_document(render_cii(invoice)).content
    template = content["lineItems"][0]
    content["lineItems"] = [
        {**template, "lineId": str(i), "name": f"Artikel Nummer {i:04d}"} for i in range(1, 501)
    ]
    pdf = render_content_pdf(content)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 10
    text = _text(pdf)
    assert "Artikel Nummer 0001" in text and "Artikel Nummer 0500" in text
    # the table header is repeated on the following pages
    assert "Bezeichnung / Item" in (reader.pages[5].extract_text() or "")
    assert content["invoiceNumber"] in (reader.pages[-1].extract_text() or "")  # footer on every page


def test_content_pdf_line_taller_than_a_page_is_split_over_pages() -> None:
    """A payload may carry a 2,000-character description of short lines: the row must split, not fail."""
    from faktoora_async.einvoice.cii import render_cii

    invoice = _generated(1, lines=3)[0]
    for item in invoice["invoiceItems"]:
        item["product"]["description"] = "".join(f"Zeile {k:03d}\n" for k in range(200))[:2000]
    content = parse_document(render_cii(invoice)).content
    pdf = render_content_pdf(content)
    text = _text(pdf)
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 4
    assert text.count("Zeile 000") == 3 and text.count("Zeile 199") == 3
    assert f"{Decimal(content['totals']['grandTotal']):.2f}" in text


def test_content_pdf_tolerates_missing_values_and_odd_characters() -> None:
    from faktoora_async.einvoice.content import empty_content

    content = empty_content()
    content["invoiceNumber"] = "X<&>-1"
    content["seller"]["name"] = "Müller & Söhne <GmbH> 名前"
    content["lineItems"] = [{"lineId": "1", "name": None, "quantity": None, "netAmount": None}]
    text = _text(render_content_pdf(content))
    assert "X<&>-1" in text
    assert "Müller & Söhne <GmbH>" in text


@pytest.mark.parametrize("syntax_index", [0, 1, 2])
def test_facturx_pdf_embeds_valid_cii(schematron_validator: Any, syntax_index: int) -> None:
    from faktoora_async.einvoice.cii import render_cii

    invoice = _generated(3)[syntax_index]
    xml = render_cii(invoice)
    content = parse_document(xml).content
    pdf = render_facturx_pdf(content, xml)
    reader = PdfReader(io.BytesIO(pdf))
    # independent extractor: pypdf's attachment API
    attachments = reader.attachments
    assert list(attachments) == ["factur-x.xml"]
    embedded = attachments["factur-x.xml"][0]
    assert embedded == xml
    report = schematron_validator.validate_bytes(embedded)
    assert report["errors"] == []
    from facturx import xml_check_xsd

    assert xml_check_xsd(embedded, flavor="factur-x", level="en16931")  # the Factur-X EN 16931 XML schema
    # PDF/A-3 + Factur-X metadata (factur-x library), an sRGB output intent and embedded fonts
    xmp = reader.xmp_metadata
    assert xmp is not None
    assert (xmp.pdfaid_part, xmp.pdfaid_conformance) == ("3", "B")
    raw = xmp.stream.get_data().decode("utf-8")
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in raw
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in raw
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert "/FontDescriptor" in font or "/DescendantFonts" in font, font["/BaseFont"]
    text = _text(pdf)
    assert invoice["invoiceNumber"] in text
    # and our own parser reads the same invoice back from the PDF
    parsed = parse_document(pdf)
    assert parsed.source_kind == "pdf"
    assert parsed.content == content
    assert validate_document(pdf).accepted


def test_facturx_of_a_sample_round_trips(samples_dir: Path) -> None:
    source = (
        samples_dir
        / "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard/01.15a-INVOICE_uncefact.xml"
    ).read_bytes()
    parsed = parse_document(source)
    pdf = render_facturx_pdf(parsed.content, parsed.xml)
    again = parse_document(pdf)
    assert again.content == parsed.content
    assert [(a.filename, len(a.content)) for a in again.attachments] == [("01_15_Anhang_01.pdf", 150128)]
    assert "0000123456" in _text(pdf)


def test_validation_report_lists_every_message(samples_dir: Path) -> None:
    data = (
        samples_dir / "ConnectingEurope+eInvoicing-EN16931/cii/examples/CII_business_example_02.xml"
    ).read_bytes()
    verdict = validate_document(data)
    assert not verdict.accepted
    pdf = render_validation_report_pdf(verdict, title="Prüfbericht XRechnung", invoice_number="INV000013")
    text = _text(pdf)
    assert "Prüfbericht XRechnung" in text and "INV000013" in text and "REJECTED" in text
    cells = {line.strip() for line in text.splitlines()}
    for message in verdict.messages:
        assert message.rule_id in cells  # the rule column, not just the "[id]" inside the message text
        assert message.level in cells
    assert len(verdict.messages) >= 8


def test_validation_report_of_accepted_invoice_and_many_messages() -> None:
    accepted = Verdict(accepted=True, messages=[], syntax="ubl")
    text = _text(render_validation_report_pdf(accepted, title="Report"))
    assert "ACCEPTED" in text and "No messages" in text
    many = Verdict(
        accepted=False,
        messages=[
            Message(f"BR-TEST-{i:03d}", "fatal", f"Message number {i} <with> & markup", f"/x[{i}]")
            for i in range(120)
        ],
        syntax="cii",
    )
    pdf = render_validation_report_pdf(many, title="Report", invoice_number="R-1")
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 3
    text = _text(pdf)
    cells = {line.strip() for line in text.splitlines()}
    assert all(f"BR-TEST-{i:03d}" in cells for i in range(120))
    assert "<with> & markup" in text


def test_generated_invoice_pdf_totals_match(schematron_validator: Any) -> None:
    """The view of a rendered UBL invoice shows the same grand total the XML carries."""
    from faktoora_async.einvoice.ubl import render_ubl

    invoice = _generated(4)[3]
    xml = render_ubl(invoice)
    content = parse_document(xml).content
    text = _text(render_content_pdf(content))
    assert f"{Decimal(content['totals']['grandTotal']):.2f} EUR" in text
    assert schematron_validator.validate_bytes(xml)["errors"] == []


def test_pdfs_render_correctly_from_several_threads_at_once() -> None:
    """reportlab is not thread-safe; the public functions serialise renders (the sandbox uses a pool)."""
    import concurrent.futures

    from faktoora_async.einvoice.render import render_xml

    jobs = []
    for invoice in _generated(8, lines=15):
        xml, syntax = render_xml(invoice)
        jobs.append((invoice["invoiceNumber"], parse_document(xml).content, xml, syntax))

    def render(job: tuple[str, dict[str, Any], bytes, str]) -> tuple[str, bytes, bytes]:
        number, content, xml, syntax = job
        facturx = render_facturx_pdf(content, xml) if syntax == "cii" else render_content_pdf(content)
        return number, render_content_pdf(content), facturx

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(render, jobs * 2))
    assert len(results) == 16
    for number, view, other in results:
        for pdf in (view, other):
            assert number in _text(pdf)


def test_facturx_pdf_is_written_once_not_appended_to_its_input() -> None:
    """factur-x writes its result where its reader stopped: the input must not stay in front of it."""
    from faktoora_async.einvoice.render import render_xml

    invoice = _generated(1, lines=20, format="zf:2")[0]
    xml, _ = render_xml(invoice)
    content = parse_document(xml).content
    view = render_content_pdf(content)
    facturx = render_facturx_pdf(content, xml)
    assert facturx.startswith(b"%PDF-1.6") and facturx.count(b"%%EOF") == 1
    assert len(facturx) < len(view) + len(xml)  # one copy of pages and fonts (plus XMP, packed XML, ICC)
    reader = PdfReader(io.BytesIO(facturx))
    assert reader.attachments["factur-x.xml"] == [xml]
    assert content["invoiceNumber"] in _text(facturx)


def test_output_intent_written_by_reportlab_and_by_the_pypdf_fallback() -> None:
    from faktoora_async.einvoice import pdf as pdf_module
    from faktoora_async.einvoice.cii import render_cii

    content = parse_document(render_cii(_generated(1, lines=2)[0])).content
    view = render_content_pdf(content)
    assert "/OutputIntents" not in PdfReader(io.BytesIO(view)).trailer["/Root"]  # a plain view has none
    with_intent = pdf_module._render_content_pdf(content, output_intent=True)
    fallback = pdf_module._with_output_intent(view)  # used only if reportlab ignores the catalog entry
    for data in (with_intent, fallback):
        root = PdfReader(io.BytesIO(data)).trailer["/Root"]
        intent = root["/OutputIntents"][0].get_object()
        assert (intent["/S"], intent["/OutputConditionIdentifier"]) == ("/GTS_PDFA1", "sRGB")
        profile = intent["/DestOutputProfile"].get_object()
        assert profile["/N"] == 3 and profile.get_data()[36:40] == b"acsp"  # an ICC profile
        assert content["invoiceNumber"] in _text(data)


def test_pdf_prints_latin_greek_and_cyrillic_names() -> None:
    """Issue 13: no '?' for characters outside cp1252; DejaVu Sans (matplotlib's data folder) is embedded."""
    from faktoora_async.einvoice import _pdf_base
    from faktoora_async.einvoice.cii import render_cii

    names = {
        "seller": "Małgorzata Wiśniewska Łódź sp. z o.o.",  # Polish
        "buyer": "Şükrü Öztürk İnşaat Ltd. Şti.",  # Turkish
        "line": "Příliš žluťoučký kůň úpěl ďábelské ódy",  # Czech
        "greek": "Ελληνικά Προϊόντα Α.Ε.",  # Greek
        "cyrillic": "ООО «Ромашка» Москва",  # Cyrillic
    }
    invoice = _generated(1, lines=2)[0]
    invoice["seller"]["name"] = names["seller"]
    invoice["buyer"]["name"] = names["buyer"]
    invoice["invoiceItems"][0]["product"]["name"] = names["line"]
    invoice["invoiceItems"][1]["product"]["name"] = names["greek"]
    invoice["note"] = names["cyrillic"]
    content = parse_document(render_cii(invoice)).content
    pdf = render_content_pdf(content)
    text = " ".join(_text(pdf).split())  # a long name wraps inside its table cell
    for label, name in names.items():
        assert name in text, (label, name)
    assert _pdf_base.FONT_FAMILY == ["DejaVu Sans"]
    fonts = {
        str(page["/Resources"]["/Font"][key].get_object()["/BaseFont"])
        for page in PdfReader(io.BytesIO(pdf)).pages
        for key in page["/Resources"]["/Font"]
    }
    assert any("DejaVuSans" in f for f in fonts), fonts
    # a script neither font has still prints as '?', never breaks the PDF
    content["note"] = "中文 ok"
    assert "?? ok" in _text(render_content_pdf(content))
