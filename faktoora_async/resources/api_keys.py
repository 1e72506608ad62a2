"""``client.api_keys``: the user's API keys (``/api/v2/apikeys``), and the one expiry warning.

Rotation without downtime::

    new = await client.api_keys.rotate(current_id, grace_period_hours=24)
    client.use_api_key(new.key)          # requests already on the wire finish with the old key
    ...                                  # once those have finished (or when the grace period ends):
    await client.api_keys.revoke(current_id)

The secret of a new key (``new.key``) is an :class:`~faktoora_async.models.api_keys.ApiKeySecret`: it shows
``***`` everywhere; ``new.key.reveal()`` gives the text to store.  :class:`KeyExpiryWatch` logs one warning
per key when the server says the client's own key is ``expiring_soon`` (see its docstring for what the
client can and cannot know).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import ParamSpec, TypeVar

from .._raw import RawResponse, raw_method
from ..models import Page, Succeeded
from ..models.api_keys import EXPIRING_SOON_DAYS, ApiKey, ApiKeySecret, ApiKeyStatus, NewApiKey
from ..pagination import AsyncPaginator
from ..protocol import APIRequest, lenient_convert
from ..protocol import api_keys as proto
from ._base import DEFAULT_PER_PAGE, Requester, Resource

__all__ = ["ApiKeys", "ApiKeysWithRawResponse", "KeyExpiryWatch"]

logger = logging.getLogger("faktoora_async")

P = ParamSpec("P")
T = TypeVar("T")

_KEY_ID = re.compile(r"ak_[A-Za-z0-9_-]{1,60}")


def _parse_time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        when = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=datetime.timezone.utc)


class KeyExpiryWatch:
    """Logs ONE warning per key when the server reports the client's own key as ``expiring_soon``.

    What the client can know: (1) the ``X-API-Key-Status: expiring_soon`` / ``X-API-Key-Expires-At`` /
    ``X-API-Key-Id`` headers of an answer (the sandbox sends them; faktoora documents no such signal, so
    against the real service this works only if it sends them too); (2) the record of its own key in
    ``api_keys.list()``, but only when it knows its key's id, i.e. when ``use_api_key()`` was given the
    secret of a key created or rotated by this SDK; (3) the ``expiresAt`` of a key it created or rotated.
    What it cannot know: the expiry of a key passed as a plain string when the server sends no header; a
    revocation or expiry change made elsewhere (it shows as a 401 on the next call); whether a request that
    was in flight during ``use_api_key()`` used the old key (without ``X-API-Key-Id`` a warning is
    attributed to the key in use when the answer came).  The warning never contains the secret: it names
    the key's ``ak_…`` id (when known) and the expiry time.  ``notice`` keeps the last report.
    """

    def __init__(self) -> None:
        self._warned: set[str] = set()
        self._generation = 0
        self.key_id: str | None = None
        self.notice: proto.KeyNotice | None = None

    def key_changed(self, secret: str | ApiKeySecret) -> None:
        """The client switched keys (a new key may warn again)."""
        self._generation += 1
        self.key_id = secret.key_id if isinstance(secret, ApiKeySecret) else None
        self.notice = None
        if isinstance(secret, ApiKeySecret) and secret.expires_at is not None:
            self.observe_expiry(secret.key_id, secret.expires_at)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Called with the headers of every answer."""
        notice = proto.key_notice(headers)
        if notice is None or notice.status != ApiKeyStatus.EXPIRING_SOON:
            return
        key_id = notice.key_id if notice.key_id and _KEY_ID.fullmatch(notice.key_id) else None
        expires = _parse_time(notice.expires_at)
        self.notice = proto.KeyNotice(notice.status, expires.isoformat() if expires else None, key_id)
        self._warn(key_id, expires)

    def observe_keys(self, keys: list[ApiKey]) -> None:
        """A list of the user's keys: the client's own (when its id is known) may be expiring soon."""
        if self.key_id is None:
            return
        for key in keys:
            if key.id == self.key_id and key.status == ApiKeyStatus.EXPIRING_SOON:
                self._warn(key.id, key.expires_at)

    def observe_expiry(
        self, key_id: str | None, expires: datetime.datetime, now: datetime.datetime | None = None
    ) -> None:
        """The key the client switches to expires at ``expires``: warn when that is within 7 days."""
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=datetime.timezone.utc)
        now = now or datetime.datetime.now(datetime.timezone.utc)
        if expires - now <= datetime.timedelta(days=EXPIRING_SOON_DAYS):
            self._warn(key_id, expires)

    def _warn(self, key_id: str | None, expires: datetime.datetime | None) -> None:
        ident = key_id or self.key_id or f"#generation-{self._generation}"
        if ident in self._warned:
            return
        self._warned.add(ident)
        which = f"API key {key_id or self.key_id}" if (key_id or self.key_id) else "The client's API key"
        when = f" at {expires.isoformat()}" if expires else " within 7 days"
        logger.warning(
            "%s expires%s (the server reports it as expiring_soon); rotate it: "
            "new = await client.api_keys.rotate(key_id, grace_period_hours=24); client.use_api_key(new.key)",
            which,
            when,
        )


class ApiKeys(Resource):
    """The user's API keys: list, create, update, rotate, revoke, delete (``/api/v2/apikeys``)."""

    def __init__(self, requester: Requester, watch: KeyExpiryWatch | None = None) -> None:
        super().__init__(requester)
        self._watch = watch or KeyExpiryWatch()

    @property
    def with_raw_response(self) -> ApiKeysWithRawResponse:
        return ApiKeysWithRawResponse(self)

    def list(self, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> AsyncPaginator[ApiKey]:
        """Every key of the user with its computed ``status`` (never a secret)."""
        return AsyncPaginator(_WatchedPages(self._r, self._watch), proto.list_page, ApiKey, page=page,
                              per_page=per_page)  # fmt: skip

    @staticmethod
    def _new_key(answer: ApiKey) -> NewApiKey:
        secret = answer.raw.get("key")
        return NewApiKey.of(answer, secret if isinstance(secret, str) and secret.strip() else None)

    async def create(
        self, label: str, expires_at: datetime.datetime | datetime.date | None = None
    ) -> NewApiKey:
        """A new key; its secret is in the answer's ``key``, this once.

        ``expires_at`` (a naive datetime is UTC, a date its midnight UTC) must be in the future and at most
        365 days ahead; ``label`` non-empty (FieldValidationError before anything is sent).
        """
        return self._new_key(await self._r.request(proto.create(label, expires_at), ApiKey))

    async def update(
        self,
        key_id: str,
        *,
        label: str | None = None,
        expires_at: datetime.datetime | datetime.date | None = proto.UNSET,
    ) -> ApiKey:
        """Change a key's ``label`` and/or ``expires_at`` (``expires_at=None`` removes the expiry)."""
        return await self._r.request(proto.update(key_id, label=label, expires_at=expires_at), ApiKey)

    async def rotate(self, key_id: str, grace_period_hours: int | None = None) -> NewApiKey:
        """A replacement for key ``key_id`` (its secret in ``key``, this once; ``rotated_from_id`` names
        the old key).  The old key keeps working ``grace_period_hours`` (default: it stops at once)."""
        return self._new_key(await self._r.request(proto.rotate(key_id, grace_period_hours), ApiKey))

    async def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key at once (kept for audit); answers the key as it is now."""
        answer = await self._r.request_optional(proto.revoke(key_id), Succeeded)
        data = dict(answer.raw) if answer is not None else {}
        if data.get("id") is None:  # a server that answers {"succeed": true} or nothing
            data = {"id": key_id, "status": ApiKeyStatus.REVOKED}
        key: ApiKey = lenient_convert(data, ApiKey)
        return key

    async def delete(self, key_id: str) -> bool:
        """Delete a key for good; True when the server confirmed."""
        answer = await self._r.request_optional(proto.delete(key_id), Succeeded)
        return True if answer is None else answer.succeed


class _WatchedPages:
    """Fetches pages of the key list through the requester and shows each to the expiry watch."""

    def __init__(self, requester: Requester, watch: KeyExpiryWatch) -> None:
        self._r = requester
        self._watch = watch

    async def page(self, req: APIRequest, item_type: type[T], page: int, per_page: int) -> Page[T]:
        got = await self._r.page(req, item_type, page, per_page)
        self._watch.observe_keys([item for item in got.items if isinstance(item, ApiKey)])
        return got


def _masked(
    call: Callable[P, Awaitable[RawResponse[NewApiKey]]],
) -> Callable[P, Awaitable[RawResponse[NewApiKey]]]:
    """A raw create/rotate whose ``content`` shows the secret as ``***`` (``parsed.key`` still has it)."""

    async def masked(*args: P.args, **kwargs: P.kwargs) -> RawResponse[NewApiKey]:
        raw = await call(*args, **kwargs)
        secret = raw.parsed.key
        if secret is None:
            return raw
        content = raw.content.replace(secret.reveal().encode(), b"***")
        return dataclasses.replace(raw, content=content)

    masked.__name__ = getattr(call, "__name__", "masked")
    masked.__doc__ = getattr(call, "__doc__", None)
    return masked


class ApiKeysWithRawResponse:
    """``client.api_keys.with_raw_response`` (create/rotate: the secret is masked in ``content``)."""

    def __init__(self, keys: ApiKeys) -> None:
        self.list = raw_method(keys.list)
        self.create = _masked(raw_method(keys.create))
        self.update = raw_method(keys.update)
        self.rotate = _masked(raw_method(keys.rotate))
        self.revoke = raw_method(keys.revoke)
        self.delete = raw_method(keys.delete)
