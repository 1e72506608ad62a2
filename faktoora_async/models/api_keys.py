"""API keys (``/api/v2/apikeys``): the key record, and the secret that appears once.

:class:`ApiKeySecret` holds a secret key; its ``repr``/``str``/format show ``***`` so it cannot end up in a
log line or a traceback by accident; :meth:`ApiKeySecret.reveal` returns the text (to store it in a
vault).  ``client.use_api_key()`` takes it as it is.  :class:`NewApiKey` is the answer of create and
rotate: the key record plus that secret (its ``raw`` shows the secret as ``***`` too).
"""

from __future__ import annotations

import datetime
import hmac
from typing import Any

from ._base import ResponseBase, Timestamp, attach_raw

__all__ = [
    "EXPIRING_SOON_DAYS",
    "MAX_LIFETIME_DAYS",
    "ApiKey",
    "ApiKeySecret",
    "ApiKeyStatus",
    "NewApiKey",
    "wire_timestamp",
]

EXPIRING_SOON_DAYS = 7  # faktoora: "expiring_soon" = expires within 7 days
MAX_LIFETIME_DAYS = 365  # expiresAt at most 365 days ahead


class ApiKeyStatus:
    """The computed ``status`` of a key (answers keep unknown values as plain strings)."""

    ACTIVE = "active"
    EXPIRING_SOON = "expiring_soon"
    EXPIRED = "expired"
    REVOKED = "revoked"
    VALUES: tuple[str, ...] = ("active", "expiring_soon", "expired", "revoked")


class ApiKeySecret:
    """A secret API key that never shows itself: ``repr()``, ``str()`` and f-strings give ``***``.

    ``reveal()`` returns the key (for a secret store, or an environment variable); equality compares in
    constant time; it cannot be pickled (a pickled secret would land on disk in clear).
    """

    __slots__ = ("_id", "_value", "expires_at")

    def __init__(
        self, value: str, *, key_id: str | None = None, expires_at: datetime.datetime | None = None
    ) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("an API key secret must be a non-empty string")
        self._value = value.strip()
        self._id = key_id
        self.expires_at = expires_at  # when the server said (create/rotate answers)

    @property
    def key_id(self) -> str | None:
        """The ``ak_…`` id of the key this secret belongs to (when the server said)."""
        return self._id

    def reveal(self) -> str:
        """The secret itself.  Store it, never log it."""
        return self._value

    def __repr__(self) -> str:
        return f"ApiKeySecret('***', key_id={self._id!r})"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ApiKeySecret):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("ApiKeySecret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("an ApiKeySecret cannot be pickled; store secret.reveal() in a secret store")


class ApiKey(ResponseBase, frozen=True):
    """A key as ``GET /apikeys`` lists it (never with its secret).

    ``status``: ``active``, ``expiring_soon`` (expires within 7 days), ``expired`` or ``revoked``;
    ``rotated_from_id`` names the key this one replaced.
    """

    id: str
    label: str | None = None
    status: str | None = None
    created_at: Timestamp | None = None
    expires_at: Timestamp | None = None
    last_used_at: Timestamp | None = None
    revoked_at: Timestamp | None = None
    rotated_from_id: str | None = None

    @property
    def expiring_soon(self) -> bool:
        return self.status == ApiKeyStatus.EXPIRING_SOON

    @property
    def usable(self) -> bool:
        """The server still accepts it (active or expiring soon)."""
        return self.status in (ApiKeyStatus.ACTIVE, ApiKeyStatus.EXPIRING_SOON)


class NewApiKey(ApiKey, frozen=True):
    """The answer of ``create`` and ``rotate``: the key record and its :attr:`key`, shown this once."""

    key: ApiKeySecret | None = None

    @property
    def raw(self) -> dict[str, Any]:
        data = dict(super().raw)
        if "key" in data:
            data["key"] = "***"
        return data

    @classmethod
    def of(cls, record: ApiKey, secret: str | None) -> NewApiKey:
        """The record ``record`` with ``secret`` wrapped (its raw JSON kept, the secret masked)."""
        fields = {f: getattr(record, f) for f in ApiKey.__struct_fields__}
        value = ApiKeySecret(secret, key_id=record.id, expires_at=record.expires_at) if secret else None
        new = cls(**fields, key=value)
        raw = dict(record.raw)
        if "key" in raw:
            raw["key"] = "***"
        attach_raw(new, raw)
        return new


def wire_timestamp(value: datetime.datetime | datetime.date) -> str:
    """ISO 8601 in UTC with a ``Z`` (a naive datetime is UTC; a date is its midnight UTC)."""
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    value = value.astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond // 1000:03d}Z"
