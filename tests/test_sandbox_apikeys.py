"""Raw-HTTP tests of the sandbox's ``/apikeys`` (API.md v2) and of the key lifecycle its auth enforces."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _sandbox_http import Api, assert_error, invoice

from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

KEY_ID = re.compile(r"ak_[0-9a-f]{24}")
KEY_FIELDS = {"id", "label", "status", "createdAt", "expiresAt", "lastUsedAt", "revokedAt", "rotatedFromId"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(processing_delay=(0.0, 0.0)) as sandbox:
        yield sandbox


@pytest.fixture
def api(session: aiohttp.ClientSession, sb: Sandbox) -> Api:
    return Api(session, sb)


def ahead(**delta: float) -> str:
    """An ISO 8601 UTC time ``delta`` from now (wall clock)."""
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(**delta)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def keys(api: Api) -> list[dict[str, Any]]:
    status, body, _ = await api.call("GET", "/apikeys", v=2)
    assert status == 200, body
    assert set(body) == {"data", "meta"}
    return list(body["data"])


async def create(api: Api, **body: Any) -> dict[str, Any]:
    status, answer, _ = await api.call("POST", "/apikeys", v=2, json={"label": "ci", **body})
    assert status == 201, answer
    return dict(answer)


async def clock(api: Api, offset: float) -> None:
    status, body = await api.admin("PUT", "clock", json={"offsetSeconds": offset})
    assert status == 200 and body["offsetSeconds"] == offset, body


async def start_key(api: Api) -> dict[str, Any]:
    (key,) = [k for k in await keys(api) if k["label"] == "default"]
    return key


def field_errors(body: Any) -> list[str]:
    assert_error(body, 400, "BAD_REQUEST")
    return [e["field"] for e in body["errors"]]


# --- GET /apikeys -------------------------------------------------------------------------------------
@pytest.mark.parametrize("v", [1, 2])
async def test_start_key_is_listed_without_secret(api: Api, v: int) -> None:
    status, body, _ = await api.call("GET", "/apikeys", v=v)
    assert status == 200
    assert body["meta"] == {"page": 1, "perPage": 25, "total": 1, "totalPages": 1}
    (key,) = body["data"]
    assert set(key) == KEY_FIELDS and KEY_ID.fullmatch(key["id"])
    assert key["label"] == "default" and key["status"] == "active"
    assert key["expiresAt"] is None and key["revokedAt"] is None and key["rotatedFromId"] is None
    assert key["lastUsedAt"] is not None  # this very request used it


async def test_keys_belong_to_the_user_not_to_a_tenant_nor_to_another_user(
    api: Api, sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    made = await create(api)
    tenant2 = Api(session, sb, account="tenant-2")
    assert {k["id"] for k in await keys(tenant2)} == {k["id"] for k in await keys(api)}
    sb.add_account("sk_test_other_user_key", features=())
    other = Api(session, sb, "sk_test_other_user_key")
    assert [k["label"] for k in await keys(other)] == ["default"]
    for method, path in (("PATCH", "/apikeys/" + made["id"]), ("POST", f"/apikeys/{made['id']}/revoke")):
        status, body, _ = await other.call(method, path, v=2, json={"label": "x"})
        assert status == 404, body
        assert_error(body, 404, "NOT_FOUND")


# --- POST /apikeys ------------------------------------------------------------------------------------
async def test_create_answers_the_secret_once_and_the_new_key_sees_the_same_data(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    fid = (await api.create(invoice("K-1")))[0]
    made = await create(api, expiresAt=ahead(days=30))
    assert set(made) == KEY_FIELDS | {"key"} and made["key"].startswith("sk_test_")
    assert made["status"] == "active" and made["label"] == "ci" and made["lastUsedAt"] is None
    assert made["expiresAt"].endswith("Z")
    listed = {k["id"]: k for k in await keys(api)}
    assert set(listed) == {made["id"], (await start_key(api))["id"]}
    assert all("key" not in k for k in listed.values())
    new = Api(session, sb, made["key"])
    assert (await new.status(fid))["jobStatus"] in ("queued", "processing", None)
    status, body, _ = await new.call("GET", "/invoices")
    assert status == 200 and body["meta"]["total"] == 1


async def test_create_with_expiry_exactly_365_days_ahead_is_accepted_one_more_day_is_400(api: Api) -> None:
    made = await create(api, expiresAt=ahead(days=364, hours=23))
    assert made["status"] == "active"
    status, body, _ = await api.call(
        "POST", "/apikeys", v=2, json={"label": "too-long", "expiresAt": ahead(days=366)}
    )
    assert status == 400 and field_errors(body) == ["expiresAt"]
    assert "365" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["label"]),
        ({"label": ""}, ["label"]),
        ({"label": "   "}, ["label"]),
        ({"label": 5}, ["label"]),
        ({"label": "x" * 256}, ["label"]),
        ({"label": "ok", "expiresAt": "tomorrow"}, ["expiresAt"]),
        ({"label": "ok", "expiresAt": "2020-01-01T00:00:00Z"}, ["expiresAt"]),
        ({"label": "ok", "expiresAt": 1893456000}, ["expiresAt"]),
        ({"label": "ok", "scope": "all"}, ["scope"]),
        ({"expiresAt": "nope"}, ["label", "expiresAt"]),
    ],
)
async def test_create_400_names_the_field(api: Api, body: dict[str, Any], fields: list[str]) -> None:
    status, answer, _ = await api.call("POST", "/apikeys", v=2, json=body)
    assert status == 400, answer
    assert sorted(field_errors(answer)) == sorted(fields)
    assert len(await keys(api)) == 1  # nothing was created


async def test_create_needs_a_json_object(api: Api) -> None:
    status, body, _ = await api.call("POST", "/apikeys", v=2, json=["label"])
    assert status == 400
    assert_error(body, 400, "BAD_REQUEST")
    status, body, _ = await api.call("POST", "/apikeys", v=2, data=b"label=x")
    assert status == 415


# --- status, expiring_soon and the signal headers -------------------------------------------------------
async def test_expiring_soon_within_7_days_and_the_headers_tell_the_client(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    soon = await create(api, expiresAt=ahead(days=6, hours=23))
    later = await create(api, expiresAt=ahead(days=7, hours=1))
    assert soon["status"] == "expiring_soon" and later["status"] == "active"
    status, _, headers = await Api(session, sb, soon["key"]).call("GET", "/invoices")
    assert status == 200
    assert headers["X-API-Key-Status"] == "expiring_soon"
    assert headers["X-API-Key-Expires-At"] == soon["expiresAt"]
    # also on an error answer and on a file download route's 404
    status, _, headers = await Api(session, sb, soon["key"]).call("GET", "/invoices/FNOSUCH01/status", v=2)
    assert status == 404 and headers["X-API-Key-Status"] == "expiring_soon"
    for key in (later["key"], sb.api_key):
        status, _, headers = await Api(session, sb, key).call("GET", "/invoices")
        assert status == 200 and "X-API-Key-Status" not in headers and "X-API-Key-Expires-At" not in headers
    await clock(api, 3600 * 2)  # 7 days minus 1 hour left for `later` after moving 2 hours
    assert {k["id"]: k["status"] for k in await keys(api)}[later["id"]] == "expiring_soon"


async def test_expired_key_is_401_and_listed_as_expired(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    made = await create(api, expiresAt=ahead(hours=1))
    user = Api(session, sb, made["key"])
    assert (await user.call("GET", "/invoices"))[0] == 200
    await clock(api, 3601)
    status, body, _ = await user.call("GET", "/invoices")
    assert status == 401
    assert_error(body, 401, "UNAUTHORIZED")
    assert "expired" in body["message"] and made["key"] not in body["message"]
    assert {k["id"]: k["status"] for k in await keys(api)}[made["id"]] == "expired"


def every_api_route(sb: Sandbox) -> list[tuple[str, str]]:
    """(method, url path) of every API route of the app, ids filled with placeholders."""
    out = []
    for route in sb.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api/") and route.method != "HEAD":
            out.append((route.method, re.sub(r"\{[^}]+\}", "X1234567", path)))
    return out


async def test_revoked_and_expired_keys_are_401_on_every_route(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    revoked = await create(api)
    status, _, _ = await api.call("POST", f"/apikeys/{revoked['id']}/revoke", v=2)
    assert status == 201
    expired = await create(api, expiresAt=ahead(minutes=5))
    await clock(api, 600)
    routes = every_api_route(sb)
    assert len(routes) >= 2 * 30
    for secret, word in ((revoked["key"], "revoked"), (expired["key"], "expired")):
        for method, path in routes:
            async with session.request(
                method, sb.root_url + path, headers={"X-API-KEY": secret}, json={}
            ) as resp:
                body = await resp.json()
                assert resp.status == 401, (method, path, body)
                assert body["code"] == "UNAUTHORIZED" and word in body["message"], (method, path)
    assert (await api.call("GET", "/invoices"))[0] == 200  # the start key still works


# --- PATCH /apikeys/{id} ------------------------------------------------------------------------------
async def test_patch_changes_label_and_expiry_and_null_removes_the_expiry(api: Api) -> None:
    made = await create(api)
    path = f"/apikeys/{made['id']}"
    status, body, _ = await api.call(
        "PATCH", path, v=2, json={"label": "renamed", "expiresAt": ahead(days=3)}
    )
    assert status == 200 and set(body) == KEY_FIELDS
    assert body["label"] == "renamed" and body["status"] == "expiring_soon"
    status, body, _ = await api.call("PATCH", path, v=2, json={"expiresAt": None})
    assert status == 200 and body["expiresAt"] is None and body["status"] == "active"
    assert body["label"] == "renamed"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["label"]),
        ({"label": None}, ["label"]),
        ({"expiresAt": "2027-13-01T00:00:00Z"}, ["expiresAt"]),
        ({"expiresAt": "2099-01-01T00:00:00Z"}, ["expiresAt"]),
        ({"status": "active"}, ["status"]),
    ],
)
async def test_patch_400_names_the_field(api: Api, body: dict[str, Any], fields: list[str]) -> None:
    made = await create(api)
    status, answer, _ = await api.call("PATCH", f"/apikeys/{made['id']}", v=2, json=body)
    assert status == 400 and field_errors(answer) == fields


@pytest.mark.parametrize("key_id", ["ak_000000000000000000000000", "nope", "AK_X"])
async def test_unknown_key_id_is_404_on_every_key_route(api: Api, key_id: str) -> None:
    for method, tail, body in (
        ("PATCH", "", {"label": "x"}),
        ("DELETE", "", None),
        ("POST", "/rotate", {}),
        ("POST", "/revoke", None),
    ):
        status, answer, _ = await api.call(method, f"/apikeys/{key_id}{tail}", v=2, json=body)
        assert status == 404, (method, tail, answer)
        assert_error(answer, 404, "NOT_FOUND")


# --- revoke -------------------------------------------------------------------------------------------
async def test_revoke_stops_the_key_at_once_and_keeps_it_for_audit(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    made = await create(api)
    user = Api(session, sb, made["key"])
    assert (await user.call("GET", "/invoices"))[0] == 200
    status, body, _ = await api.call("POST", f"/apikeys/{made['id']}/revoke", v=2)
    assert status == 201 and body["status"] == "revoked" and body["revokedAt"] and "key" not in body
    status, again, _ = await api.call("POST", f"/apikeys/{made['id']}/revoke", v=2)
    assert status == 201 and again["revokedAt"] == body["revokedAt"]
    status, answer, _ = await user.call("GET", "/invoices")
    assert status == 401 and "revoked" in answer["message"]
    assert {k["id"]: k["status"] for k in await keys(api)}[made["id"]] == "revoked"
    status, answer, _ = await api.call("PATCH", f"/apikeys/{made['id']}", v=2, json={"label": "x"})
    assert status == 409 and answer["code"] == "INVALID_STATE"
    status, answer, _ = await api.call("POST", f"/apikeys/{made['id']}/rotate", v=2)
    assert status == 409 and answer["code"] == "INVALID_STATE"


async def test_a_key_may_revoke_itself(api: Api, session: aiohttp.ClientSession, sb: Sandbox) -> None:
    made = await create(api)
    user = Api(session, sb, made["key"])
    status, body, _ = await user.call("POST", f"/apikeys/{made['id']}/revoke", v=2)
    assert status == 201 and body["status"] == "revoked"
    assert (await user.call("GET", "/apikeys", v=2))[0] == 401


# --- rotate -------------------------------------------------------------------------------------------
async def test_rotate_with_grace_period_old_key_works_until_it_ends(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    old = await create(api)
    status, new, _ = await api.call("POST", f"/apikeys/{old['id']}/rotate", v=2, json={"gracePeriodHours": 1})
    assert status == 201 and set(new) == KEY_FIELDS | {"key"}
    assert new["rotatedFromId"] == old["id"] and new["label"] == old["label"] and new["expiresAt"] is None
    assert new["key"] != old["key"] and new["id"] != old["id"] and new["status"] == "active"
    listed = {k["id"]: k for k in await keys(api)}
    assert listed[old["id"]]["status"] == "expiring_soon" and listed[old["id"]]["expiresAt"]
    old_user, new_user = Api(session, sb, old["key"]), Api(session, sb, new["key"])
    status, _, headers = await old_user.call("GET", "/invoices")
    assert status == 200 and headers["X-API-Key-Status"] == "expiring_soon"
    await clock(api, 3600 - 60)
    assert (await old_user.call("GET", "/invoices"))[0] == 200
    await clock(api, 3600 + 1)
    status, body, _ = await old_user.call("GET", "/invoices")
    assert status == 401 and body["code"] == "UNAUTHORIZED"
    assert (await new_user.call("GET", "/invoices"))[0] == 200
    status, body, _ = await api.call("POST", f"/apikeys/{old['id']}/rotate", v=2)
    assert status == 409 and body["code"] == "INVALID_STATE"


@pytest.mark.parametrize("body", [None, {}, {"gracePeriodHours": None}, {"gracePeriodHours": 0}])
async def test_rotate_without_grace_stops_the_old_key_at_once(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox, body: Any
) -> None:
    old = await create(api)
    status, new, _ = await api.call("POST", f"/apikeys/{old['id']}/rotate", v=2, json=body)
    assert status == 201
    assert (await Api(session, sb, old["key"]).call("GET", "/invoices"))[0] == 401
    assert (await Api(session, sb, new["key"]).call("GET", "/invoices"))[0] == 200


async def test_rotating_the_start_key_keeps_the_tenant_and_a_second_rotation_is_409(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    fid = (await api.create(invoice("R-1")))[0]
    start = await start_key(api)
    status, new, _ = await api.call(
        "POST", f"/apikeys/{start['id']}/rotate", v=2, json={"gracePeriodHours": 24}
    )
    assert status == 201
    status, again, _ = await api.call("POST", f"/apikeys/{start['id']}/rotate", v=2, json={})
    assert status == 409 and again["code"] == "INVALID_STATE"
    assert (await Api(session, sb, new["key"]).status(fid))["invoiceStatus"] in (None, "created")
    assert (await api.call("GET", "/invoices"))[0] == 200  # inside the grace period
    status, _, _ = await Api(session, sb, new["key"]).call("POST", f"/apikeys/{start['id']}/revoke", v=2)
    assert status == 201
    status, body, _ = await api.call("GET", "/invoices")
    assert status == 401 and "revoked" in body["message"]


async def test_an_expiring_key_rotated_with_grace_works_past_its_old_expiry(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    old = await create(api, expiresAt=ahead(days=30))
    status, new, _ = await api.call(
        "POST", f"/apikeys/{old['id']}/rotate", v=2, json={"gracePeriodHours": 48}
    )
    assert status == 201
    lifetime = dt.datetime.fromisoformat(new["expiresAt"][:-1]) - dt.datetime.fromisoformat(
        new["createdAt"][:-1]
    )
    assert abs(lifetime - dt.timedelta(days=30)) < dt.timedelta(minutes=5)  # the new key keeps the lifetime
    short = await create(api, expiresAt=ahead(hours=1))
    status, _, _ = await api.call(
        "POST", f"/apikeys/{short['id']}/rotate", v=2, json={"gracePeriodHours": 48}
    )
    assert status == 201
    await clock(api, 3 * 3600)  # past its old expiry, inside the grace period
    assert (await Api(session, sb, short["key"]).call("GET", "/invoices"))[0] == 200


@pytest.mark.parametrize("grace", [-1, "1", 1.5, 8761, True])
async def test_rotate_400_names_grace_period_hours(api: Api, grace: Any) -> None:
    old = await create(api)
    status, body, _ = await api.call(
        "POST", f"/apikeys/{old['id']}/rotate", v=2, json={"gracePeriodHours": grace}
    )
    assert status == 400 and field_errors(body) == ["gracePeriodHours"]
    assert len(await keys(api)) == 2  # no successor was made


async def test_rotate_400_on_unknown_field(api: Api) -> None:
    old = await create(api)
    status, body, _ = await api.call("POST", f"/apikeys/{old['id']}/rotate", v=2, json={"grace": 1})
    assert status == 400 and field_errors(body) == ["grace"]


# --- DELETE /apikeys/{id} -----------------------------------------------------------------------------
async def test_delete_answers_succeed_and_the_key_stops(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    made = await create(api)
    status, body, _ = await api.call("DELETE", f"/apikeys/{made['id']}", v=2)
    assert status == 200 and body == {"succeed": True}
    assert made["id"] not in {k["id"] for k in await keys(api)}
    status, body, _ = await Api(session, sb, made["key"]).call("GET", "/invoices")
    assert status == 401 and body["code"] == "UNAUTHORIZED"
    assert (await api.call("DELETE", f"/apikeys/{made['id']}", v=2))[0] == 404


# --- admin: clock, expiry, reset ----------------------------------------------------------------------
async def test_admin_expiry_and_clock_and_reset_restores_the_start_key(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    made = await create(api)
    start = await start_key(api)
    status, body = await api.admin(
        "PATCH", f"apikeys/{start['id']}", json={"expiresAt": "2020-01-01T00:00:00Z"}
    )
    assert status == 200 and body["status"] == "expired"
    assert (await api.call("GET", "/invoices"))[0] == 401
    status, body = await api.admin("GET", "apikeys")
    assert status == 200 and {k["id"] for k in body} == {made["id"], start["id"]}
    assert all("key" not in k for k in body)
    status, body = await api.admin("GET", "clock")
    assert status == 200 and body["offsetSeconds"] == 0
    status, body = await api.admin("PUT", "clock", json={"offsetSeconds": "soon"})
    assert status == 400 and body["errors"][0]["field"] == "offsetSeconds"
    status, body = await api.admin("PATCH", f"apikeys/{start['id']}", json={"expiresAt": "soon"})
    assert status == 400
    status, _ = await api.admin("POST", "reset")
    assert status == 200
    assert (await api.call("GET", "/invoices"))[0] == 200
    assert [k["id"] for k in await keys(api)] == [start["id"]]
    assert (await Api(session, sb, made["key"]).call("GET", "/invoices"))[0] == 401
