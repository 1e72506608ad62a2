"""API keys of the sandbox's users and their lifecycle (API.md v2, ``/docs/api-keys/``).

A sandbox :class:`~.store.Account` is one *user*; it starts with one key (the ``api_key`` the sandbox was
started with, listed with the label ``"default"`` and no expiry) and may create, rotate, revoke and delete
more through ``/apikeys``.  Every key of a user reaches the same tenants (the tenant is keyed by the
account, not by the secret), so a rotated client keeps seeing its invoices.

:class:`KeyRing` authenticates every API request: unknown, revoked and expired keys get ``401
UNAUTHORIZED``.  A rotated key keeps working for its grace period, because rotation sets its ``expiresAt``
to the end of the grace period (also when that is later than its old expiry: API.md's "an expired key stops
at once unless it was rotated with a grace period").  ``status`` is computed on every read: ``revoked``,
``expired`` (now >= expiresAt), ``expiring_soon`` (expiresAt within 7 days), else ``active``.

Times come from the ring's clock (wall clock + :attr:`KeyRing.offset`); tests move it with
``PUT /_sandbox/clock`` instead of sleeping.
"""

from __future__ import annotations

import datetime as _dt
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import ApiError, http_error
from .store import Account

__all__ = [
    "API_KEY",
    "EXPIRING_SOON",
    "KEY_ID",
    "MAX_GRACE_HOURS",
    "MAX_LIFETIME",
    "ApiKey",
    "KeyRing",
    "format_time",
    "parse_time",
]

DAY = 86400.0
EXPIRING_SOON = 7 * DAY
"""A key expiring within this many seconds has the status ``expiring_soon``."""
MAX_LIFETIME = 365 * DAY
"""``expiresAt`` may lie at most this many seconds ahead (else 400)."""
MAX_GRACE_HOURS = 8760
"""The longest rotation grace period (365 days)."""
START_LABEL = "default"

_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?"
)


def format_time(ts: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC with milliseconds and ``Z`` (None stays None)."""
    if ts is None:
        return None
    moment = _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str) -> float | None:
    """Epoch seconds of an ISO 8601 date or date-time (no zone = UTC; date only = 00:00 UTC), else None."""
    match = _TIME.fullmatch(value.strip()) if len(value) <= 64 else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = _dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=_zone(zone),
        )
    except ValueError:
        return None
    return moment.timestamp()


def _zone(zone: str | None) -> _dt.timezone:
    if zone is None or zone == "Z":
        return _dt.timezone.utc
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError("bad zone offset")
    offset = _dt.timedelta(hours=hours, minutes=minutes)
    return _dt.timezone(-offset if zone[0] == "-" else offset)


@dataclass(eq=False)
class ApiKey:
    """One API key of a user.  ``secret`` is the token clients send; it is never part of :meth:`to_json`."""

    id: str
    secret: str
    account: Account
    label: str
    created_at: float
    expires_at: float | None = None
    last_used_at: float | None = None
    revoked_at: float | None = None
    rotated_from_id: str | None = None
    rotated_to_id: str | None = None
    start: bool = False

    def status(self, now: float) -> str:
        """``revoked``, ``expired``, ``expiring_soon`` (expires within 7 days) or ``active`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is None:
            return "active"
        if now >= self.expires_at:
            return "expired"
        return "expiring_soon" if self.expires_at - now <= EXPIRING_SOON else "active"

    def to_json(self, now: float, *, with_secret: bool = False) -> dict[str, Any]:
        """The key object of API.md v2 (``key`` only when ``with_secret``: create and rotate answers)."""
        out: dict[str, Any] = {
            "id": self.id,
            "label": self.label,
            "status": self.status(now),
            "createdAt": format_time(self.created_at),
            "expiresAt": format_time(self.expires_at),
            "lastUsedAt": format_time(self.last_used_at),
            "revokedAt": format_time(self.revoked_at),
            "rotatedFromId": self.rotated_from_id,
        }
        if with_secret:
            out["key"] = self.secret
        return out

    def __repr__(self) -> str:
        return f"ApiKey(id={self.id!r}, label={self.label!r})"


class KeyRing:
    """Every user's keys, looked up by secret (authentication) and by id (the ``/apikeys`` routes)."""

    def __init__(self) -> None:
        self.offset = 0.0
        """Seconds added to the wall clock for every key time (``PUT /_sandbox/clock``)."""
        self._by_secret: dict[str, ApiKey] = {}
        self._by_id: dict[str, ApiKey] = {}
        self._starts: dict[str, ApiKey] = {}

    def now(self) -> float:
        """The key clock: epoch seconds."""
        return time.time() + self.offset

    # --- start keys (accounts) -----------------------------------------------------------------
    def register_start(self, account: Account) -> ApiKey:
        """Make ``account.api_key`` the account's start key (replacing an earlier key with that secret)."""
        old = self._by_secret.get(account.api_key)
        key_id = old.id if old is not None and old.start else _new_key_id()
        if old is not None:
            self._forget(old)
        key = ApiKey(key_id, account.api_key, account, START_LABEL, self.now(), start=True)
        self._add(key)
        self._starts[account.api_key] = key
        return key

    def reset(self) -> None:
        """Back to the start keys only (active, no expiry, same ids); the clock offset back to 0."""
        self.offset = 0.0
        starts = list(self._starts.values())
        self._by_secret.clear()
        self._by_id.clear()
        for key in starts:
            key.expires_at = key.last_used_at = key.revoked_at = None
            key.rotated_to_id = None
            key.label = START_LABEL
            key.created_at = self.now()
            self._add(key)

    # --- authentication ------------------------------------------------------------------------
    def authenticate(self, secret: str) -> ApiKey:
        """The key of ``secret`` if it may be used now (its ``lastUsedAt`` moves); else 401 UNAUTHORIZED."""
        key = self._by_secret.get(secret) if secret else None
        if key is None:
            raise http_error(401, "missing or unknown API key")
        now = self.now()
        status = key.status(now)
        if status == "revoked":
            raise http_error(401, "this API key was revoked")
        if status == "expired":
            raise http_error(401, "this API key has expired")
        key.last_used_at = now
        return key

    # --- the /apikeys operations ---------------------------------------------------------------
    def keys_of(self, account: Account) -> list[ApiKey]:
        """The account's keys, oldest first."""
        return sorted(
            (key for key in self._by_id.values() if key.account is account), key=lambda k: k.created_at
        )

    def get(self, account: Account, key_id: str) -> ApiKey:
        """The account's key ``key_id``; 404 otherwise (also for another user's key)."""
        key = self._by_id.get(key_id)
        if key is None or key.account is not account:
            raise http_error(404, "no API key with this id")
        return key

    def create(self, account: Account, label: str, expires_at: float | None) -> ApiKey:
        key = ApiKey(_new_key_id(), _new_secret(), account, label, self.now(), expires_at)
        self._add(key)
        return key

    def rotate(self, key: ApiKey, grace_hours: int) -> ApiKey:
        """A successor of ``key`` (same label and lifetime); ``key`` keeps working ``grace_hours`` longer."""
        now = self.now()
        status = key.status(now)
        if status in ("revoked", "expired"):
            raise ApiError(409, "INVALID_STATE", f"a {status} API key cannot be rotated")
        if key.rotated_to_id is not None:
            raise ApiError(409, "INVALID_STATE", "this API key was rotated already")
        expires = None
        if key.expires_at is not None:
            expires = now + min(max(key.expires_at - key.created_at, DAY), MAX_LIFETIME)
        successor = ApiKey(
            _new_key_id(), _new_secret(), key.account, key.label, now, expires, rotated_from_id=key.id
        )
        self._add(successor)
        key.rotated_to_id = successor.id
        key.expires_at = now + grace_hours * 3600.0
        return successor

    def revoke(self, key: ApiKey) -> None:
        if key.revoked_at is None:
            key.revoked_at = self.now()

    def delete(self, key: ApiKey) -> None:
        self._forget(key)

    def all_keys(self) -> list[ApiKey]:
        return sorted(self._by_id.values(), key=lambda k: k.created_at)

    def find(self, key_id: str) -> ApiKey | None:
        return self._by_id.get(key_id)

    # --- internals -----------------------------------------------------------------------------
    def _add(self, key: ApiKey) -> None:
        self._by_secret[key.secret] = key
        self._by_id[key.id] = key

    def _forget(self, key: ApiKey) -> None:
        if self._by_secret.get(key.secret) is key:
            del self._by_secret[key.secret]
        if self._by_id.get(key.id) is key:
            del self._by_id[key.id]


API_KEY: Any = (
    web.RequestKey("faktoora_api_key", ApiKey) if hasattr(web, "RequestKey") else "faktoora_api_key"
)
"""Request key of the :class:`ApiKey` that authenticated the request (set by the middleware)."""

KEY_ID = re.compile(r"ak_[0-9a-f]{24}")
"""What an API key id looks like."""


def _new_key_id() -> str:
    return "ak_" + secrets.token_hex(12)


def _new_secret() -> str:
    return "sk_test_" + secrets.token_urlsafe(32)
