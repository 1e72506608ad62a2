"""Client lifecycle and configuration: env vars, closing, cancellation, borrowed sessions, key secrecy."""

from __future__ import annotations

import gc
import logging
import shutil
import ssl
import subprocess
import warnings
from pathlib import Path

import aiohttp
import anyio
import pytest
from aiohttp import web

from faktoora_async import (
    ClientClosedError,
    ConfigurationError,
    ConnectError,
    FaktooraClient,
    Limits,
    RetryConfig,
    ServerError,
    Timeout,
)
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio


async def test_key_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    async with Sandbox() as sb:
        monkeypatch.setenv("FAKTOORA_API_KEY", sb.api_key)
        monkeypatch.setenv("FAKTOORA_BASE_URL", sb.base_url + "/")
        async with FaktooraClient() as c:
            assert c.base_url == sb.base_url
            assert (await c.invoices.next_number()).invoice_number


def test_production_default_and_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAKTOORA_BASE_URL", raising=False)
    monkeypatch.delenv("FAKTOORA_API_KEY", raising=False)
    assert FaktooraClient("k").base_url == "https://api.faktoora.com/api/v1"
    with pytest.raises(ConfigurationError, match="FAKTOORA_API_KEY"):
        FaktooraClient()
    with pytest.raises(ConfigurationError):
        FaktooraClient("  ")
    with pytest.raises(ConfigurationError):
        FaktooraClient("k", base_url="ftp://example.com")
    with pytest.raises(ConfigurationError):
        FaktooraClient("k", max_retries=-1)


def test_config_objects() -> None:
    c = FaktooraClient("k", timeout=5, max_retries=0, max_connections=7, max_rate=3.0)
    assert c.timeout == Timeout(total=5.0, connect=5.0, read=5.0)
    assert c.retry.max_retries == 0
    assert c.limits == Limits(max_connections=7, max_rate=3.0)
    assert c.rate_limiter.rate == 3.0
    c2 = FaktooraClient(
        "k", retry=RetryConfig(max_retries=9, deadline=None), limits=Limits(max_connections=2)
    )
    assert c2.retry.max_retries == 9 and c2.limits.max_connections == 2


async def test_repr_errors_and_logs_never_show_the_key(caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk_test_this-must-never-leak-0123456789"
    caplog.set_level(logging.DEBUG, logger="faktoora_async")
    async with Sandbox(secret) as sb, FaktooraClient(secret, base_url=sb.base_url, max_retries=1) as c:
        assert secret not in repr(c) and "***" in repr(c)
        assert secret not in repr(c.__dict__.get("_transport"))
        await c.invoices.next_number()
        sb.set_faults(error_rate=1.0)
        with pytest.raises(ServerError) as info:
            await c.invoices.next_number()
        assert secret not in str(info.value) and secret not in repr(info.value)
        assert secret not in info.value.body
    assert caplog.records, "the client logs requests"
    assert all(secret not in r.getMessage() for r in caplog.records)


async def test_use_after_close_is_a_clear_error() -> None:
    async with Sandbox() as sb:
        c = FaktooraClient(sb.api_key, base_url=sb.base_url)
        async with c:
            await c.invoices.next_number()
        assert c.closed
        with pytest.raises(ClientClosedError):
            await c.invoices.next_number()
        with pytest.raises(ClientClosedError):
            async with c:
                pass
        await c.aclose()  # idempotent


async def test_a_borrowed_session_is_not_closed() -> None:
    async with Sandbox() as sb, aiohttp.ClientSession() as session:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url, session=session) as c:
            await c.invoices.next_number()
        assert not session.closed
        async with session.get(sb.base_url + "/invoices/next-number", headers={"X-API-KEY": sb.api_key}) as r:
            assert r.status == 200


async def test_cancellation_mid_request_leaves_nothing_unclosed() -> None:
    async with Sandbox(faults={"latency_ms": 5000}) as sb:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with anyio.move_on_after(0.2) as scope:
                async with (
                    FaktooraClient(sb.api_key, base_url=sb.base_url) as c,
                    anyio.create_task_group() as tg,
                ):
                    for _ in range(3):
                        tg.start_soon(c.invoices.next_number)
            assert scope.cancelled_caught
            assert c.closed
            del c
            gc.collect()
        unclosed = [
            w for w in caught if "nclosed" in str(w.message) or issubclass(w.category, ResourceWarning)
        ]
        assert unclosed == []


async def test_client_never_entered_nor_used_needs_no_close() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = FaktooraClient("k")
        del c
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def _self_signed(folder: Path) -> ssl.SSLContext:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl binary is needed to make a self-signed certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_tls_verification_is_on_by_default(tmp_path: Path) -> None:
    context = _self_signed(tmp_path)

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"invoiceNumber": "X", "counter": 1})

    app = web.Application()
    app.router.add_get("/api/v1/invoices/next-number", ok)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        base = f"https://127.0.0.1:{runner.addresses[0][1]}/api/v1"
        async with FaktooraClient("k", base_url=base, max_retries=3) as c:
            with pytest.raises(ConnectError, match="certificate"):
                await c.invoices.next_number()
            assert c.stats["attempts"] == 1  # a certificate error is not retried
    finally:
        await runner.cleanup()


async def test_account_id_header_selects_a_tenant() -> None:
    async with (
        Sandbox() as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url, account_id="tenant-a") as a,
        FaktooraClient(sb.api_key, base_url=sb.base_url, account_id="tenant-b") as b,
    ):
        from faktoora_async.einvoice.generate import generate_invoice

        await a.invoices.create(generate_invoice(0))
        assert len([i async for i in a.invoices.list()]) == 1
        assert [i async for i in b.invoices.list()] == []


def test_environments_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAKTOORA_BASE_URL", raising=False)
    monkeypatch.delenv("FAKTOORA_ENVIRONMENT", raising=False)
    key = "sk_test_environment_key"
    assert FaktooraClient(key).base_url == "https://api.faktoora.com/api/v1"
    assert FaktooraClient(key, environment="demo").base_url == "https://api.demo.faktoora.com/api/v1"
    assert FaktooraClient(key, environment="Sandbox").base_url == "https://api.sandbox.faktoora.com/api/v1"
    monkeypatch.setenv("FAKTOORA_ENVIRONMENT", "demo")
    assert FaktooraClient(key).base_url == "https://api.demo.faktoora.com/api/v1"
    # an explicit base URL (argument or $FAKTOORA_BASE_URL) wins over $FAKTOORA_ENVIRONMENT
    assert FaktooraClient(key, base_url="http://127.0.0.1:9/api/v1").base_url == "http://127.0.0.1:9/api/v1"
    monkeypatch.setenv("FAKTOORA_BASE_URL", "http://127.0.0.1:8/api/v1")
    assert FaktooraClient(key).base_url == "http://127.0.0.1:8/api/v1"
    with pytest.raises(ConfigurationError, match="production, demo, sandbox"):
        FaktooraClient(key, environment="staging")
    with pytest.raises(ConfigurationError, match="not both"):
        FaktooraClient(key, environment="demo", base_url="http://127.0.0.1:9/api/v1")
    monkeypatch.delenv("FAKTOORA_BASE_URL")
    monkeypatch.setenv("FAKTOORA_ENVIRONMENT", "nowhere")
    with pytest.raises(ConfigurationError, match="FAKTOORA_ENVIRONMENT"):
        FaktooraClient(key)
