"""``client.api_keys`` and ``client.use_api_key`` against the sandbox: every /api/v2/apikeys route, the
key lifecycle (401 for revoked/expired keys), the secret that never shows, the one expiry warning, and a
key rotation under 200 concurrent status calls."""

from __future__ import annotations

import datetime
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import anyio.lowlevel
import pytest

from faktoora_async import (
    ApiKeySecret,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FaktooraClient,
    FieldValidationError,
    NotFoundError,
)
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.models import ApiKey, NewApiKey
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

UTC = datetime.timezone.utc
MISSING = "ak_000000000000000000000000"


@pytest.fixture
async def client() -> AsyncIterator[tuple[Sandbox, FaktooraClient]]:
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        yield sb, c


async def admin(sb: Sandbox, method: str, path: str, body: Any = None) -> Any:
    """The sandbox's admin routes (``/_sandbox/...``: test set-up, no API key)."""
    async with aiohttp.ClientSession() as s, s.request(method, sb.root_url + path, json=body) as r:
        assert r.status < 300, await r.text()
        return await r.json()


async def start_key(c: FaktooraClient) -> ApiKey:
    keys = [k async for k in c.api_keys.list()]
    assert len(keys) == 1 and keys[0].label == "default"
    return keys[0]


def soon(days: float) -> datetime.datetime:
    return datetime.datetime.now(UTC) + datetime.timedelta(days=days)


async def test_list_create_update_delete(client: tuple[Sandbox, FaktooraClient]) -> None:
    _, c = client
    first = await start_key(c)
    assert first.id.startswith("ak_") and first.status == "active" and first.expires_at is None

    new = await c.api_keys.create("ci runner", expires_at=soon(30))
    assert isinstance(new, NewApiKey) and isinstance(new.key, ApiKeySecret)
    assert new.label == "ci runner" and new.status == "active" and new.key.key_id == new.id
    secret = new.key.reveal()
    assert secret.startswith("sk_test_")
    assert secret not in repr(new) and secret not in str(new.raw) and new.raw["key"] == "***"
    listed = {k.id: k async for k in c.api_keys.list()}
    assert set(listed) == {first.id, new.id} and "key" not in listed[new.id].raw

    changed = await c.api_keys.update(new.id, label="ci", expires_at=soon(3))
    assert changed.label == "ci" and changed.status == "expiring_soon"
    cleared = await c.api_keys.update(new.id, expires_at=None)
    assert cleared.expires_at is None and cleared.status == "active" and cleared.label == "ci"

    assert await c.api_keys.delete(new.id) is True
    assert [k.id async for k in c.api_keys.list()] == [first.id]
    with pytest.raises(NotFoundError):
        await c.api_keys.delete(new.id)


async def test_a_created_key_reaches_the_same_account(client: tuple[Sandbox, FaktooraClient]) -> None:
    sb, c = client
    created = await c.invoices.create(generate_invoice(1))
    new = await c.api_keys.create("second")
    assert new.key is not None
    async with FaktooraClient(new.key, base_url=sb.base_url) as other:  # the secret type as api_key
        status = await other.invoices.status(created[0].faktoora_id)
        assert status is not None
    used = {k.id: k async for k in c.api_keys.list()}[new.id]
    assert used.last_used_at is not None


async def test_rotate_with_grace_keeps_the_old_key_working(client: tuple[Sandbox, FaktooraClient]) -> None:
    _, c = client
    old = await start_key(c)
    new = await c.api_keys.rotate(old.id, grace_period_hours=1)
    assert new.rotated_from_id == old.id and new.key is not None and new.label == "default"
    keys = {k.id: k async for k in c.api_keys.list()}  # still the old key: it works within its grace
    assert keys[old.id].status == "expiring_soon" and keys[old.id].expires_at is not None
    c.use_api_key(new.key)
    assert {k.id async for k in c.api_keys.list()} == {old.id, new.id}
    with pytest.raises(ConflictError) as info:  # an already rotated key cannot be rotated again
        await c.api_keys.rotate(old.id)
    assert info.value.code == "INVALID_STATE"


async def test_rotate_without_grace_stops_the_old_key_at_once(client: tuple[Sandbox, FaktooraClient]) -> None:
    sb, c = client
    old = await start_key(c)
    new = await c.api_keys.rotate(old.id)
    with pytest.raises(AuthenticationError) as info:
        await c.api_keys.list()
    assert sb.api_key not in str(info.value)
    assert new.key is not None
    c.use_api_key(new.key.reveal())  # a plain string works too
    assert [k.id async for k in c.api_keys.list()][-1] == new.id


async def test_revoke_then_every_route_is_401(client: tuple[Sandbox, FaktooraClient]) -> None:
    sb, c = client
    created = await c.invoices.create(generate_invoice(1))
    victim = await c.api_keys.create("to revoke")
    revoked = await c.api_keys.revoke(victim.id)
    assert revoked.id == victim.id and revoked.status == "revoked" and revoked.revoked_at is not None
    again = await c.api_keys.revoke(victim.id)  # idempotent: the same answer
    assert again.status == "revoked" and again.revoked_at == revoked.revoked_at
    assert victim.key is not None
    async with FaktooraClient(victim.key, base_url=sb.base_url) as gone:
        for call in (
            gone.api_keys.list(),
            gone.invoices.status(created[0].faktoora_id),
            gone.customers.list(),
        ):
            with pytest.raises(AuthenticationError) as info:
                await call
            assert victim.key.reveal() not in str(info.value)
    with pytest.raises(ConflictError):  # a revoked key cannot be changed or rotated
        await c.api_keys.update(victim.id, label="back")
    with pytest.raises(ConflictError):
        await c.api_keys.rotate(victim.id)


async def test_expired_key_is_401(client: tuple[Sandbox, FaktooraClient]) -> None:
    sb, c = client
    new = await c.api_keys.create("short", expires_at=soon(1))
    past = (datetime.datetime.now(UTC) - datetime.timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    await admin(sb, "PATCH", f"/_sandbox/apikeys/{new.id}", {"expiresAt": past})
    assert {k.id: k async for k in c.api_keys.list()}[new.id].status == "expired"
    assert new.key is not None
    async with FaktooraClient(new.key, base_url=sb.base_url) as expired:
        with pytest.raises(AuthenticationError):
            await expired.api_keys.list()


async def test_404_and_400_paths(client: tuple[Sandbox, FaktooraClient]) -> None:
    sb, c = client
    for call in (
        c.api_keys.update(MISSING, label="x"),
        c.api_keys.rotate(MISSING),
        c.api_keys.revoke(MISSING),
        c.api_keys.delete(MISSING),
    ):
        with pytest.raises(NotFoundError):
            await call
    # local checks: nothing is sent
    before = c.stats["attempts"]
    with pytest.raises(FieldValidationError) as info:
        await c.api_keys.create("x", expires_at=soon(366))
    assert info.value.field == "expiresAt"
    with pytest.raises(FieldValidationError):
        await c.api_keys.create("")
    with pytest.raises(FieldValidationError):
        await c.api_keys.rotate(MISSING, grace_period_hours=10**6)
    assert c.stats["attempts"] == before
    # the server's own 365-day rule: its clock runs two days behind ours, so its limit comes first
    await admin(sb, "PUT", "/_sandbox/clock", {"offsetSeconds": -2 * 86400})
    with pytest.raises(BadRequestError) as bad:
        await c.api_keys.create("x", expires_at=soon(364.5))
    assert [e.field for e in bad.value.errors] == ["expiresAt"]
    first = await start_key(c)
    with pytest.raises(BadRequestError) as bad:  # the same on PATCH
        await c.api_keys.update(first.id, expires_at=soon(364.5))
    assert [e.field for e in bad.value.errors] == ["expiresAt"]


async def test_raw_responses_hide_the_secret(client: tuple[Sandbox, FaktooraClient]) -> None:
    _, c = client
    raw = await c.api_keys.with_raw_response.create("raw")
    assert raw.status == 201 and raw.parsed.key is not None
    secret = raw.parsed.key.reveal()
    assert secret.encode() not in raw.content and b'"key":"***"' in raw.content
    assert secret not in repr(raw)
    rotated = await c.api_keys.with_raw_response.rotate(raw.parsed.id, grace_period_hours=0)
    assert rotated.parsed.key is not None and rotated.parsed.key.reveal().encode() not in rotated.content
    listed = await c.api_keys.with_raw_response.list()
    assert listed.status == 200 and b"sk_test_" not in listed.content


async def test_one_warning_when_the_server_says_expiring_soon(
    client: tuple[Sandbox, FaktooraClient], caplog: pytest.LogCaptureFixture
) -> None:
    sb, c = client
    new = await c.api_keys.create("expiring", expires_at=soon(3))
    assert new.key is not None
    caplog.set_level(logging.WARNING, logger="faktoora_async")
    async with FaktooraClient(
        new.key.reveal(), base_url=sb.base_url
    ) as plain:  # a plain string: headers only
        for _ in range(20):
            await plain.api_keys.list()
        await plain.customers.generate_number()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "expiring_soon" in warnings[0]
    assert new.key.reveal() not in warnings[0]
    caplog.clear()
    async with FaktooraClient(sb.api_key, base_url=sb.base_url) as healthy:  # an active key: no warning
        for _ in range(5):
            await healthy.api_keys.list()
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    c.use_api_key(new.key)  # switching to a key known to expire within 7 days warns at once, by id
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and new.id in warnings[0]
    for _ in range(5):
        await c.api_keys.list()
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


async def test_rotation_under_load_loses_no_call() -> None:
    """200 concurrent status calls; mid-way the key is rotated (1 h grace) and switched; once every call
    that began before the switch has finished, the old key is revoked while the load goes on (each worker
    makes 2 more calls after the revocation).  No call fails, and the old key is then refused with a 401."""
    workers, before_rotation, after_revocation = 200, 400, 2
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url, max_connections=200) as c:
        created = await c.invoices.create([generate_invoice(i) for i in range(10)])
        ids = [x.faktoora_id for x in created]
        old = await start_key(c)
        done = 0
        failures: list[BaseException] = []
        inflight = {0: 0, 1: 0}
        generation = 0
        calls_after_revoke = 0
        revoked = anyio.Event()
        drained = anyio.Event()
        switched = anyio.Event()
        midway = anyio.Event()

        async def worker(n: int) -> None:
            nonlocal done, calls_after_revoke
            mine_after = 0
            while mine_after < after_revocation:
                assert done < 100_000, "the rotation never finished"
                gen = generation
                started_after_revoke = revoked.is_set()
                inflight[gen] += 1
                try:
                    await c.invoices.status(ids[(n + done) % len(ids)])
                except BaseException as exc:  # every failure counts
                    failures.append(exc)
                finally:
                    inflight[gen] -= 1
                    done += 1
                    if done >= before_rotation:
                        midway.set()
                    if gen == 0 and switched.is_set() and inflight[0] == 0:
                        drained.set()
                if started_after_revoke:
                    mine_after += 1
                    calls_after_revoke += 1
                await anyio.lowlevel.checkpoint()

        async def rotator() -> None:
            nonlocal generation
            await midway.wait()
            new = await c.api_keys.rotate(old.id, grace_period_hours=1)
            assert new.key is not None
            c.use_api_key(new.key)
            generation = 1
            switched.set()
            if inflight[0] == 0:
                drained.set()
            await drained.wait()
            await c.api_keys.revoke(old.id)
            revoked.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(rotator)
            for n in range(workers):
                tg.start_soon(worker, n)
        print(f"rotation under load: {done} status calls, {calls_after_revoke} after the revocation, "
              f"{len(failures)} failed")  # fmt: skip
        assert failures == []
        assert done >= before_rotation + workers * after_revocation
        assert calls_after_revoke == workers * after_revocation  # made with the new key, after revocation
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as stale:
            with pytest.raises(AuthenticationError):
                await stale.invoices.status(ids[0])
        keys = {k.id: k async for k in c.api_keys.list()}
        assert keys[old.id].status == "revoked"
