"""The sandbox under the load and the payloads a demanding user sends: never a 500 in normal operation.

Raw HTTP (aiohttp.ClientSession, never the SDK, which would retry a 500 away).  Every test also checks the
sandbox's own log for "sandbox handler failed" (the line it writes before answering 500) and its request
counters for any 5xx.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import pytest
from pypdf import PdfReader

from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

KINDS = (("xrechnung", "CII"), ("xrechnung", "UBL"), ("zf:2", None))
"""(format, schema) of every document kind the sandbox renders (API.md v2: ``schema`` picks UBL; ``zf:1`` is
a 400: ZUGFeRD 1.0 is not produced)."""


def kind(invoice: dict[str, Any], fmt: str, schema: str | None) -> dict[str, Any]:
    """``invoice`` rendered as ``fmt`` with ``schema`` (none: the format's default)."""
    invoice["format"] = fmt
    invoice.pop("schema", None)
    if schema is not None:
        invoice["schema"] = schema
    return invoice


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        yield session


def _no_server_errors(sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    failed = [r.getMessage() for r in caplog.records if "handler failed" in r.getMessage()]
    assert failed == []
    errors = {
        route: counts
        for route, counts in sb.stats()["requests"].items()
        if any(status.startswith("5") for status in counts)
    }
    assert errors == {}


async def _create(http: aiohttp.ClientSession, sb: Sandbox, invoices: list[dict[str, Any]]) -> list[str]:
    async with http.post(
        f"{sb.base_url}/invoices", json={"invoices": invoices}, headers={"X-API-KEY": sb.api_key}
    ) as resp:
        body = await resp.json()
        assert resp.status == 202, body
    return [item["faktooraId"] for item in body]


async def _generated(sb: Sandbox, ids: list[str]) -> None:
    """Wait (hang guard only) until every invoice's XML exists."""
    with anyio.fail_after(60):
        while True:
            rows = {row["faktooraId"]: row for row in sb.invoices()}
            assert all(rows[fid]["jobStatus"] != "failed" for fid in ids)
            if all(rows[fid]["xmlSha256"] is not None for fid in ids):
                return
            await asyncio.sleep(0.02)


async def _get(
    http: aiohttp.ClientSession, sb: Sandbox, path: str, accept: str = "application/json", v2: bool = False
) -> tuple[int, str, bytes]:
    base = sb.base_url_v2 if v2 else sb.base_url
    async with http.get(f"{base}{path}", headers={"X-API-KEY": sb.api_key, "Accept": accept}) as resp:
        return resp.status, resp.content_type, await resp.read()


async def test_twenty_concurrent_pdf_downloads_of_distinct_invoices_all_succeed(
    sb: Sandbox, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """The PDF pool renders in 2 threads; reportlab is not thread-safe (this once gave 500 KeyError)."""
    caplog.set_level(logging.WARNING, logger="faktoora_async")
    invoices = [
        kind(generate_invoice(i, seed=31, lines=4 + i % 5), *KINDS[i % len(KINDS)]) for i in range(20)
    ]
    ids = await _create(http, sb, invoices)
    await _generated(sb, ids)

    results = await asyncio.gather(*(_get(http, sb, f"/invoices/{fid}", "application/pdf") for fid in ids))

    assert [status for status, _, _ in results] == [200] * 20
    assert {ctype for _, ctype, _ in results} == {"application/pdf"}
    listing = {row["faktooraId"]: row for row in sb.invoices()}
    digests = set()
    for fid, invoice, (_, _, pdf) in zip(ids, invoices, results, strict=True):
        reader = PdfReader(io.BytesIO(pdf))
        assert invoice["invoiceNumber"] in (reader.pages[0].extract_text() or "")
        digest = hashlib.sha256(pdf).hexdigest()
        assert listing[fid]["pdfSha256"] == digest
        digests.add(digest)
        if invoice["format"] == "zf:2":  # Factur-X: the XML the sandbox serves is embedded
            assert "factur-x.xml" in reader.attachments
    assert len(digests) == 20
    _no_server_errors(sb, caplog)


async def test_admin_listing_renders_missing_pdfs_on_request(
    sb: Sandbox, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await _create(http, sb, [kind(generate_invoice(i, seed=32), *KINDS[i]) for i in range(len(KINDS))])
    await _generated(sb, ids)
    admin = f"{sb.root_url}/_sandbox/invoices"

    async with http.get(admin) as resp:
        assert resp.status == 200
        assert [row["pdfSha256"] for row in await resp.json()] == [None] * len(KINDS)  # lazy: no download yet
    async with http.get(admin, params={"withPdf": "maybe"}) as resp:
        assert resp.status == 400
    async with http.get(admin, params={"withPdf": "1"}) as resp:
        assert resp.status == 200
        rows = {row["faktooraId"]: row for row in await resp.json()}

    for fid in ids:
        status, _, pdf = await _get(http, sb, f"/invoices/{fid}", "application/pdf")
        assert status == 200
        assert rows[fid]["pdfSha256"] == hashlib.sha256(pdf).hexdigest()
        assert rows[fid]["pdfSize"] == len(pdf)
    assert await sb.render_pdfs() == 0  # everything cached already

    more = await _create(http, sb, [generate_invoice(9, seed=32)])
    await _generated(sb, more)
    assert await sb.render_pdfs() == 1
    assert all(row["pdfSha256"] for row in sb.invoices())
    _no_server_errors(sb, caplog)


async def _settled(
    http: aiohttp.ClientSession, sb: Sandbox, path: str, busy: bytes, *, v2: bool = False
) -> None:
    """Poll ``path`` until its body no longer contains ``busy`` (hang guard only)."""
    with anyio.fail_after(60):
        while True:
            status, _, body = await _get(http, sb, path, v2=v2)
            assert status == 200
            if busy not in body:
                return
            await asyncio.sleep(0.02)


def _hard_payloads() -> list[tuple[str, dict[str, Any]]]:
    """Payloads within every limit of the sandbox's validation that stress the renderers."""
    cases: list[tuple[str, dict[str, Any]]] = []
    inv = generate_invoice(1, seed=33, lines=3)
    for item in inv["invoiceItems"]:  # each row taller than an A4 page (this once failed: LayoutError)
        item["product"]["description"] = "".join(f"Zeile {k:03d}\n" for k in range(400))[:2000]
        item["product"]["name"] = ("Wort " * 100)[:500]
    cases.append(("tall rows", inv))
    inv = generate_invoice(2, seed=33)
    inv["invoiceItems"][0]["product"]["description"] = "x" * 2000  # one unbreakable word
    inv["note"] = "y" * 5000
    cases.append(("long words", inv))
    inv = generate_invoice(3, seed=33)
    inv["paymentTerms"] = "Zahlbar sofort\n" * 333
    inv["note"] = "Hinweis\n" * 600
    cases.append(("many text lines", inv))
    inv = generate_invoice(4, seed=33)
    inv["seller"]["name"] = "😀 中文 Ω " * 20
    inv["buyer"]["city"] = "<para>&#x41;&amp;</para>"
    inv["invoiceNumber"] = "R<b>&amp;</b>'\"/" + "/" * 40
    cases.append(("markup and non-Latin text", inv))
    inv = generate_invoice(5, seed=33)
    product = inv["invoiceItems"][0]["product"]
    product["quantity"], product["price"] = "0.0000000001", "999999999999999.9999999999"
    cases.append(("extreme decimals", inv))
    return cases


async def test_no_500_for_hard_but_valid_payloads_on_any_route(
    sb: Sandbox, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="faktoora_async")
    payloads = []
    for fmt, schema in KINDS:
        for name, invoice in _hard_payloads():
            body = kind(copy.deepcopy(invoice), fmt, schema)
            body["validate"] = True
            body["invoiceNumber"] = f"{body['invoiceNumber'][:60]}-{fmt}-{schema}"
            payloads.append((f"{name} ({fmt})", body))
    ids = await _create(http, sb, [body for _, body in payloads])
    await _generated(sb, ids)

    for (name, _), fid in zip(payloads, ids, strict=True):
        files = {}
        for accept in ("application/xml", "application/pdf"):
            status, ctype, files[accept] = await _get(http, sb, f"/invoices/{fid}", accept)
            assert (status, ctype) == (200, accept), name
        assert len(PdfReader(io.BytesIO(files["application/pdf"])).pages) >= 1
        await _settled(http, sb, f"/invoices/{fid}/status", b'"processing"', v2=True)  # validation
        status, _, _ = await _get(http, sb, f"/invoices/{fid}/validation-report", "application/pdf")
        assert status == 200, name

        # re-import what was served: the Factur-X PDF for zf:2, else the XML
        upload = files["application/pdf" if name.endswith("(zf:2)") else "application/xml"]
        form = aiohttp.FormData()
        form.add_field("file", upload, filename="upload.bin")
        async with http.post(
            f"{sb.base_url}/import/outgoing", data=form, headers={"X-API-KEY": sb.api_key}
        ) as resp:
            assert resp.status == 202, (name, await resp.text())
            import_id = (await resp.json())["faktooraId"]
        base = f"/import/outgoing/{import_id}"
        await _settled(http, sb, f"{base}/status", b'"pending"')
        for part in ("", "/summary", "/lineitems", "/taxes", "/paymentterms", "/paymentmeans", "/seller"):
            assert (await _get(http, sb, f"{base}/content{part}"))[0] == 200, (name, part)
        for path, accept in (
            ("/content/pdf", "application/pdf"),
            ("/validation/pdf", "application/pdf"),
            ("/validation", "application/json"),
            ("/source", "*/*"),
            ("/attachments", "application/json"),
        ):
            assert (await _get(http, sb, f"{base}{path}", accept))[0] == 200, (name, path)

    for query in ("?page=999&perPage=5000", "?sort=invoiceNumber&order=desc&keyword=%3Cpara%3E", ""):
        assert (await _get(http, sb, f"/invoices{query}"))[0] == 200
        assert (await _get(http, sb, f"/import/outgoing{query}"))[0] == 200
    assert (await _get(http, sb, "/invoices/next-number?template=RE-YYYY-MM-id"))[0] == 200
    _no_server_errors(sb, caplog)


async def test_odd_queries_headers_and_bodies_get_4xx_never_500(
    sb: Sandbox, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="faktoora_async")
    ids = await _create(http, sb, [generate_invoice(1, seed=34), generate_invoice(2, seed=34, format="zf:2")])
    paths = [f"/invoices/{ids[0]}", f"/invoices/{ids[1]}/validation-report", "/invoices", "/import/outgoing"]
    paths += ["/webhooks", "/invoices/next-number"]
    accepts = ["application/pdf", "*/*", "", "text/html", "application/pdf;q=0", "application/*"]
    queries = ["?page=0", "?page=-1", "?page=abc", "?perPage=0", "?perPage=99999999999999999999"]
    queries += ["?sort=foo&order=sideways", "?issueDateFrom=20261399", "?issueDateTo=x", "?keyword=%00"]
    queries += ["?template=%7B", "?template=%7Bcounter:99%7D", "?template=%7Bfoo%7D", "?page=1&page=2"]
    seen: set[int] = set()
    for path in paths:
        for accept in accepts:
            for query in queries:
                headers = {"X-API-KEY": sb.api_key, "x-account-id": "tenant-2"}
                if accept:
                    headers["Accept"] = accept
                async with http.get(f"{sb.base_url}{path}{query}", headers=headers) as resp:
                    await resp.read()
                    seen.add(resp.status)
    bodies = [b"[]", b"null", b'{"invoices": [null]}', b"[" * 50_000 + b"]" * 50_000, b"\xff\xfe", b"1e99999"]
    bodies += [b'{"invoices": [{"invoiceNumber": 1e999}]}', b'{"invoices": [' + b"{}," * 100 + b"{}]}"]
    for body in bodies:
        for method, path in (("POST", "/invoices"), ("POST", "/webhooks"), ("PATCH", "/webhooks/WAAAAAAAA")):
            headers = {"X-API-KEY": sb.api_key, "Content-Type": "application/json"}
            async with http.request(method, f"{sb.base_url}{path}", data=body, headers=headers) as resp:
                await resp.read()
                seen.add(resp.status)
    assert seen and max(seen) < 500 and {400, 406}.issubset(seen)
    _no_server_errors(sb, caplog)


async def test_mutated_uploads_are_rejected_or_imported_never_500(
    sb: Sandbox, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    import random

    from faktoora_async.einvoice.render import render_files

    caplog.set_level(logging.WARNING, logger="faktoora_async")
    rng = random.Random(35)
    uploads = []
    for fmt, schema in KINDS[:3]:
        files = render_files(kind(generate_invoice(1, seed=35, lines=3), fmt, schema))
        for data in (files.xml, files.pdf):
            for _ in range(6):
                mutated = bytearray(data)
                where = rng.randrange(len(mutated))
                how = rng.randrange(3)
                if how == 0:
                    del mutated[where:]
                elif how == 1:
                    for _ in range(rng.randrange(1, 20)):
                        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
                else:
                    del mutated[where : where + rng.randrange(1, 200)]
                uploads.append(bytes(mutated))
    imported = []
    statuses = []
    for data in uploads:
        form = aiohttp.FormData()
        form.add_field("file", data, filename="mutated.bin")
        headers = {"X-API-KEY": sb.api_key}
        async with http.post(f"{sb.base_url}/import/outgoing", data=form, headers=headers) as resp:
            body = await resp.json()
            statuses.append(resp.status)
            if resp.status == 202:
                imported.append(body["faktooraId"])
    assert set(statuses) <= {202, 400} and 400 in statuses
    for fid in imported:
        base = f"/import/outgoing/{fid}"
        await _settled(http, sb, f"{base}/status", b'"pending"')
        for part in ("/content", "/content/pdf", "/validation", "/validation/pdf", "/source", "/attachments"):
            assert (await _get(http, sb, f"{base}{part}", "*/*"))[0] == 200, part
    _no_server_errors(sb, caplog)


async def test_client_leaving_mid_download_is_counted_not_logged_as_an_error(
    sb: Sandbox, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A cancelled or ruptured download is normal client behaviour: no ERROR line, no 500."""
    caplog.set_level(logging.WARNING)  # every logger, aiohttp.server included
    [fid] = await _create(http, sb, [generate_invoice(1, seed=36)])
    await _generated(sb, [fid])
    async with http.post(
        f"{sb.root_url}/_sandbox/inflate/{fid}", params={"bytes": str(64 * 1024**2)}
    ) as resp:
        assert resp.status == 200  # a 64 MiB streamed PDF: far more than the socket buffers hold
    for _ in range(3):
        resp = await http.get(
            f"{sb.base_url}/invoices/{fid}", headers={"X-API-KEY": sb.api_key, "Accept": "application/pdf"}
        )
        assert resp.status == 200
        assert len(await resp.content.readexactly(256 * 1024)) == 256 * 1024
        resp.close()  # drop the connection mid-body
    with anyio.fail_after(30):
        while True:
            counts = sb.stats()["requests"]["GET /api/v1/invoices/{faktooraId}"]
            if counts.get("aborted", 0) == 3:
                break
            await asyncio.sleep(0.02)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    _no_server_errors(sb, caplog)
