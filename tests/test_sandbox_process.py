"""The sandbox as a separate process (CLI entry) and the pytest fixtures of ``faktoora_async.testing``."""

from __future__ import annotations

import argparse

import aiohttp
import pytest
import requests

from faktoora_async import testing as sandbox_testing
from faktoora_async.sandbox import Sandbox, SandboxProcess
from faktoora_async.sandbox.__main__ import add_arguments, build_sandbox, main

# the fixtures users get from ``pytest_plugins = ["faktoora_async.testing"]``
faktoora_sandbox = sandbox_testing.faktoora_sandbox
faktoora_sandbox_factory = sandbox_testing.faktoora_sandbox_factory


def test_sandbox_process_sync_serves_and_stops_cleanly() -> None:
    proc = SandboxProcess(features=["invoiceValidation"], rate=1000, burst=1000)
    with proc:
        assert proc.base_url.startswith("http://127.0.0.1:") and proc.base_url.endswith("/api/v1")
        assert proc.api_key.startswith("sk_test_")
        r = requests.get(proc.base_url + "/invoices", headers={"X-API-KEY": proc.api_key}, timeout=10)
        assert r.status_code == 200 and r.json()["meta"]["total"] == 0
        r = requests.get(proc.base_url + "/invoices", headers={"X-API-KEY": "wrong"}, timeout=10)
        assert r.status_code == 401
        r = requests.get(proc.root_url + "/_sandbox/accounts", timeout=10)
        assert r.json()[0]["features"] == ["invoiceValidation"]
        child = proc.proc
        assert child is not None
    assert child.returncode == 0  # SIGTERM ends it cleanly


@pytest.mark.anyio
async def test_sandbox_process_async_with_faults_from_cli_args() -> None:
    async with (
        SandboxProcess(extra_args=["--error-rate", "1", "--seed", "4"]) as proc,
        aiohttp.ClientSession() as s,
    ):
        async with s.get(proc.base_url + "/invoices", headers={"X-API-KEY": proc.api_key}) as r:
            assert r.status in (500, 502, 503)
        async with s.get(proc.root_url + "/_sandbox/faults") as r:
            cfg = await r.json()
            assert cfg["errorRate"] == 1.0 and cfg["seed"] == 4


def test_cli_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            *("--port", "0", "--api-key", "k", "--features", "none", "--rate", "5", "--burst", "10"),
            *("--processing-delay", "0.1,0.5", "--latency-ms", "3", "--truncate-rate", "0.5", "--seed", "9"),
        ]
    )
    sb = build_sandbox(args)
    assert isinstance(sb, Sandbox)
    assert sb.api_key == "k" and sb.config.processing_delay == (0.1, 0.5)
    assert sb.faults.truncate_rate == 0.5 and sb.faults.latency_ms == 3 and sb.faults.seed == 9
    account = sb.state.accounts["k"]
    assert account.features == frozenset() and account.bucket is not None and account.bucket.burst == 10
    for bad in (["--processing-delay", "x"], ["--features", "nope"], ["--error-rate", "2"]):
        with pytest.raises(SystemExit):
            main(bad)


@pytest.mark.anyio
async def test_fixture_gives_running_sandbox(faktoora_sandbox: Sandbox) -> None:
    async with (
        aiohttp.ClientSession() as s,
        s.get(faktoora_sandbox.base_url + "/invoices", headers={"X-API-KEY": faktoora_sandbox.api_key}) as r,
    ):
        assert r.status == 200


@pytest.mark.anyio
async def test_factory_fixture_applies_options(
    faktoora_sandbox_factory: sandbox_testing.SandboxFactory,
) -> None:
    sb = await faktoora_sandbox_factory("custom-key", features=(), rate=0.5, burst=1)
    other = await faktoora_sandbox_factory(faults={"error_rate": 1.0})
    assert sb.port != other.port
    async with aiohttp.ClientSession() as s:
        statuses = []
        for _ in range(2):
            async with s.get(sb.base_url + "/invoices", headers={"X-API-KEY": "custom-key"}) as r:
                statuses.append(r.status)
        assert statuses == [200, 429]
        async with s.get(other.base_url + "/invoices", headers={"X-API-KEY": other.api_key}) as r:
            assert r.status >= 500
