"""msgspec models: wire names, YYYYMMDD dates, decimals, tolerance of unknown fields and enum values."""

from __future__ import annotations

import datetime
from decimal import Decimal

import msgspec
import pytest

from faktoora_async import models
from faktoora_async.models._base import dec_hook, enc_hook
from faktoora_async.protocol import decode_json, encode_invoices, invoice_to_builtins

ENC = msgspec.json.Encoder(enc_hook=enc_hook)


def _full_invoice() -> models.Invoice:
    party = dict(
        street="Hauptstr. 1",
        postcode="10115",
        city="Berlin",
        country="DE",
        vat_id="DE123456789",
        tax_id="12/345/67890",
        email="a@b.de",
        phone="+49 30 1",
        contact_name="Erika",
        electronic_address="a@b.de",
        electronic_address_scheme="EM",
    )
    return models.Invoice(
        invoice_number="RE-1",
        issue_date=datetime.date(2026, 3, 1),
        seller=models.Party(
            name="S", iban="DE02120300000000202051", bic="BYLADEM1001", bank_name="DKB", **party
        ),
        buyer=models.Party(name="B", **party),
        invoice_items=[
            models.InvoiceItem(
                id="1",
                product=models.Product(
                    product_id="P-1",
                    name="Beratung",
                    description="Stunden",
                    quantity=Decimal("2.5"),
                    unit_code="HUR",
                    price=Decimal("120.00"),
                    taxes=[
                        models.Tax(
                            category_code="E",
                            rate=Decimal("0"),
                            exemption_reason="§4",
                            exemption_reason_code="VATEX-EU-132",
                        )
                    ],
                ),
            )
        ],
        format="xrechnung",
        schema="UBL",
        currency="EUR",
        invoice_type_code="380",
        buyer_reference="04011000-12345-03",
        due_date=datetime.date(2026, 3, 31),
        payment_terms="30 Tage netto",
        note="Danke",
        preceding_invoice_number="RE-0",
        payment_means_code="58",
        delivery_date=datetime.date(2026, 2, 28),
        ship_to=models.Address(name="Lager", street="Weg 2", postcode="20095", city="Hamburg", country="DE"),
        delivery=models.Delivery(recipient="b@b.de", carbon_copy="c@b.de"),
        draft_only=False,
        review_mode=True,
        validate=True,
    )


def test_every_payload_field_round_trips() -> None:
    inv = _full_invoice()
    wire = msgspec.json.decode(ENC.encode(inv))
    expected_keys = {
        "invoiceNumber", "issueDate", "seller", "buyer", "invoiceItems", "format", "schema", "currency",
        "invoiceTypeCode", "buyerReference", "dueDate", "paymentTerms", "note", "precedingInvoiceNumber",
        "paymentMeansCode",
        "deliveryDate", "shipTo", "delivery", "draftOnly", "reviewMode", "validate",
    }  # fmt: skip
    assert set(wire) == expected_keys
    assert wire["deliveryDate"] == "20260228" and wire["delivery"]["type"] == "email"
    assert wire["schema"] == "UBL"
    assert {"iban", "bic", "bankName", "electronicAddressScheme", "contactName", "vatId", "taxId"} <= set(
        wire["seller"]
    )
    tax = wire["invoiceItems"][0]["product"]["taxes"][0]
    assert tax == {
        "categoryCode": "E",
        "rate": "0",
        "typeCode": "VAT",
        "exemptionReason": "§4",
        "exemptionReasonCode": "VATEX-EU-132",
    }
    back = msgspec.json.decode(ENC.encode(inv), type=models.Invoice, dec_hook=dec_hook)
    assert back == inv
    assert isinstance(back.issue_date, datetime.date) and back.issue_date == datetime.date(2026, 3, 1)
    assert back.resting_status == "review"


def test_seller_is_optional() -> None:
    """faktoora's examples send no seller: the account's company profile is used (API.md v2)."""
    inv = msgspec.structs.replace(_full_invoice(), seller=None)
    wire = msgspec.json.decode(ENC.encode(inv))
    assert "seller" not in wire and wire["buyer"]["name"] == "B"
    back = msgspec.json.decode(ENC.encode(inv), type=models.Invoice, dec_hook=dec_hook)
    assert back.seller is None and back == inv


def test_models_are_frozen() -> None:
    inv = _full_invoice()
    with pytest.raises(AttributeError):
        inv.invoice_number = "x"  # type: ignore[misc]


def test_plain_and_string_dates_are_coerced() -> None:
    inv = msgspec.structs.replace(_full_invoice(), issue_date="20240229")  # type: ignore[arg-type]
    assert inv.issue_date == datetime.date(2024, 2, 29)
    assert invoice_to_builtins(inv)["issueDate"] == "20240229"
    with pytest.raises(ValueError):
        msgspec.structs.replace(_full_invoice(), issue_date="yesterday")  # type: ignore[arg-type]


def test_decoder_accepts_numbers_and_iso_dates() -> None:
    raw = (
        b'{"invoiceNumber":"A","issueDate":"2025-06-30","seller":{"name":"S"},"buyer":{"name":"B"},'
        b'"invoiceItems":[{"id":"1","product":{"name":"x","quantity":2,"price":1.1,"taxes":[{"categoryCode":"S","rate":19}]}}]}'
    )
    inv = msgspec.json.decode(raw, type=models.Invoice, dec_hook=dec_hook)
    assert inv.issue_date == datetime.date(2025, 6, 30)
    product = inv.invoice_items[0].product
    assert product.price == Decimal("1.1") and isinstance(product.quantity, Decimal)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw.replace(b"2025-06-30", b"30.06.2025"), type=models.Invoice, dec_hook=dec_hook)


def test_unknown_fields_ignored_unknown_enums_kept() -> None:
    body = (
        b'{"invoiceStatus":"archived","jobStatus":"teleporting","authority":[{"x":1}],"newField":{"a":1},'
        b'"delivery":[{"type":"peppol","recipient":"0204:991-1","extra":true}],'
        b'"validation":{"status":"queued","validity":null,"createdAt":"2026-03-26T12:34:56Z","more":1}}'
    )
    st = decode_json(models.InvoiceStatus, body)
    assert st.invoice_status == "archived" and st.job_status == "teleporting"
    assert st.delivery[0].type == "peppol"
    assert st.validation is not None and st.validation.created_at == datetime.datetime(
        2026, 3, 26, 12, 34, 56, tzinfo=datetime.timezone.utc
    )
    assert not st.failed and not st.generating


def test_status_generation_states() -> None:
    st = decode_json(models.InvoiceStatus, b'{"invoiceStatus":null,"jobStatus":"processing"}')
    assert st.generating and not st.failed
    failed = decode_json(
        models.InvoiceStatus, b'{"invoiceStatus":null,"jobStatus":"failed","error":"renderer crashed"}'
    )
    assert failed.failed and failed.error == "renderer crashed"


def test_import_content_models_null_tolerant() -> None:
    body = (
        b'{"invoiceNumber":"X-1","issueDate":"20250101","dueDate":null,"invoiceTypeCode":380,"currency":"EUR",'
        b'"seller":{"name":"S","vatId":null,"legalRegistrationId":"HRB 1"},"buyer":null,'
        b'"delivery":{"name":null,"date":"20250102"},'
        b'"lineItems":[{"lineId":"1","name":"n","quantity":"1.000","unitCode":"C62","netPrice":"10","netAmount":"10.00",'
        b'"vatCategory":"S","vatRate":"19"}],"taxes":[{"category":"S","rate":19,"basisAmount":"10.00","taxAmount":"1.90"}],'
        b'"totals":{"lineTotal":"10.00","taxBasisTotal":"10.00","taxTotal":"1.90","grandTotal":"11.90","duePayable":"11.90"},'
        b'"paymentTerms":{"description":"net 30","dueDate":null},'
        b'"paymentMeans":[{"typeCode":"58","iban":"DE02120300000000202051"}],"surprise":[1,2]}'
    )
    content = decode_json(models.InvoiceContent, body)
    assert content.invoice_type_code == 380 and content.buyer is None
    assert content.delivery is not None and content.delivery.date == datetime.date(2025, 1, 2)
    assert content.totals is not None and content.totals.grand_total == Decimal("11.90")
    assert content.taxes[0].rate == Decimal(19)
    assert content.line_items[0].net_amount == Decimal("10.00")
    assert decode_json(models.InvoiceContent, b"{}") == models.InvoiceContent()
    summary = decode_json(
        models.ContentSummary, b'{"invoiceNumber":"X","netTotal":"1.00","lineCount":2,"syntax":"CII"}'
    )
    assert summary.net_total == Decimal("1.00") and summary.line_count == 2


def test_attachment_webhook_models() -> None:
    att = decode_json(
        models.Attachment, b'{"id":"1","filename":"a.pdf","mimeType":"application/pdf","size":12}'
    )
    assert att.mime_type == "application/pdf" and att.size == 12
    ev = decode_json(
        models.WebhookEvent,
        b'{"event":"invoice.status","faktooraId":"F1ABCDEF","invoiceNumber":"A","status":"created",'
        b'"timestamp":"2026-03-26T12:34:56Z","metadata":{"k":"v"}}',
    )
    assert ev.status == "created" and ev.metadata == {"k": "v"}
    sub = decode_json(
        models.WebhookSubscription, b'{"id":"W1","action":"invoiceCreate","target":"https://x"}'
    )
    assert sub.action == models.WebhookAction.INVOICE_CREATE
    nn = decode_json(models.NextNumber, b'{"invoiceNumber":"2026/03/00043","counter":42}')
    assert nn.counter == 42


def test_generated_invoices_convert_to_structs() -> None:
    generate = pytest.importorskip("faktoora_async.einvoice.generate")
    for i in range(20):
        payload = generate.generate_invoice(i)
        inv = msgspec.convert(payload, models.Invoice, dec_hook=dec_hook, strict=False)
        again = msgspec.json.decode(encode_invoices([inv]))["invoices"][0]
        assert again["invoiceNumber"] == payload["invoiceNumber"]
        assert again["issueDate"] == payload["issueDate"]
        assert len(again["invoiceItems"]) == len(payload["invoiceItems"])
