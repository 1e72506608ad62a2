"""Raw-HTTP helpers for the sandbox contract tests (aiohttp.ClientSession, never the SDK)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web

from faktoora_async.sandbox import Sandbox


def invoice(number: str | None, **extra: Any) -> dict[str, Any]:
    """A small valid payload invoice (``number=None``: no ``invoiceNumber``, the account numbers it)."""
    body: dict[str, Any] = {
        "format": "xrechnung",
        "issueDate": "20260115",
        "currency": "EUR",
        "buyerReference": "04011000-12345-67",
        "seller": {
            "name": "Muster GmbH",
            "street": "Hauptstr. 1",
            "postcode": "10115",
            "city": "Berlin",
            "country": "DE",
            "vatId": "DE123456789",
            "email": "billing@muster.example",
            "electronicAddress": "billing@muster.example",
            "electronicAddressScheme": "EM",
            "iban": "DE89370400440532013000",
        },
        "buyer": {
            "name": "Acme AG",
            "street": "Ring 5",
            "postcode": "80331",
            "city": "München",
            "country": "DE",
            "electronicAddress": "ap@acme.example",
            "electronicAddressScheme": "EM",
        },
        "invoiceItems": [
            {
                "id": "1",
                "product": {
                    "name": "Beratung",
                    "quantity": "2",
                    "unitCode": "HUR",
                    "price": "100.00",
                    "taxes": [{"typeCode": "VAT", "categoryCode": "S", "rate": 19}],
                },
            }
        ],
    }
    if number is not None:
        body["invoiceNumber"] = number
    body.update(extra)
    return body


def assert_error(body: Any, status: int, code: str | None = None) -> None:
    """``body`` is a NestJS error answer with that status (and code)."""
    assert isinstance(body, dict), body
    assert body["statusCode"] == status, body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["code"], str), body
    if code is not None:
        assert body["code"] == code, body


class Api:
    """Raw HTTP bound to one sandbox and one key (and optionally one ``x-account-id``)."""

    def __init__(
        self, session: aiohttp.ClientSession, sb: Sandbox, key: str | None = None, account: str = ""
    ) -> None:
        self.s = session
        self.sb = sb
        self.key = key or sb.api_key
        self.account = account

    def headers(self, **extra: str) -> dict[str, str]:
        base = {"X-API-KEY": self.key}
        if self.account:
            base["x-account-id"] = self.account
        return {**base, **extra}

    async def call(
        self, method: str, path: str, *, v: int = 1, headers: dict[str, str] | None = None, **kw: Any
    ) -> tuple[int, Any, Any]:
        """``(status, body, headers)``; the body is parsed JSON for JSON answers, else bytes."""
        url = (self.sb.base_url if v == 1 else self.sb.base_url_v2) + path
        async with self.s.request(
            method, url, headers=self.headers() if headers is None else headers, **kw
        ) as resp:
            raw = await resp.read()
            body: Any = await resp.json() if resp.content_type == "application/json" else raw
            return resp.status, body, resp.headers

    async def create(self, *invoices: dict[str, Any]) -> list[str]:
        status, body, _ = await self.call("POST", "/invoices", json={"invoices": list(invoices)})
        assert status == 202, body
        return [item["faktooraId"] for item in body]

    async def status(self, fid: str) -> dict[str, Any]:
        status, body, _ = await self.call("GET", f"/invoices/{fid}/status", v=2)
        assert status == 200, body
        assert isinstance(body, dict)
        return body

    async def wait_for(self, fid: str, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        st: dict[str, Any] = {}
        for _ in range(2000):
            st = await self.status(fid)
            if pred(st):
                return st
            await asyncio.sleep(0.01)
        raise AssertionError(f"status of {fid} never matched: {st}")

    async def ready(self, fid: str) -> dict[str, Any]:
        """Wait until generation ended (file made or failed)."""
        return await self.wait_for(fid, lambda s: s["jobStatus"] in (None, "failed"))

    async def admin(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        async with self.s.request(method, f"{self.sb.root_url}/_sandbox/{path}", **kw) as resp:
            body = await resp.json() if resp.content_type == "application/json" else await resp.read()
            return resp.status, body


class Receiver:
    """A webhook target on loopback recording every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.url = ""
        self.status = 204

    async def _hook(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        return web.Response(status=self.status)

    async def wait(self, pred: Callable[[list[Any]], bool], what: str = "deliveries") -> None:
        for _ in range(2000):
            if pred(self.bodies):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{what} never arrived: {self.bodies}")


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec._hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        yield rec
    finally:
        await runner.cleanup()
