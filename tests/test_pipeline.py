"""The one request pipeline: pure retry decisions, the retry budget, one wire form, uniform resources.

Pure parts are tested with plain data; the rest against the real sandbox or a closed loopback port.
"""

from __future__ import annotations

import datetime
import inspect
import os
import socket
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from faktoora_async import ConnectError, FaktooraClient, Invoice, InvoiceValidationError, RetryConfig
from faktoora_async.bulk import BulkRunner
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.models import Page
from faktoora_async.models._base import dec_hook
from faktoora_async.pagination import AsyncPaginator
from faktoora_async.protocol import (
    APIRequest,
    Outcome,
    RetryBudget,
    prepare_invoice,
    retry_delay,
    should_retry,
)
from faktoora_async.protocol.retry import BUDGET_CAPACITY, RETRY_COST, TIMEOUT_RETRY_COST, retry_cost
from faktoora_async.resources.api_keys import ApiKeys, ApiKeysWithRawResponse
from faktoora_async.resources.customers import Customers, CustomersWithRawResponse
from faktoora_async.resources.imports import Imports, ImportsWithRawResponse
from faktoora_async.resources.incoming import Incoming, IncomingWithRawResponse
from faktoora_async.resources.invoices import Invoices, InvoicesWithRawResponse
from faktoora_async.resources.products import Products, ProductsWithRawResponse
from faktoora_async.resources.projects import Projects, ProjectsWithRawResponse
from faktoora_async.resources.settings import Settings, SettingsWithRawResponse
from faktoora_async.resources.webhooks import Webhooks, WebhooksWithRawResponse
from faktoora_async.sandbox import Sandbox

GET = APIRequest("GET", "/invoices/F1/status")
POST = APIRequest("POST", "/invoices")
DELETE = APIRequest("DELETE", "/invoices/F1")


# ---------------------------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("outcome", "get", "post"),
    [
        (Outcome("connect"), True, True),  # never reached the server
        (Outcome("tls"), False, False),  # a certificate problem does not go away
        (Outcome("timeout"), True, False),  # may have been acted on
        (Outcome("reset"), True, False),
        (Outcome("response", 429, 1.0), True, True),  # throttled: not processed
        (Outcome("response", 503, 2.0), True, True),  # unavailable with Retry-After: not processed
        (Outcome("response", 503), True, False),
        (Outcome("response", 500), True, False),
        (Outcome("response", 502), True, False),
        (Outcome("response", 400), False, False),
        (Outcome("response", 401), False, False),
        (Outcome("response", 404), False, False),
        (Outcome("response", 409), False, False),
    ],
)
def test_should_retry_table(outcome: Outcome, get: bool, post: bool) -> None:
    assert should_retry(GET, outcome) is get
    assert should_retry(DELETE, outcome) is get
    assert should_retry(POST, outcome) is post


def test_retry_delay_is_jittered_and_floored_by_retry_after() -> None:
    assert retry_delay(2.0, None, max_retry_after=60, jitter=lambda c: c) == 2.0
    assert retry_delay(2.0, None, max_retry_after=60, jitter=lambda c: 0.0) == 0.0
    assert retry_delay(0.5, 7.0, max_retry_after=60, jitter=lambda c: c) == 7.0  # Retry-After is a floor
    assert retry_delay(0.5, 700.0, max_retry_after=60, jitter=lambda c: c) == 60.0  # ... capped
    assert retry_delay(9.0, 1.0, max_retry_after=60, jitter=lambda c: c) == 9.0
    assert retry_delay(1.0, float("nan"), max_retry_after=60, jitter=lambda c: c) == 1.0


def test_retry_budget_spends_refills_and_refuses() -> None:
    budget = RetryBudget(12)
    assert retry_cost(Outcome("connect")) == RETRY_COST
    assert retry_cost(Outcome("timeout")) == TIMEOUT_RETRY_COST
    assert retry_cost(Outcome("response", 429)) == 0
    assert budget.spend(5) and budget.spend(5)
    assert not budget.spend(5) and budget.refused == 1 and budget.available == 2
    budget.refill(5)  # a success after a paid retry gives back what it cost
    assert budget.available == 7
    budget.refill(0)  # a first-try success adds one token
    assert budget.available == 8
    for _ in range(20):
        budget.refill(5)
    assert budget.available == 12  # never above capacity
    assert RetryBudget().capacity == BUDGET_CAPACITY


# ---------------------------------------------------------------------------------------------- one wire form


def _base(number: str) -> dict[str, Any]:
    inv = generate_invoice(3, seed=17)
    inv["invoiceNumber"] = number
    inv.pop("delivery", None)
    return inv


def _as_dates_and_decimals(inv: dict[str, Any]) -> dict[str, Any]:
    out = dict(inv)
    d = inv["issueDate"]
    out["issueDate"] = datetime.date(int(d[:4]), int(d[4:6]), int(d[6:]))
    items = []
    for item in inv["invoiceItems"]:
        product = dict(item["product"])
        product["quantity"] = Decimal(str(product["quantity"]))
        product["price"] = Decimal(str(product["price"]))
        product["taxes"] = [dict(t, rate=Decimal(str(t["rate"]))) for t in product.get("taxes", [])]
        items.append(dict(item, product=product))
    out["invoiceItems"] = items
    return out


def _variants(prefix: str) -> list[tuple[str, Any]]:
    """30 inputs: 20 well-formed ways to say an invoice, 10 broken ones (the same for both paths)."""
    out: list[tuple[str, Any]] = []
    for k in range(8):
        out.append(("strings", _base(f"{prefix}-S{k}")))
    for k in range(5):
        out.append(("date+Decimal", _as_dates_and_decimals(_base(f"{prefix}-D{k}"))))
    for k in range(4):
        out.append(
            ("struct", msgspec.convert(_base(f"{prefix}-T{k}"), Invoice, dec_hook=dec_hook, strict=False))
        )
    for k in range(3):
        inv = _base(f"{prefix}-F{k}")
        inv["invoiceItems"][0]["product"]["quantity"] = 2.5  # a binary float becomes the decimal "2.5"
        out.append(("float", inv))
    broken: list[dict[str, Any]] = []
    for k in range(10):
        inv = _as_dates_and_decimals(_base(f"{prefix}-X{k}")) if k % 2 else _base(f"{prefix}-X{k}")
        broken.append(inv)
    broken[0]["issueDate"] = "yesterday"
    broken[1]["invoiceItems"] = []
    broken[2]["currency"] = "EURO"
    broken[3]["buyer"] = {"name": ""}
    broken[4]["invoiceItems"][0]["product"]["unitCode"] = "NOT-A-UNIT"
    broken[5]["invoiceItems"][0]["product"]["taxes"][0]["categoryCode"] = "Q"
    broken[6]["invoiceItems"][0]["product"]["quantity"] = "many"
    broken[7]["issueDate"] = 20260301  # a number where a YYYYMMDD string belongs
    broken[8]["buyer"] = "Buyer GmbH"  # a string where an object belongs
    broken[9]["invoiceItems"][0]["product"]["price"] = {"amount": 1}
    out.extend(("broken", inv) for inv in broken)
    assert len(out) == 30
    return out


async def _create_outcome(client: FaktooraClient, invoice: Any) -> tuple[str, tuple[str, ...]]:
    try:
        await client.invoices.create(invoice)
    except InvoiceValidationError as exc:
        return "failed", tuple(sorted({v.rule_id for v in exc.violations}))
    return "done", ()


@pytest.mark.anyio
async def test_bulk_and_create_accept_exactly_the_same_inputs(tmp_path: Path) -> None:
    async with Sandbox(processing_delay=(0.0, 0.02), seed=5) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            direct = [(kind, await _create_outcome(client, inv)) for kind, inv in _variants("C")]
            bulk_inputs = _variants("B")
            runner = BulkRunner(
                client, journal=tmp_path / "j.sqlite", out_dir=tmp_path / "out", formats=("xml",)
            )
            report = await runner.run([inv for _, inv in bulk_inputs])
        by_number = {row.number: row for row in report.rows}
    bulk = []
    for kind, inv in bulk_inputs:
        number = prepare_invoice(inv).number
        assert number is not None
        row = by_number[number]
        bulk.append((kind, (row.outcome, tuple(sorted(row.rule_ids)))))
    assert bulk == direct
    assert sum(1 for _, (outcome, _) in direct if outcome == "done") == 20
    assert all(rules for kind, (outcome, rules) in direct if kind == "broken")


def test_equal_invoices_have_one_wire_form() -> None:
    plain = _base("W-1")
    typed = _as_dates_and_decimals(plain)
    # the same values written as the wire writes them: dates as YYYYMMDD, decimals as strings
    as_text = msgspec.json.decode(msgspec.json.encode(typed))  # Decimals become strings ...
    as_text["issueDate"] = plain["issueDate"]  # ... and the date its YYYYMMDD text
    struct = msgspec.convert(plain, Invoice, dec_hook=dec_hook, strict=False)
    forms = [prepare_invoice(v) for v in (typed, as_text, struct)]
    assert forms[0].digest == forms[1].digest
    assert forms[0].payload == forms[1].payload
    assert forms[0].payload["issueDate"] == plain["issueDate"]
    assert forms[2].number == "W-1" and forms[2].resting_status == "created"
    assert prepare_invoice(forms[0]) is forms[0]  # prepared once, never again
    with pytest.raises(TypeError, match="set"):
        prepare_invoice({"invoiceNumber": "W-2", "note": {1, 2}})


# ---------------------------------------------------------------------------------------------- closed port


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


FAST = RetryConfig(max_retries=4, backoff_base=0.01, backoff_max=0.05, deadline=30)


@pytest.mark.anyio
async def test_bulk_run_against_a_closed_port_stops_after_one_request(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/api/v1"
    invoices = [_base(f"P-{i}") for i in range(100)]
    async with FaktooraClient("sk_test_closed_port_key", base_url=url, retry=FAST) as client:
        runner = BulkRunner(client, journal=tmp_path / "j.sqlite", out_dir=tmp_path / "out", batch_size=100)
        with pytest.raises(ConnectError):
            await runner.run(invoices)
        stats = client.stats
    # one POST was tried: 1 + max_retries attempts, then the run stopped (nothing else can succeed)
    assert stats["attempts"] == FAST.max_retries + 1
    assert runner.last_report is not None and runner.last_report.interrupted
    assert runner.last_report.counts.get("pending") == 100  # journalled, resumable


@pytest.mark.anyio
async def test_retry_budget_caps_retries_during_an_outage() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/api/v1"
    calls = 100
    async with FaktooraClient("sk_test_closed_port_key", base_url=url, retry=FAST, retry_budget=100) as c:
        import anyio

        async with anyio.create_task_group() as tg:
            for i in range(calls):

                async def one(n: int = i) -> None:
                    with pytest.raises(ConnectError):
                        await c.invoices.status(f"F{n:08d}")

                tg.start_soon(one)
        stats = c.stats
    # without a budget: calls x (max_retries + 1) = 500 attempts; the budget pays 100 / 5 = 20 retries
    assert stats["retries"] == 100 // RETRY_COST
    assert stats["attempts"] == calls + 100 // RETRY_COST
    assert stats["retries_refused"] > 0


# ---------------------------------------------------------------------------------------------- uniform shape


RAW_CLASSES = [
    (Invoices, InvoicesWithRawResponse),
    (Imports, ImportsWithRawResponse),
    (Webhooks, WebhooksWithRawResponse),
    (ApiKeys, ApiKeysWithRawResponse),
    (Incoming, IncomingWithRawResponse),
    (Customers, CustomersWithRawResponse),
    (Products, ProductsWithRawResponse),
    (Projects, ProjectsWithRawResponse),
    (Settings, SettingsWithRawResponse),
]


def _public_methods(cls: type) -> set[str]:
    names = set()
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or isinstance(inspect.getattr_static(cls, name), property):
            continue
        if callable(member):
            names.add(name)
    return names - {"check", "preflight"}  # local pre-flight: no HTTP, nothing raw to show


@pytest.mark.parametrize(("resource", "raw"), RAW_CLASSES, ids=lambda c: c.__name__)
def test_with_raw_response_covers_every_call(resource: type, raw: type) -> None:
    params = inspect.signature(raw.__init__).parameters
    instance_name = list(params)[1]
    source = inspect.getsource(raw.__init__)
    wrapped = {
        line.split("=")[0].strip().removeprefix("self.")
        for line in source.splitlines()
        if "raw_method(" in line
    }
    assert instance_name
    assert wrapped == _public_methods(resource)


@pytest.mark.anyio
async def test_raw_responses_paginator_and_download_shape(tmp_path: Path) -> None:
    async with (
        Sandbox(processing_delay=(0.0, 0.01), seed=9) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url) as client,
    ):
        created = await client.invoices.create([_base(f"R-{i}") for i in range(5)])
        raw = await client.invoices.with_raw_response.status(created[0].faktoora_id)
        assert raw.status == 200 and raw.headers["Content-Type"].startswith("application/json")
        assert raw.parsed.raw == msgspec.json.decode(raw.content)  # the model keeps its JSON
        status = await client.invoices.wait(created[0])  # the target came with the created invoice
        assert status.invoice_status == created[0].resting_status == "created"
        paginator = client.invoices.list(per_page=2)
        assert isinstance(paginator, AsyncPaginator)
        first = await paginator
        assert isinstance(first, Page) and len(first.items) == 2 and first.has_next
        items = [item async for item in paginator]
        pages = [page async for page in paginator.pages()]
        assert len(items) == 5 and [len(p) for p in pages] == [2, 2, 1]
        raw_page = await client.invoices.with_raw_response.list(per_page=2)
        assert raw_page.status == 200 and raw_page.parsed.items == first.items
        old = os.umask(0o027)
        try:
            saved = await client.invoices.download(created[0].faktoora_id, format="xml", to=tmp_path)
        finally:
            os.umask(old)
        raw_file = await client.invoices.with_raw_response.download(created[0].faktoora_id, format="xml")
    assert saved.path.parent == tmp_path.resolve() and saved.size == saved.path.stat().st_size  # noqa: ASYNC240
    assert stat.S_IMODE(saved.path.stat().st_mode) == 0o640  # the umask applies, not a fixed 0600
    assert (
        raw_file.parsed == saved.path.read_bytes() and raw_file.headers["Content-Type"] == "application/xml"
    )
