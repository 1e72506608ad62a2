"""Malformed requests get a 4xx (never a 5xx) and change nothing; seeded fuzzing agrees with einvoice."""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

JSON = {"Content-Type": "application/json"}
MULTIPART = "multipart/form-data; boundary=xyz"


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def session(sb: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sb.root_url, headers={"X-API-KEY": sb.api_key}) as s:
        yield s


def no_5xx(sb: Sandbox) -> None:
    counts = sb.stats()["requests"]
    bad = {k: v for k, v in counts.items() if any(status.startswith("5") for status in v)}
    assert not bad, bad


async def test_odd_requests_are_4xx(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    cases: list[tuple[str, str, dict[str, Any]]] = [
        (
            "POST",
            "/api/v1/import/outgoing",
            {"data": b"garbage", "headers": {"Content-Type": "multipart/form-data"}},
        ),
        ("POST", "/api/v1/import/outgoing", {"data": b"garbage", "headers": {"Content-Type": MULTIPART}}),
        (
            "POST",
            "/api/v1/import/outgoing",
            {
                "data": b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc',
                "headers": {"Content-Type": MULTIPART},
            },
        ),
        ("POST", "/api/v1/import/outgoing", {"data": b"--xyz--\r\n", "headers": {"Content-Type": MULTIPART}}),
        ("PATCH", "/api/v1/webhooks/WABCDEFG", {"data": b"x"}),
        ("POST", "/api/v1/webhooks", {"data": b"{", "headers": JSON}),
        ("PUT", "/_sandbox/faults", {"data": b"x", "headers": JSON}),
        ("POST", "/_sandbox/accounts", {"json": {"apiKey": "a b"}}),
        ("POST", "/_sandbox/accounts", {"json": {"apiKey": "ab", "rate": -1}}),
        ("POST", "/_sandbox/accounts", {"json": {"apiKey": "ab", "features": ["x"]}}),
        ("POST", "/_sandbox/approve/nope", {}),
        ("GET", "/api/v1/invoices?page=%ZZ", {}),
        ("GET", "/api/v1/invoices?perPage=99999999999999999999", {}),
        ("GET", "/api/v1/invoices?keyword=" + "a" * 5000, {}),
        ("GET", "/api/v1/invoices?issueDateFrom=", {}),
        ("GET", "/api/v1/invoices/next-number?template={counter:0", {}),
        (
            "POST",
            "/api/v1/invoices",
            {"data": b'{"invoices": [{"invoiceNumber": {"$gt": 1}}]}', "headers": JSON},
        ),
        ("POST", "/api/v1/invoices", {"data": b'{"invoices": 1e999999}', "headers": JSON}),
        (
            "POST",
            "/api/v1/invoices",
            {
                "data": b'{"invoices": [{"invoiceItems": [{"product": {"quantity": 1e999999}}]}]}',
                "headers": JSON,
            },
        ),
        (
            "POST",
            "/api/v1/invoices",
            {
                "data": b'{"invoices": [{"invoiceItems": [{"product": '
                b'{"quantity": "1e999999999", "price": "NaN"}}]}]}',
                "headers": JSON,
            },
        ),
        ("POST", "/api/v1/invoices", {"data": b'{"invoices": [{"issueDate": "\\u0000"}]}', "headers": JSON}),
        ("POST", "/api/v1/invoices", {"data": b"", "headers": JSON}),
        ("POST", "/api/v1/invoices", {"data": b"null", "headers": JSON}),
        ("GET", "/api/v1/invoices/%F0%9F%98%80", {"headers": {"Accept": "application/pdf"}}),
        ("GET", "/api/v1/import/outgoing/FABCDEFG/attachment/%00/file", {}),
        ("DELETE", "/api/v1/invoices", {}),
        ("GET", "/api/v3/invoices", {}),
    ]
    for method, path, kw in cases:
        async with session.request(method, path, **kw) as resp:
            body = await resp.read()
            assert 400 <= resp.status < 500, (method, path, resp.status, body[:200])
            assert resp.content_type == "application/json", (method, path)
            assert (await resp.json())["statusCode"] == resp.status
    # raw bytes that are not HTTP at all: the server answers 400 and stays healthy
    reader, writer = await asyncio.open_connection(sb.host, sb.port)
    writer.write(b"\x00\x01GARBAGE\r\n\r\n")
    await writer.drain()
    head = await reader.read(100)
    writer.close()
    await writer.wait_closed()
    assert head.startswith(b"HTTP/1.") and b" 400 " in head
    async with session.get("/api/v1/invoices") as resp:
        assert resp.status == 200
    no_5xx(sb)
    assert sb.invoices() == [] and sb.stats()["importsStored"] == 0


_ODD_VALUES: list[Any] = [
    None,
    "",
    " ",
    "x" * 600,
    -1,
    0,
    "1.5",
    "-0.01",
    "1e400",
    "1E-30",
    "12.345678901234",
    True,
    [],
    {},
    [1, 2],
    "20261301",
    "20260230",
    "DE",
    "de",
    "ZZZ",
    "\u0000",
    "<x>&amp;</x>",
    "a@b.c",
]


def _mutate(value: Any, rng: random.Random) -> Any:
    """One random edit somewhere in a JSON-like tree: drop a key, replace a value, or add a key."""
    containers: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, (dict, list)):
            containers.append(node)
            for child in node.values() if isinstance(node, dict) else node:
                walk(child)

    walk(value)
    node = rng.choice(containers)
    if isinstance(node, dict) and node:
        key = rng.choice(sorted(node))
        action = rng.random()
        if action < 0.3:
            del node[key]
        elif action < 0.9:
            node[key] = copy.deepcopy(rng.choice(_ODD_VALUES))
        else:
            node[rng.choice(["extra", "Name", "invoice_number"])] = 1
    elif isinstance(node, list) and node:
        index = rng.randrange(len(node))
        if rng.random() < 0.5:
            node[index] = copy.deepcopy(rng.choice(_ODD_VALUES))
        else:
            node.append(copy.deepcopy(node[index]))
    return value


async def test_fuzzed_payloads_are_202_or_400_and_accepted_ones_generate(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    rng = random.Random(20260326)
    accepted: list[str] = []
    rejected = 0
    for i in range(300):
        inv = generate_invoice(i, seed=5)
        inv["invoiceNumber"] = f"FZ-{i}"
        for _ in range(rng.randint(1, 3)):
            _mutate(inv, rng)
        async with session.post("/api/v1/invoices", json={"invoices": [inv]}) as resp:
            body = await resp.json()
            assert resp.status in (202, 400, 409), (resp.status, body)
            if resp.status == 202:
                accepted.append(body[0]["faktooraId"])
            else:
                rejected += 1
                assert body["errors"] and all("field" in e for e in body["errors"])
    assert len(accepted) > 10 and rejected > 100
    # whatever the sandbox accepted, the einvoice renderer can generate
    for fid in accepted:
        for _ in range(500):
            async with session.get(f"/api/v2/invoices/{fid}/status") as resp:
                st = await resp.json()
            if st["jobStatus"] is None or st["jobStatus"] == "failed":
                break
            await asyncio.sleep(0.01)
        assert st["jobStatus"] is None, (fid, st)
    for fid in accepted[:8]:  # the PDF (rendered on first download) works too
        async with session.get(f"/api/v1/invoices/{fid}", headers={"Accept": "application/pdf"}) as resp:
            assert resp.status == 200 and (await resp.read()).startswith(b"%PDF")
    no_5xx(sb)
    assert sb.stats()["invoicesStored"] == len(accepted)


async def test_every_generated_invoice_passes_request_validation() -> None:
    from faktoora_async.einvoice.generate import generate_invoices
    from faktoora_async.sandbox.validation import validate_invoice

    problems = [
        (seed, inv["invoiceNumber"], validate_invoice(inv, 0))
        for seed in (0, 1, 11)
        for inv in generate_invoices(200, seed=seed)
    ]
    assert [p for p in problems if p[2]] == []
