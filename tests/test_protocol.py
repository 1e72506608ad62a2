"""The sans-I/O layer, the rate governor and file-name sanitising, tested with plain bytes (no network)."""

from __future__ import annotations

import datetime
import email.utils
import os
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from faktoora_async import errors, protocol
from faktoora_async.files import resolve_target, safe_filename
from faktoora_async.models import (
    CreatedInvoice,
    Invoice,
    InvoiceItem,
    InvoiceListItem,
    InvoiceStatus,
    Party,
    Product,
    Tax,
)
from faktoora_async.protocol import APIRequest


def _invoice(**changes: object) -> Invoice:
    base = Invoice(
        invoice_number="INV-1",
        issue_date=datetime.date(2025, 6, 30),
        seller=Party(name="Seller GmbH"),
        buyer=Party(name="Buyer AG"),
        invoice_items=[
            InvoiceItem(
                id="1",
                product=Product(
                    name="Work",
                    quantity=Decimal("1.5"),
                    price=Decimal("19.99"),
                    taxes=[Tax(category_code="S", rate=Decimal("19"))],
                ),
            )
        ],
    )
    return msgspec.structs.replace(base, **changes)


# ---------------------------------------------------------------------------------------------- urls


def test_build_url_v1_and_derived_v2() -> None:
    base = "https://api.faktoora.com/api/v1"
    assert protocol.build_url(base, "/invoices") == "https://api.faktoora.com/api/v1/invoices"
    assert (
        protocol.build_url(base + "/", "invoices/F1/status", "v2")
        == "https://api.faktoora.com/api/v2/invoices/F1/status"
    )
    assert protocol.build_url("http://127.0.0.1:8040/api/v1", "/x", "v2") == "http://127.0.0.1:8040/api/v2/x"


def test_query_camel_case_dates_and_none_dropped() -> None:
    q = protocol.query(
        invoice_number="A/1", issue_date_from=datetime.date(2025, 1, 2), keyword=None, per_page=5
    )
    assert q == (("invoiceNumber", "A/1"), ("issueDateFrom", "20250102"), ("perPage", "5"))


def test_idempotency_by_method() -> None:
    assert APIRequest("GET", "/x").idempotent
    assert APIRequest("DELETE", "/x").idempotent
    assert not APIRequest("POST", "/x").idempotent
    assert not APIRequest("PATCH", "/x").idempotent


# ---------------------------------------------------------------------------------------------- errors

ERROR_CASES = [
    (400, "BAD_REQUEST", errors.BadRequestError),
    (401, "UNAUTHORIZED", errors.AuthenticationError),
    (403, "FEATURE_DISABLED", errors.PermissionDeniedError),
    (404, "NOT_FOUND", errors.NotFoundError),
    (406, "NOT_ACCEPTABLE", errors.NotAcceptableError),
    (409, "CONFLICT", errors.ConflictError),
    (409, "DUPLICATE_INVOICE_NUMBER", errors.DuplicateInvoiceNumberError),
    (409, "NOT_READY", errors.NotReadyError),
    (413, "PAYLOAD_TOO_LARGE", errors.PayloadTooLargeError),
    (429, "TOO_MANY_REQUESTS", errors.RateLimitError),
    (500, "INTERNAL", errors.ServerError),
    (502, "BAD_GATEWAY", errors.ServerError),
    (503, "UNAVAILABLE", errors.ServerError),
    (418, "TEAPOT", errors.APIStatusError),
]


@pytest.mark.parametrize(("status", "code", "cls"), ERROR_CASES)
def test_error_classes_from_json_bodies(status: int, code: str, cls: type[errors.APIStatusError]) -> None:
    body = msgspec.json.encode({"code": code, "statusCode": status, "message": "boom"})
    err = protocol.error_from_response(status, {"X-Request-Id": "req-7"}, body, method="GET", url="/invoices")
    assert type(err) is cls
    assert isinstance(err, errors.FaktooraError)
    assert (err.status, err.code, err.message, err.request_id) == (status, code, "boom", "req-7")
    assert "boom" in str(err) and str(status) in str(err)


def test_bad_request_field_errors() -> None:
    body = (
        b'{"code":"BAD_REQUEST","statusCode":400,"message":"invalid","errors":['
        b'{"index":0,"field":"invoices[0].buyer.postcode","message":"is required"},'
        b'{"index":3,"field":"invoices[3].issueDate","message":"not a date"}]}'
    )
    err = protocol.error_from_response(400, {}, body)
    assert isinstance(err, errors.BadRequestError)
    assert [(e.index, e.field) for e in err.errors] == [
        (0, "invoices[0].buyer.postcode"),
        (3, "invoices[3].issueDate"),
    ]
    assert "invoices[3].issueDate" in str(err)


def test_duplicate_indexes() -> None:
    body = (
        b'{"code":"DUPLICATE_INVOICE_NUMBER","message":"dup",'
        b'"errors":[{"index":2,"field":"invoices[2].invoiceNumber","message":"x"}]}'
    )
    err = protocol.error_from_response(409, {}, body)
    assert isinstance(err, errors.DuplicateInvoiceNumberError)
    assert err.indexes == [2]


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"",
        b"\xff\xfe\x00garbage",
        b'{"code": "TRUNC',
        b"[1, 2, 3]",
        b'"text"',
    ],
)
@pytest.mark.parametrize("status", [400, 401, 404, 409, 429, 500, 503])
def test_non_json_error_bodies_never_crash(status: int, body: bytes) -> None:
    err = protocol.error_from_response(status, {"Content-Type": "text/html"}, body)
    assert err.status == status
    assert isinstance(err, errors.APIStatusError)
    assert err.message
    if body.startswith(b"<html>"):
        assert "502 Bad Gateway" in err.body


def test_retry_after_parsing() -> None:
    assert protocol.parse_retry_after("3") == 3.0
    assert protocol.parse_retry_after(" 1.5 ") == 1.5
    assert protocol.parse_retry_after("-4") == 0.0
    assert protocol.parse_retry_after(None) is None
    assert protocol.parse_retry_after("soon") is None
    assert protocol.parse_retry_after("inf") is None
    now = 1_700_000_000.0
    http_date = email.utils.formatdate(now + 30, usegmt=True)
    assert protocol.parse_retry_after(http_date, now=now) == pytest.approx(30, abs=1)
    err = protocol.error_from_response(429, {"retry-after": "7"}, b"")
    assert isinstance(err, errors.RateLimitError) and err.retry_after == 7.0


def test_redact() -> None:
    assert protocol.redact("key sk_test_abc in text", "sk_test_abc") == "key *** in text"


# ---------------------------------------------------------------------------------------------- decoding


def test_decode_json_rejects_wrong_type_truncation_and_content_type() -> None:
    good = b'{"invoiceStatus":"created","jobStatus":null,"delivery":[],"authority":[]}'
    assert protocol.decode_json(InvoiceStatus, good).invoice_status == "created"
    # API.md v2 tolerance: a field of the wrong type is dropped (kept in .raw), never a failed 2xx ...
    odd = protocol.decode_json(InvoiceStatus, b'{"invoiceStatus": 5}')
    assert odd.invoice_status is None and odd.raw == {"invoiceStatus": 5}
    # ... but an object without the one field that makes it useful is an error
    with pytest.raises(errors.ResponseDecodeError):
        protocol.decode_json(list[CreatedInvoice], b'[{"detailsPage": "x"}]')
    with pytest.raises(errors.ResponseDecodeError):
        protocol.decode_json(InvoiceStatus, good[:20])
    with pytest.raises(errors.ResponseDecodeError) as info:
        protocol.decode_json(InvoiceStatus, good, content_type="text/html; charset=utf-8")
    assert "text/html" in str(info.value)
    assert protocol.decode_json(InvoiceStatus, good, content_type="application/json; charset=utf-8")


def test_invalid_utf8_is_a_decode_error() -> None:
    with pytest.raises(errors.ResponseDecodeError):
        protocol.decode_json(InvoiceStatus, b'{"invoiceStatus": "\xff\xfe"}')
    with pytest.raises(errors.ResponseDecodeError):
        protocol.decode_page(InvoiceListItem, b'[{"faktooraId": "\xff"}]', page=1, per_page=1)
    err = protocol.error_from_response(400, {}, b'{"message": "\xff"}')
    assert isinstance(err, errors.BadRequestError)


def test_decode_page_both_shapes() -> None:
    item = (
        b'{"faktooraId":"F1ABCDEF","invoiceNumber":"A","issueDate":"20250101","totalGross":"11.90","extra":1}'
    )
    wrapped = b'{"data":[' + item + b'],"meta":{"page":2,"perPage":1,"total":3,"totalPages":3}}'
    page = protocol.decode_page(InvoiceListItem, wrapped, page=2, per_page=1)
    assert page.page == 2 and page.meta is not None and page.meta.total == 3 and page.has_next
    assert page.items[0].total_gross == Decimal("11.90")
    last = protocol.decode_page(
        InvoiceListItem, wrapped.replace(b'"page":2', b'"page":3'), page=3, per_page=1
    )
    assert not last.has_next
    bare_full = protocol.decode_page(InvoiceListItem, b"[" + item + b"," + item + b"]", page=1, per_page=2)
    assert bare_full.meta is None and bare_full.has_next
    bare_short = protocol.decode_page(InvoiceListItem, b"[" + item + b"]", page=1, per_page=2)
    assert not bare_short.has_next
    with pytest.raises(errors.ResponseDecodeError):
        protocol.decode_page(InvoiceListItem, b'{"data": 5}', page=1, per_page=2)


# ---------------------------------------------------------------------------------------------- encoding


def test_encode_struct_invoice_wire_format() -> None:
    body = msgspec.json.decode(protocol.encode_invoices([_invoice(due_date=datetime.date(2025, 7, 30))]))
    inv = body["invoices"][0]
    assert inv["issueDate"] == "20250630" and inv["dueDate"] == "20250730"
    product = inv["invoiceItems"][0]["product"]
    assert product["quantity"] == "1.5" and product["price"] == "19.99"
    assert product["taxes"][0] == {"categoryCode": "S", "rate": "19", "typeCode": "VAT"}
    assert "draftOnly" not in inv and "note" not in inv  # defaults omitted


def test_encode_dict_invoice_dates_and_floats() -> None:
    raw = {
        "invoiceNumber": "D1",
        "issueDate": datetime.date(2025, 1, 5),
        "price": 0.1,
        "amount": Decimal("2.50"),
    }
    inv = msgspec.json.decode(protocol.encode_invoices([raw]))["invoices"][0]
    assert inv == {"invoiceNumber": "D1", "issueDate": "20250105", "price": "0.1", "amount": "2.50"}


def test_encode_limits() -> None:
    with pytest.raises(ValueError):
        protocol.encode_invoices([])
    with pytest.raises(ValueError, match="at most 100"):
        protocol.encode_invoices([_invoice()] * 101)
    with pytest.raises(TypeError):
        protocol.encode_invoices([42])  # type: ignore[list-item]


def test_resting_status() -> None:
    assert protocol.invoice_resting_status(_invoice(draft_only=True)) == "draft"
    assert protocol.invoice_resting_status({"reviewMode": True}) == "review"
    assert protocol.invoice_resting_status({"delivery": {"type": "email", "recipient": "a@b.de"}}) == "sent"
    assert protocol.invoice_resting_status({}) == "created"


# ---------------------------------------------------------------------------------------------- files


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "a/b\\c",
        "..",
        "...",
        "",
        "CON",
        "con.txt",
        "LPT1",
        "x\x00y",
        "tab\there",
        "A" * 500,
        " . ",
        "a:b*c?",
    ],
)
def test_safe_filename_stays_inside(tmp_path: Path, name: str) -> None:
    result = safe_filename(name, "pdf")
    assert result.endswith(".pdf")
    assert "/" not in result and "\\" not in result and "\x00" not in result and ".." not in result
    assert len(result.encode()) <= 150
    assert result.split(".")[0].upper() not in {"CON", "LPT1", "NUL", "PRN", "AUX"}
    assert not all(c == "." for c in result.removesuffix(".pdf"))
    target = resolve_target(str(tmp_path) + os.sep, result)
    assert target.parent == tmp_path.resolve()


def test_safe_filename_keeps_good_names() -> None:
    # a changed name keeps its readable form and gains a hash of the original, so it never collides
    changed = safe_filename("RE-2026/03/0001", ".xml")
    assert changed.startswith("RE-2026_03_0001-") and changed.endswith(".xml")
    assert changed != safe_filename("RE-2026_03_0001", ".xml") == "RE-2026_03_0001.xml"
    assert safe_filename("Rechnung Müller", "pdf") == "Rechnung Müller.pdf"


def test_safe_filename_unusable_names_never_share_a_file() -> None:
    names = ["..", ".", "...", "", " ", "/", "\\", "CON", "con", "a/b", "a\\b", "a_b", "a:b", "invoice"]
    results = [safe_filename(n, "xml") for n in names]
    assert len(set(results)) == len(names), results
