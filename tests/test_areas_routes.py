"""Issue 12's route table, checked end to end: every route of the five areas of API.md v2 (API keys on v2,
incoming invoices, customers, products, projects), through raw HTTP and through the SDK, with the
401 and 404 paths of every route and the 400 paths the per-area test files leave out.

The sandbox's answers are recorded (method, route template, status) by a response signal hooked onto its
aiohttp app before it starts, so each sweep proves which routes it reached, not only that some call
raised: a path that matched no route would be answered by the auth layer too (401), and would show here
as an unmatched request.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _sandbox_http import Api, assert_error, invoice
from aiohttp import web

from faktoora_async import (
    AuthenticationError,
    BadRequestError,
    FaktooraClient,
    NotFoundError,
)
from faktoora_async.einvoice.cii import render_cii
from faktoora_async.models.customers import CUSTOMER_SORT_FIELDS
from faktoora_async.models.incoming import INCOMING_SORT_FIELDS
from faktoora_async.models.products import PRODUCT_SORT_FIELDS
from faktoora_async.protocol.projects import PROJECT_SORT_FIELDS
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

CII_WITH_ATTACHMENT = (
    "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard/01.15a-INVOICE_uncefact.xml"
)
NO_UUID = "00000000-0000-4000-8000-000000000000"
NO_KEY_ID = "ak_000000000000000000000000"
NO_IMPORT = "IMP00000000"
UNKNOWN_SECRET = "sk_test_unknown_key_for_the_route_table"
FULL_CUSTOMER: dict[str, Any] = {
    "is_company": True,
    "address": "A",
    "postcode": "10115",
    "city": "B",
    "extras": {},
    "country": "DE",  # with the postcode: the SDK need not read the stored country first (one PATCH)
}

# --- the route table of API.md v2 (paths relative to /api/v1 or /api/v2; "{}" is an id) ---------------
API_KEY_ROUTES = [
    ("GET", "/apikeys"),
    ("POST", "/apikeys"),
    ("PATCH", "/apikeys/{}"),
    ("POST", "/apikeys/{}/rotate"),
    ("POST", "/apikeys/{}/revoke"),
    ("DELETE", "/apikeys/{}"),
]
IMPORT_TAILS = [
    "/content",
    "/content/summary",
    "/content/lineitems",
    "/content/taxes",
    "/content/paymentterms",
    "/content/paymentmeans",
    "/content/seller",
    "/content/buyer",
    "/content/delivery",
    "/content/pdf",
    "/source",
    "/validation",
    "/validation/pdf",
    "/status",
    "/attachments",
    "/attachment/{}",
    "/attachment/{}/file",
]
INCOMING_ROUTES = [
    ("POST", "/import/incoming"),
    ("GET", "/import/incoming"),
    ("GET", "/import/incoming/{}"),
    ("PATCH", "/import/incoming/{}"),
    *[("GET", "/import/incoming/{}" + tail) for tail in IMPORT_TAILS],
]
LEGACY_INCOMING_ROUTES = [
    ("POST", "/import"),
    *[(m, p.replace("/import/incoming/{}", "/import/{}")) for m, p in INCOMING_ROUTES if "{}" in p],
]
CUSTOMER_ROUTES = [
    ("GET", "/customers"),
    ("GET", "/customer/{}"),
    ("POST", "/customer"),
    ("PATCH", "/customer/{}"),
    ("DELETE", "/customer/{}"),
    ("GET", "/customers/generate-number"),
    ("GET", "/customer/verify-customer-number"),
    ("POST", "/customers/import/upload"),
    ("POST", "/customers/import"),
]
PRODUCT_ROUTES = [
    ("GET", "/products"),
    ("GET", "/product/{}"),
    ("POST", "/product"),
    ("PATCH", "/product/{}"),
    ("DELETE", "/product/{}"),
    ("GET", "/product/valid-code"),
]
PROJECT_ROUTES = [
    ("GET", "/projects"),
    ("POST", "/project"),
    ("GET", "/project/{}"),
    ("PATCH", "/project/{}"),
    ("DELETE", "/project/{}"),
    ("POST", "/project/{}/document"),
    ("DELETE", "/project/{}/document"),
]
SDK_ROUTES = {*API_KEY_ROUTES, *INCOMING_ROUTES, *CUSTOMER_ROUTES, *PRODUCT_ROUTES, *PROJECT_ROUTES}
ALL_ROUTES = SDK_ROUTES | set(LEGACY_INCOMING_ROUTES)
# routes that name an object: an unknown one is a 404 (POST /customers/import names its file by fileId)
ID_ROUTES = {r for r in SDK_ROUTES if "{}" in r[1]} | {("POST", "/customers/import")}
AREA_PREFIX = re.compile(r"^/(apikeys|customers?|products?|projects?|import(?!/outgoing)(/|$))")


def template(path: str) -> tuple[int, str] | None:
    """``(api version, path with "{}" for ids)`` of a route's canonical path, None when not an API route."""
    match = re.match(r"^/api/v([12])(/.*)$", path)
    if match is None:
        return None
    return int(match.group(1)), re.sub(r"\{[^}]+\}", "{}", match.group(2))


class Recorder:
    """Every answer of the sandbox: (method, api version, route template or None if unmatched, status)."""

    def __init__(self, sb: Sandbox) -> None:
        self.hits: list[tuple[str, int, str | None, int]] = []
        sb.app.on_response_prepare.append(self._seen)

    async def _seen(self, request: web.Request, response: web.StreamResponse) -> None:
        resource = request.match_info.route.resource
        found = template(resource.canonical) if resource is not None else None
        if found is None:
            self.hits.append((request.method, 0, None, response.status))
        else:
            self.hits.append((request.method, found[0], found[1], response.status))

    def routes(self, status: int) -> set[tuple[str, str]]:
        return {(m, t) for m, _, t, s in self.hits if s == status and t is not None}

    def versions(self) -> dict[tuple[str, str], set[int]]:
        out: dict[tuple[str, str], set[int]] = {}
        for m, v, t, _ in self.hits:
            if t is not None:
                out.setdefault((m, t), set()).add(v)
        return out

    def unmatched(self) -> list[tuple[str, int, str | None, int]]:
        return [hit for hit in self.hits if hit[2] is None]

    def clear(self) -> None:
        self.hits.clear()


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[Sandbox, Recorder]]:
    sb = Sandbox(processing_delay=(0.0, 0.0))
    rec = Recorder(sb)  # before start: the app's signals freeze when it starts
    async with sb:
        yield sb, rec


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def xml_invoice(number: str) -> bytes:
    return bytes(render_cii(invoice(number)))


async def settled(c: FaktooraClient, import_id: str) -> None:
    for _ in range(2000):
        if (await c.incoming.status(import_id)).overall_status != "pending":
            return
        await anyio.sleep(0.01)
    raise AssertionError("the incoming invoice never settled")


# ==========================================================================================================
# The table itself
# ==========================================================================================================
def test_the_route_table_counts_49_routes_and_20_legacy_aliases() -> None:
    assert len(API_KEY_ROUTES) == 6 and len(INCOMING_ROUTES) == 21 and len(CUSTOMER_ROUTES) == 9
    assert len(PRODUCT_ROUTES) == 6 and len(PROJECT_ROUTES) == 7
    assert len(SDK_ROUTES) == 49 and len(LEGACY_INCOMING_ROUTES) == 20 and len(ALL_ROUTES) == 69
    assert len(ID_ROUTES) == 35


async def test_the_sandbox_serves_exactly_the_area_routes_of_api_md_under_v1_and_v2(
    recorded: tuple[Sandbox, Recorder],
) -> None:
    sb, _ = recorded
    served: dict[int, set[tuple[str, str]]] = {1: set(), 2: set()}
    for route in sb.app.router.routes():
        resource = route.resource
        found = template(resource.canonical) if resource is not None else None
        if found is None or route.method == "HEAD" or not AREA_PREFIX.match(found[1]):
            continue
        served[found[0]].add((route.method, found[1]))
    assert served[1] == ALL_ROUTES, (served[1] - ALL_ROUTES, ALL_ROUTES - served[1])
    assert served[2] == ALL_ROUTES


# ==========================================================================================================
# Raw HTTP
# ==========================================================================================================
@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-KEY": ""}, {"X-API-KEY": UNKNOWN_SECRET}],
    ids=["no-key", "empty-key", "unknown-key"],
)
async def test_raw_every_area_route_is_401_without_a_known_key(
    recorded: tuple[Sandbox, Recorder], session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    """(Revoked and expired keys on every route: test_sandbox_apikeys.py::
    test_revoked_and_expired_keys_are_401_on_every_route.)"""
    sb, rec = recorded
    api = Api(session, sb)
    for v in (1, 2):
        for method, path in sorted(ALL_ROUTES):
            status, body, _ = await api.call(
                method, path.replace("{}", "X1234567"), v=v, headers=headers, json={}
            )
            assert status == 401, (v, method, path, body)
            assert_error(body, 401, "UNAUTHORIZED")
            assert "errors" not in body and UNKNOWN_SECRET not in body["message"]
    assert rec.unmatched() == []  # every path matched its route: the 401 is the route's own
    assert rec.routes(401) == ALL_ROUTES
    assert all(versions == {1, 2} for versions in rec.versions().values())


async def test_raw_legacy_upload_of_a_non_invoice_is_400_and_stores_nothing(
    session: aiohttp.ClientSession,
) -> None:
    async with Sandbox() as sb:
        api = Api(session, sb)
        form = aiohttp.FormData()
        form.add_field("file", b"this is not an invoice", filename="notes.txt")
        status, body, _ = await api.call("POST", "/import", data=form)
        assert status == 400
        assert_error(body, 400, "UNSUPPORTED_FILE")
        form = aiohttp.FormData()
        form.add_field("document", xml_invoice("IN-1"), filename="in.xml")
        status, body, _ = await api.call("POST", "/import", data=form)
        assert status == 400
        assert_error(body, 400, "BAD_REQUEST")
        assert [e["field"] for e in body["errors"]] == ["file"]
        status, listing, _ = await api.call("GET", "/import/incoming")
        assert status == 200 and listing["meta"]["total"] == 0


@pytest.mark.parametrize("prefix", ["/import/incoming", "/import"])
async def test_raw_unknown_attachment_of_a_held_import_is_404(
    session: aiohttp.ClientSession, prefix: str
) -> None:
    async with Sandbox() as sb:
        api = Api(session, sb)
        form = aiohttp.FormData()
        form.add_field("file", xml_invoice("IN-1"), filename="in.xml")
        status, body, _ = await api.call("POST", "/import/incoming", data=form)
        assert status == 202, body
        import_id = body["importId"]
        status, listing, _ = await api.call("GET", f"{prefix}/{import_id}/attachments")
        assert status == 200 and listing["meta"]["total"] == 0
        for tail in ("/attachment/999", "/attachment/999/file", "/attachment/1/file"):
            status, body, _ = await api.call("GET", f"{prefix}/{import_id}{tail}")
            assert status == 404, (tail, body)
            assert_error(body, 404, "NOT_FOUND")


# ==========================================================================================================
# Through the SDK
# ==========================================================================================================
async def test_sdk_reaches_every_area_route_on_its_api_version(
    recorded: tuple[Sandbox, Recorder], samples_dir: Path, tmp_path: Path
) -> None:
    """One SDK call per route, each answered 2xx; API keys on /api/v2, the rest on /api/v1 (API.md)."""
    sb, rec = recorded
    data = (samples_dir / CII_WITH_ATTACHMENT).read_bytes()
    async with FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        # API keys
        await c.api_keys.list()
        made = await c.api_keys.create("route table")
        await c.api_keys.update(made.id, label="renamed")
        rotated = await c.api_keys.rotate(made.id, grace_period_hours=1)
        await c.api_keys.revoke(made.id)
        assert await c.api_keys.delete(rotated.id) is True
        # incoming invoices
        iid = (await c.incoming.upload(data)).import_id
        await settled(c, iid)
        await c.incoming.list()
        await c.incoming.get(iid)
        await c.incoming.update(iid, note="geprüft")
        await c.incoming.validation(iid)
        await c.incoming.validation_pdf(iid)
        await c.incoming.content(iid)
        await c.incoming.summary(iid)
        await c.incoming.line_items(iid)
        await c.incoming.taxes(iid)
        await c.incoming.payment_terms(iid)
        await c.incoming.payment_means(iid)
        await c.incoming.seller(iid)
        await c.incoming.buyer(iid)
        await c.incoming.delivery(iid)
        await c.incoming.pdf(iid)
        await c.incoming.source(iid, to=tmp_path)
        (attachment,) = [a async for a in c.incoming.attachments(iid)]
        await c.incoming.attachment(iid, attachment.id)
        await c.incoming.attachment_file(iid, attachment.id)
        # customers
        await c.customers.list()
        number = await c.customers.generate_number()
        assert await c.customers.verify_number(number) is True
        customer = await c.customers.create(
            is_company=True, name="ACME", address="Ring 5", postcode="80331", city="München"
        )
        await c.customers.get(customer.id)
        await c.customers.update(
            customer.id, is_company=True, address="Ring 6", postcode="80331", city="München", extras={}
        )
        imported = await c.customers.import_csv(
            b"isCompany,address,postcode,city,extras\ntrue,Weg 1,10115,Berlin,\n"
        )
        assert len(imported) == 1
        assert await c.customers.delete(customer.id) is True
        # products
        await c.products.list()
        assert await c.products.valid_code("P-1") is True
        product = await c.products.create(name="Beratung", unit="HUR", tax=19, code="P-1")
        await c.products.get(product.id)
        await c.products.update(product.id, price="10.00")
        assert await c.products.delete(product.id) is True
        # projects
        await c.projects.list()
        project = await c.projects.create(name="Umbau")
        await c.projects.get(project.id)
        await c.projects.update(project.id, status="paused")
        await c.projects.attach_document(project.id, iid, "invoiceIncoming")
        await c.projects.detach_document(project.id)
        assert await c.projects.delete(project.id) is True
    answered = {(m, t) for m, _, t, s in rec.hits if t is not None and 200 <= s < 300}
    assert answered >= SDK_ROUTES, SDK_ROUTES - answered
    assert rec.unmatched() == [] and not [h for h in rec.hits if h[3] >= 400]
    versions = rec.versions()
    for route in SDK_ROUTES:
        assert versions[route] == ({2} if route in API_KEY_ROUTES else {1}), route


async def test_sdk_unknown_and_revoked_keys_raise_authentication_error_on_every_area_route(
    recorded: tuple[Sandbox, Recorder], tmp_path: Path
) -> None:
    sb, rec = recorded
    async with FaktooraClient(sb.api_key, base_url=sb.base_url) as good:
        other = await good.api_keys.create("other")
        victim = await good.api_keys.create("to revoke")
        await good.api_keys.revoke(victim.id)
        iid = (await good.incoming.upload(xml_invoice("IN-1"))).import_id
        customer = await good.customers.create(
            is_company=True, address="Ring 5", postcode="80331", city="München"
        )
        uploaded = await good.customers.upload_csv(b"isCompany,address,postcode,city,extras\n1,W,10115,B,\n")
        product = await good.products.create(name="Tee", unit="C62", tax=7)
        project = await good.projects.create(name="Umbau")
        assert victim.key is not None
        secrets = {"unknown": UNKNOWN_SECRET, "revoked": victim.key.reveal()}
    csv = b"isCompany,address,postcode,city,extras\ntrue,Weg 1,10115,Berlin,\n"

    def calls(c: FaktooraClient) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
        return [
            ("api_keys.list", lambda: c.api_keys.list()),
            ("api_keys.create", lambda: c.api_keys.create("x")),
            ("api_keys.update", lambda: c.api_keys.update(other.id, label="x")),
            ("api_keys.rotate", lambda: c.api_keys.rotate(other.id, grace_period_hours=1)),
            ("api_keys.revoke", lambda: c.api_keys.revoke(other.id)),
            ("api_keys.delete", lambda: c.api_keys.delete(other.id)),
            ("incoming.upload", lambda: c.incoming.upload(xml_invoice("IN-2"))),
            ("incoming.list", lambda: c.incoming.list()),
            ("incoming.get", lambda: c.incoming.get(iid)),
            ("incoming.update", lambda: c.incoming.update(iid, note="x")),
            ("incoming.status", lambda: c.incoming.status(iid)),
            ("incoming.validation", lambda: c.incoming.validation(iid)),
            ("incoming.validation_pdf", lambda: c.incoming.validation_pdf(iid, to=tmp_path)),
            ("incoming.content", lambda: c.incoming.content(iid)),
            ("incoming.summary", lambda: c.incoming.summary(iid)),
            ("incoming.line_items", lambda: c.incoming.line_items(iid)),
            ("incoming.taxes", lambda: c.incoming.taxes(iid)),
            ("incoming.payment_terms", lambda: c.incoming.payment_terms(iid)),
            ("incoming.payment_means", lambda: c.incoming.payment_means(iid)),
            ("incoming.seller", lambda: c.incoming.seller(iid)),
            ("incoming.buyer", lambda: c.incoming.buyer(iid)),
            ("incoming.delivery", lambda: c.incoming.delivery(iid)),
            ("incoming.pdf", lambda: c.incoming.pdf(iid, to=tmp_path)),
            ("incoming.source", lambda: c.incoming.source(iid, to=tmp_path)),
            ("incoming.attachments", lambda: c.incoming.attachments(iid)),
            ("incoming.attachment", lambda: c.incoming.attachment(iid, "1")),
            ("incoming.attachment_file", lambda: c.incoming.attachment_file(iid, "1", to=tmp_path)),
            ("customers.list", lambda: c.customers.list()),
            ("customers.get", lambda: c.customers.get(customer.id)),
            ("customers.create", lambda: c.customers.create(**FULL_CUSTOMER)),
            ("customers.update", lambda: c.customers.update(customer.id, **FULL_CUSTOMER)),
            ("customers.delete", lambda: c.customers.delete(customer.id)),
            ("customers.generate_number", lambda: c.customers.generate_number()),
            ("customers.verify_number", lambda: c.customers.verify_number("CUST-0001")),
            ("customers.upload_csv", lambda: c.customers.upload_csv(csv)),
            ("customers.import_uploaded", lambda: c.customers.import_uploaded(uploaded.id)),
            ("customers.import_csv", lambda: c.customers.import_csv(csv)),
            ("products.list", lambda: c.products.list()),
            ("products.get", lambda: c.products.get(product.id)),
            ("products.create", lambda: c.products.create(name="Kaffee", unit="C62", tax=7)),
            ("products.update", lambda: c.products.update(product.id, price="1.00")),
            ("products.delete", lambda: c.products.delete(product.id)),
            ("products.valid_code", lambda: c.products.valid_code("T")),
            ("projects.list", lambda: c.projects.list()),
            ("projects.get", lambda: c.projects.get(project.id)),
            ("projects.create", lambda: c.projects.create(name="Neu")),
            ("projects.update", lambda: c.projects.update(project.id, name="Neu")),
            ("projects.delete", lambda: c.projects.delete(project.id)),
            (
                "projects.attach_document",
                lambda: c.projects.attach_document(project.id, iid, "invoiceIncoming"),
            ),
            ("projects.detach_document", lambda: c.projects.detach_document(project.id)),
        ]

    for which, secret in secrets.items():
        rec.clear()
        async with FaktooraClient(secret, base_url=sb.base_url) as bad:
            for name, call in calls(bad):
                with pytest.raises(AuthenticationError) as info:
                    await call()
                assert info.value.status == 401 and info.value.code == "UNAUTHORIZED", (which, name)
                assert secret not in str(info.value) and secret not in info.value.body, (which, name)
                if which == "revoked":
                    assert "revoked" in info.value.message, name
        assert rec.unmatched() == []
        assert rec.routes(401) == SDK_ROUTES, (which, SDK_ROUTES - rec.routes(401))
        assert {s for *_, s in rec.hits} == {401}, which
    assert os.listdir(tmp_path) == []  # no download left a file behind
    async with FaktooraClient(sb.api_key, base_url=sb.base_url) as good:  # nothing was changed
        assert {k.id: k.label async for k in good.api_keys.list()}[other.id] == "other"
        assert [x.id async for x in good.customers.list()] == [customer.id]
        assert [x.id async for x in good.products.list()] == [product.id]
        assert (await good.projects.get(project.id)).name == "Umbau"
        assert [x.import_id async for x in good.incoming.list()] == [iid]


async def test_sdk_unknown_ids_raise_not_found_on_every_area_route_with_an_id(
    recorded: tuple[Sandbox, Recorder], tmp_path: Path
) -> None:
    sb, rec = recorded
    async with FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        held = (await c.incoming.upload(xml_invoice("IN-1"))).import_id
        await settled(c, held)
        rec.clear()
        calls: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("api_keys.update", lambda: c.api_keys.update(NO_KEY_ID, label="x")),
            ("api_keys.rotate", lambda: c.api_keys.rotate(NO_KEY_ID, grace_period_hours=1)),
            ("api_keys.revoke", lambda: c.api_keys.revoke(NO_KEY_ID)),
            ("api_keys.delete", lambda: c.api_keys.delete(NO_KEY_ID)),
            ("incoming.get", lambda: c.incoming.get(NO_IMPORT)),
            ("incoming.update", lambda: c.incoming.update(NO_IMPORT, note="x")),
            ("incoming.status", lambda: c.incoming.status(NO_IMPORT)),
            ("incoming.validation", lambda: c.incoming.validation(NO_IMPORT)),
            ("incoming.validation_pdf", lambda: c.incoming.validation_pdf(NO_IMPORT, to=tmp_path)),
            ("incoming.content", lambda: c.incoming.content(NO_IMPORT)),
            ("incoming.summary", lambda: c.incoming.summary(NO_IMPORT)),
            ("incoming.line_items", lambda: c.incoming.line_items(NO_IMPORT)),
            ("incoming.taxes", lambda: c.incoming.taxes(NO_IMPORT)),
            ("incoming.payment_terms", lambda: c.incoming.payment_terms(NO_IMPORT)),
            ("incoming.payment_means", lambda: c.incoming.payment_means(NO_IMPORT)),
            ("incoming.seller", lambda: c.incoming.seller(NO_IMPORT)),
            ("incoming.buyer", lambda: c.incoming.buyer(NO_IMPORT)),
            ("incoming.delivery", lambda: c.incoming.delivery(NO_IMPORT)),
            ("incoming.pdf", lambda: c.incoming.pdf(NO_IMPORT, to=tmp_path)),
            ("incoming.pdf bytes", lambda: c.incoming.pdf(NO_IMPORT)),
            ("incoming.source", lambda: c.incoming.source(NO_IMPORT, to=tmp_path)),
            ("incoming.attachments", lambda: c.incoming.attachments(NO_IMPORT)),
            ("incoming.attachment", lambda: c.incoming.attachment(NO_IMPORT, "1")),
            ("incoming.attachment_file", lambda: c.incoming.attachment_file(NO_IMPORT, "1", to=tmp_path)),
            ("incoming.attachment of a held import", lambda: c.incoming.attachment(held, "999")),
            ("incoming.attachment_file of a held import", lambda: c.incoming.attachment_file(held, "999")),
            ("customers.get", lambda: c.customers.get(NO_UUID)),
            # every required field given: one PATCH, no GET first (update(id, city=...) reads the record)
            ("customers.update", lambda: c.customers.update(NO_UUID, **FULL_CUSTOMER)),
            ("customers.update partial", lambda: c.customers.update(NO_UUID, city="B")),
            ("customers.delete", lambda: c.customers.delete(NO_UUID)),
            ("customers.import_uploaded", lambda: c.customers.import_uploaded(NO_UUID)),
            ("products.get", lambda: c.products.get(NO_UUID)),
            ("products.update", lambda: c.products.update(NO_UUID, price="1.00")),
            ("products.delete", lambda: c.products.delete(NO_UUID)),
            ("projects.get", lambda: c.projects.get(NO_UUID)),
            ("projects.update", lambda: c.projects.update(NO_UUID, name="x")),
            ("projects.delete", lambda: c.projects.delete(NO_UUID)),
            ("projects.attach_document", lambda: c.projects.attach_document(NO_UUID, "OFFER-1", "offer")),
            ("projects.detach_document", lambda: c.projects.detach_document(NO_UUID)),
            (
                "projects.detach_document named",
                lambda: c.projects.detach_document(NO_UUID, "OFFER-1", "offer"),
            ),
        ]
        for name, call in calls:
            with pytest.raises(NotFoundError) as info:
                await call()
            assert info.value.status == 404 and info.value.code == "NOT_FOUND", name
        assert rec.unmatched() == []
        assert rec.routes(404) == ID_ROUTES, (ID_ROUTES - rec.routes(404), rec.routes(404) - ID_ROUTES)
        assert {s for *_, s in rec.hits} == {404}
        assert sum(1 for *_, s in rec.hits if s == 404) == len(calls)  # one request each, no retry
    assert os.listdir(tmp_path) == []  # a 404 download leaves no file


async def test_sdk_400_paths_only_the_server_can_check(recorded: tuple[Sandbox, Recorder]) -> None:
    """The 400s the SDK cannot raise locally reach the caller as BadRequestError naming the field."""
    sb, rec = recorded
    async with FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        iid = (await c.incoming.upload(xml_invoice("IN-1"))).import_id
        rec.clear()
        for kwargs, field in (
            ({"status": "done"}, "status"),
            ({"status": ["accepted", "archived"]}, "status"),
            ({"issue_date_from": "2026-01-01"}, "issueDateFrom"),
            ({"issue_date_to": "15.01.2026"}, "issueDateTo"),
        ):
            with pytest.raises(BadRequestError) as info:
                await c.incoming.list(**kwargs)
            assert info.value.status == 400 and [e.field for e in info.value.errors] == [field], kwargs
        for file_id in ("", "x" * 37):
            with pytest.raises(BadRequestError) as info:
                await c.customers.import_uploaded(file_id)
            assert [e.field for e in info.value.errors] == ["fileId"], file_id
        with pytest.raises(BadRequestError) as info:  # a relation field the server does not search
            await c.customers.list(relation_fields="password")
        assert [e.field for e in info.value.errors] == ["relationFields[0]"]
        assert rec.routes(400) == {
            ("GET", "/import/incoming"),
            ("POST", "/customers/import"),
            ("GET", "/customers"),
        }
        assert [x.import_id async for x in c.incoming.list()] == [iid]
        assert [x async for x in c.customers.list()] == []


async def test_sdk_every_sort_field_and_order_is_accepted_by_the_sandbox(
    recorded: tuple[Sandbox, Recorder],
) -> None:
    """The SDK's sort fields (API.md's lists for customers and products) are the sandbox's: no 400."""
    sb, rec = recorded
    async with FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        await c.customers.create(is_company=True, name="A", address="W", postcode="10115", city="B")
        await c.products.create(name="Tee", unit="C62", tax=7)
        await c.projects.create(name="Umbau")
        await c.incoming.upload(xml_invoice("IN-1"))
        lists: list[tuple[Callable[..., Any], tuple[str, ...]]] = [
            (c.customers.list, CUSTOMER_SORT_FIELDS),
            (c.products.list, PRODUCT_SORT_FIELDS),
            (c.projects.list, PROJECT_SORT_FIELDS),
            (c.incoming.list, INCOMING_SORT_FIELDS),
        ]
        for list_call, fields in lists:
            for sort in fields:
                for order in ("asc", "desc"):
                    page = await list_call(sort=sort, order=order)
                    assert len(page.items) == 1, (list_call, sort, order)
    assert set(CUSTOMER_SORT_FIELDS) == {
        "customerId", "name", "nameAuthorisedSignatory", "address", "phoneNo", "category", "isCompany",
        "email", "faktooraId", "vatId", "taxId", "invoiceProfile", "supplierNumber", "routeId", "peppolId",
        "createdAt", "updatedAt",
    }  # fmt: skip
    assert set(PRODUCT_SORT_FIELDS) == {
        "code", "name", "unit", "tax", "price", "cost", "inventoryCount", "createdAt", "description",
        "buyerAssignedID",
    }  # fmt: skip
    assert not [h for h in rec.hits if h[3] >= 400]


async def test_sdk_refuses_the_only_400_of_verify_number_and_valid_code_before_sending(
    recorded: tuple[Sandbox, Recorder],
) -> None:
    """The sandbox's 400 of these two routes is a missing parameter (raw: test_sandbox_customers.py and
    test_sandbox_products.py); the SDK cannot send one: an empty value is a ValueError, nothing is sent."""
    sb, rec = recorded
    async with FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        before = c.stats["attempts"]
        for call in (
            lambda: c.customers.verify_number(""),
            lambda: c.customers.verify_number("  "),
            lambda: c.products.valid_code(""),
            lambda: c.products.valid_code(" "),
        ):
            with pytest.raises(ValueError):
                await call()
        assert c.stats["attempts"] == before and rec.hits == []
