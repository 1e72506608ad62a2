"""API.md v2 "Webhooks" with raw HTTP against the sandbox: actions, synonym, UUID ids, answers, refused
targets (and the allow-private-targets switch), delivery bodies of the events the sandbox causes."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _sandbox_http import Api, Receiver, assert_error, invoice, receiver

from faktoora_async.sandbox import Sandbox, SandboxProcess

pytestmark = pytest.mark.anyio

ACTIONS = [
    "invoiceCreate",
    "invoiceSent",
    "invoiceOverdue",
    "invoiceIncomingCreate",
    "invoiceIncomingSent",
    "offerCreate",
    "offerSent",
    "letterCreate",
    "letterSent",
    "reminderCreate",
    "reminderSent",
    "orderConfirmationCreate",
    "orderConfirmationSent",
    "customerCreate",
    "productCreate",
    "validationJobCompleted",
]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
BODY_KEYS = {"action", "faktooraId", "status", "timestamp", "metadata"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def api(session: aiohttp.ClientSession) -> AsyncIterator[Api]:
    async with Sandbox(processing_delay=(0.0, 0.02), allow_private_targets=True) as sb:
        yield Api(session, sb)


@pytest.fixture
async def strict(session: aiohttp.ClientSession) -> AsyncIterator[Api]:
    """A sandbox refusing targets as faktoora does (whatever the suite's environment says)."""
    async with Sandbox(allow_private_targets=False) as sb:
        yield Api(session, sb)


@pytest.fixture
async def rec() -> AsyncIterator[Receiver]:
    async with receiver() as r:
        yield r


async def subscribe(api: Api, action: str, target: str) -> dict[str, Any]:
    status, body, _ = await api.call("POST", "/webhooks", json={"action": action, "target": target})
    assert status == 201, body
    return dict(body)


# --- subscriptions ------------------------------------------------------------------------------------------
async def test_all_16_actions_subscribe_with_uuid_ids(api: Api, rec: Receiver) -> None:
    subs = [await subscribe(api, action, rec.url) for action in ACTIONS]
    for sub, action in zip(subs, ACTIONS, strict=True):
        assert set(sub) == {"id", "action", "target", "createdAt"}
        assert UUID.fullmatch(sub["id"]) and sub["action"] == action and sub["target"] == rec.url
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sub["createdAt"])
    assert len({s["id"] for s in subs}) == 16
    status, listing, _ = await api.call("GET", "/webhooks", v=2)
    assert status == 200 and listing["meta"]["total"] == 16
    assert sorted(s["action"] for s in listing["data"]) == sorted(ACTIONS)
    for bad in ("invoice.status", "InvoiceCreate", "invoiceCreated ", "", 5, None):
        status, body, _ = await api.call("POST", "/webhooks", json={"action": bad, "target": rec.url})
        assert status == 400, bad
        assert_error(body, 400, "BAD_REQUEST")
        assert body["errors"][0]["field"] == "action"


async def test_invoice_created_is_a_synonym_of_invoice_create(api: Api, rec: Receiver) -> None:
    sub = await subscribe(api, "invoiceCreated", rec.url)
    assert sub["action"] == "invoiceCreate"
    (fid,) = await api.create(invoice("SYN-1"))
    await rec.wait(lambda bodies: any(b["faktooraId"] == fid for b in bodies))
    assert [b["action"] for b in rec.bodies] == ["invoiceCreate"]
    status, body, _ = await api.call("PATCH", f"/webhooks/{sub['id']}", json={"action": "invoiceCreated"})
    assert status == 200 and body["action"] == "invoiceCreate"


async def test_patch_answers_the_subscription_and_delete_succeeds(api: Api, rec: Receiver) -> None:
    sub = await subscribe(api, "invoiceSent", rec.url)
    status, body, _ = await api.call("PATCH", f"/webhooks/{sub['id']}", json={"action": "customerCreate"})
    assert status == 200 and body == {**sub, "action": "customerCreate"}
    status, body, _ = await api.call(
        "PATCH", f"/webhooks/{sub['id']}", json={"target": rec.url + "?t=1", "action": "productCreate"}
    )
    assert status == 200 and body == {**sub, "action": "productCreate", "target": rec.url + "?t=1"}
    for bad in ({}, {"id": "x"}, {"target": "ftp://x"}, []):
        status, body, _ = await api.call("PATCH", f"/webhooks/{sub['id']}", json=bad)
        assert status == 400, bad
        assert_error(body, 400)
    status, body, _ = await api.call("DELETE", f"/webhooks/{sub['id']}")
    assert status == 200 and body == {"succeed": True}
    for method in ("DELETE", "PATCH"):
        status, body, _ = await api.call(method, f"/webhooks/{sub['id']}", json={"action": "invoiceSent"})
        assert status == 404, method
        assert_error(body, 404, "NOT_FOUND")
    status, body, _ = await api.call("DELETE", "/webhooks/not-a-uuid")
    assert status == 404


# --- targets ------------------------------------------------------------------------------------------------
REFUSED = [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://127.5.6.7/hook", "loopback"),
    ("http://[::1]:9000/hook", "loopback"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),
    ("http://10.1.2.3/hook", "private address (RFC 1918)"),
    ("https://172.16.0.9/hook", "private address (RFC 1918)"),
    ("https://172.31.255.1/hook", "private address (RFC 1918)"),
    ("http://192.168.1.10/hook", "private address (RFC 1918)"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://100.64.0.1/hook", "internal or reserved"),
    ("http://[fd00::1]/hook", "internal or reserved"),
    ("http://localhost:8000/hook", "internal name"),
    ("http://LocalHost./hook", "internal name"),
    ("http://printer.local/hook", "internal name"),
    ("https://hooks.example.invalid/x", "internal name"),
    ("https://svc.internal/x", "internal name"),
    ("https://intranet/hook", "internal name"),
    ("http://2130706433/hook", "internal name"),
    ("http://0x7f.0.0.1/hook", "resolves to 127.0.0.1"),
    ("https://no-such-host-for-faktoora-tests.de/hook", "does not resolve"),
]


@pytest.mark.parametrize(("target", "reason"), REFUSED, ids=[t for t, _ in REFUSED])
async def test_internal_targets_are_refused_at_registration(strict: Api, target: str, reason: str) -> None:
    status, body, _ = await strict.call("POST", "/webhooks", json={"action": "invoiceSent", "target": target})
    assert status == 400
    assert_error(body, 400, "BAD_REQUEST")
    [error] = body["errors"]
    assert error["field"] == "target" and reason in error["message"], error
    assert reason in body["message"]
    status, listing, _ = await strict.call("GET", "/webhooks")
    assert listing["meta"]["total"] == 0


async def test_public_targets_are_accepted_and_patch_is_checked_too(strict: Api) -> None:
    # IP literals need no DNS (this machine may have none): a public address is accepted
    sub = await subscribe(strict, "invoiceSent", "https://93.184.215.14/hook?token=abc")
    await subscribe(strict, "invoiceSent", "http://[2a00:1450:4001:82b::200e]:8443/h")
    status, body, _ = await strict.call(
        "PATCH", f"/webhooks/{sub['id']}", json={"target": "http://192.168.0.1/x"}
    )
    assert status == 400 and "RFC 1918" in body["errors"][0]["message"]
    status, listing, _ = await strict.call("GET", "/webhooks")
    assert listing["data"][0]["target"] == "https://93.184.215.14/hook?token=abc"


async def test_malformed_targets_are_refused_in_both_modes(strict: Api, api: Api) -> None:
    for client in (strict, api):
        for bad in (
            "ftp://x.de/h",
            "https://",
            "hooks.example.com",
            "http://a b.de/",
            7,
            "https://x.de/" + "a" * 2000,
        ):
            status, body, _ = await client.call(
                "POST", "/webhooks", json={"action": "invoiceSent", "target": bad}
            )
            assert status == 400, bad
            assert body["errors"][0]["field"] == "target"


async def test_switch_allows_loopback_and_private_targets(api: Api) -> None:
    for target in (
        "http://127.0.0.1:1/x",
        "http://localhost:8000/x",
        "http://10.0.0.1/x",
        "http://printer.local/x",
    ):
        await subscribe(api, "invoiceSent", target)


async def test_switch_by_environment_variable(
    monkeypatch: pytest.MonkeyPatch, session: aiohttp.ClientSession
) -> None:
    monkeypatch.delenv("FAKTOORA_SANDBOX_ALLOW_PRIVATE_TARGETS", raising=False)
    async with Sandbox() as sb:  # the default refuses, as faktoora does
        assert sb.config.allow_private_targets is False
        status, _, _ = await Api(session, sb).call(
            "POST", "/webhooks", json={"action": "invoiceSent", "target": "http://127.0.0.1:1/x"}
        )
        assert status == 400
    monkeypatch.setenv("FAKTOORA_SANDBOX_ALLOW_PRIVATE_TARGETS", "1")
    async with Sandbox() as sb:
        assert sb.config.allow_private_targets is True
    async with Sandbox(allow_private_targets=False) as sb:  # an explicit value wins over the environment
        assert sb.config.allow_private_targets is False


@pytest.mark.parametrize(("flag", "expected"), [(True, 201), (False, 400)])
async def test_cli_flag(flag: bool, expected: int, session: aiohttp.ClientSession) -> None:
    async with SandboxProcess(allow_private_targets=flag, python=sys.executable) as proc:
        assert ("--allow-private-targets" if flag else "--refuse-private-targets") in proc.args
        async with session.post(
            proc.base_url + "/webhooks",
            json={"action": "invoiceSent", "target": "http://127.0.0.1:9/x"},
            headers={"X-API-KEY": proc.api_key},
        ) as resp:
            assert resp.status == expected


# --- deliveries ---------------------------------------------------------------------------------------------
def check_body(body: dict[str, Any], action: str, fid: str, status: str | None) -> dict[str, Any]:
    assert set(body) == BODY_KEYS, body
    assert body["action"] == action and body["faktooraId"] == fid and body["status"] == status, body
    assert STAMP.fullmatch(body["timestamp"]), body
    assert isinstance(body["metadata"], dict)
    return dict(body["metadata"])


async def test_delivery_bodies_of_invoice_events(api: Api, rec: Receiver) -> None:
    for action in ("invoiceCreate", "invoiceSent", "invoiceOverdue", "validationJobCompleted"):
        await subscribe(api, action, rec.url)
    yesterday = (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)).strftime("%Y%m%d")
    delivery = {"type": "email", "recipient": "ap@acme.example"}
    late = invoice("WB-1", delivery=delivery, dueDate=yesterday, validate=True)
    on_time = invoice("WB-2", delivery={"type": "peppol", "recipient": "0204:04011000-12345-03"})
    on_time["dueDate"] = "20991231"
    draft = invoice("WB-3", draftOnly=True)
    fid_late, fid_on_time, fid_draft = await api.create(late, on_time, draft)

    def seen(bodies: list[Any]) -> bool:
        keys = {(b["faktooraId"], b["action"]) for b in bodies}
        return {
            (fid_late, "invoiceCreate"),
            (fid_late, "invoiceSent"),
            (fid_late, "invoiceOverdue"),
            (fid_late, "validationJobCompleted"),
            (fid_on_time, "invoiceSent"),
            (fid_draft, "invoiceCreate"),
        } <= keys

    await rec.wait(seen)
    by_key = {(b["faktooraId"], b["action"]): b for b in rec.bodies}
    meta = check_body(by_key[fid_late, "invoiceCreate"], "invoiceCreate", fid_late, "created")
    assert (
        meta["invoiceNumber"] == "WB-1" and meta["issueDate"] == "20260115" and meta["dueDate"] == yesterday
    )
    assert meta["format"] == "xrechnung" and meta["schema"] == "CII" and meta["currency"] == "EUR"
    assert meta["totalGross"] == "238.00" and meta["buyerName"] == "Acme AG" and meta["accountId"] is None
    assert meta["delivery"] == {"type": "email", "recipient": "ap@acme.example"}
    check_body(by_key[fid_late, "invoiceSent"], "invoiceSent", fid_late, "sent")
    check_body(by_key[fid_late, "invoiceOverdue"], "invoiceOverdue", fid_late, "sent")
    done = check_body(by_key[fid_late, "validationJobCompleted"], "validationJobCompleted", fid_late, "sent")
    assert done["validation"]["status"] in ("success", "error") and done["validation"]["validity"] is not None
    peppol = check_body(by_key[fid_on_time, "invoiceSent"], "invoiceSent", fid_on_time, "sent")
    assert peppol["delivery"] == {"type": "peppol", "recipient": "0204:04011000-12345-03"}
    check_body(by_key[fid_draft, "invoiceCreate"], "invoiceCreate", fid_draft, "draft")
    assert (fid_on_time, "invoiceOverdue") not in by_key  # due in 2099
    assert (fid_draft, "invoiceSent") not in by_key
    log = api.sb.webhook_log
    assert all("event" not in entry for entry in log) and {e["action"] for e in log} >= {"invoiceOverdue"}


async def test_admin_fires_every_action_with_the_v2_body(api: Api, rec: Receiver) -> None:
    for action in ACTIONS:
        await subscribe(api, action, rec.url)
    headers = {"X-API-KEY": api.key}
    for action in ACTIONS:
        status, body = await api.admin(
            "POST",
            "events",
            json={"action": action, "faktooraId": f"X-{action}", "status": "created", "metadata": {"k": 1}},
            headers=headers,
        )
        assert status == 202 and body == {"action": action, "faktooraId": f"X-{action}", "subscriptions": 1}
    await rec.wait(lambda bodies: len(bodies) >= 16)
    assert sorted(b["action"] for b in rec.bodies) == sorted(ACTIONS)
    for b in rec.bodies:
        assert check_body(b, b["action"], f"X-{b['action']}", "created") == {"k": 1}
    status, body = await api.admin("POST", "events", json={"action": "customerCreate"}, headers=headers)
    assert status == 202 and UUID.fullmatch(body["faktooraId"])
    for bad in (
        {"action": "nope"},
        {"action": "invoiceSent", "extra": 1},
        {"action": "invoiceSent", "metadata": 3},
        [],
    ):
        status, body = await api.admin("POST", "events", json=bad, headers=headers)
        assert status == 400, bad
    status, body = await api.admin("POST", "events", json={"action": "invoiceSent"})
    assert status == 401
