"""msgspec plumbing shared by every model: the ``YYYYMMDD`` date type and the encode/decode hooks.

Dates are ``datetime.date`` for users.  On the wire faktoora writes ``YYYYMMDD``; msgspec's native date
format is ISO (``YYYY-MM-DD``), so date fields are declared with :class:`WireDate`, a ``date`` subclass that
msgspec hands to our hooks.  Plain ``date`` values given by users are converted to ``WireDate`` in
``__post_init__`` (see :func:`coerce_dates`), which keeps encoding a single C-level pass plus one tiny
hook call per date.  Decoding accepts ``YYYYMMDD`` and ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

__all__ = [
    "Base",
    "FrozenBase",
    "ResponseBase",
    "Timestamp",
    "WireDate",
    "attach_raw",
    "coerce_dates",
    "date_to_wire",
    "dec_hook",
    "enc_hook",
    "parse_wire_date",
]


class _WireDate(datetime.date):
    """A ``datetime.date`` that travels as ``YYYYMMDD``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"datetime.date({self.year}, {self.month}, {self.day})"

    @classmethod
    def of(cls, value: datetime.date) -> _WireDate:
        if type(value) is cls:
            return value
        if isinstance(value, datetime.datetime):
            value = value.date()
        return cls(value.year, value.month, value.day)


if TYPE_CHECKING:
    WireDate = datetime.date
else:
    WireDate = _WireDate


def parse_wire_date(text: str) -> datetime.date:
    """``YYYYMMDD`` (or ISO ``YYYY-MM-DD``) to a date; ValueError otherwise."""
    if len(text) == 8 and text.isdigit():
        return _WireDate(int(text[:4]), int(text[4:6]), int(text[6:]))
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return _WireDate.of(datetime.date.fromisoformat(text))
    raise ValueError(f"not a YYYYMMDD date: {text!r}")


def date_to_wire(value: datetime.date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def enc_hook(obj: Any) -> Any:
    if isinstance(obj, datetime.date) and not isinstance(obj, datetime.datetime):
        return date_to_wire(obj)
    if isinstance(obj, Decimal):  # pragma: no cover - msgspec encodes Decimal natively
        return str(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


def dec_hook(tp: Any, obj: Any) -> Any:
    if tp is _WireDate:
        if isinstance(obj, str):
            try:
                return parse_wire_date(obj)
            except ValueError as exc:
                raise msgspec.ValidationError(str(exc)) from None
        if isinstance(obj, int) and 10000101 <= obj <= 99991231:
            return parse_wire_date(str(obj))
        raise msgspec.ValidationError(f"Expected a YYYYMMDD date, got {type(obj).__name__}")
    raise NotImplementedError(f"cannot decode {tp!r}")


Timestamp = Annotated[datetime.datetime, msgspec.Meta(tz=True)]
"""A response timestamp: ``datetime.datetime`` with a zone.  msgspec decodes ISO 8601 with a zone and epoch
numbers (as UTC) in C; a timestamp without a zone fails this constraint and the lenient decoder
(``protocol.decode.lenient_convert``) reads it as UTC (API.md v2 Basics: "none = UTC"), so the common case
costs nothing extra."""


def coerce_dates(struct: msgspec.Struct, *names: str) -> None:
    """Turn plain ``date`` values of ``names`` into wire dates (for user-built structs)."""
    for name in names:
        value = getattr(struct, name)
        if value is not None and type(value) is not _WireDate:
            if not isinstance(value, datetime.date):
                if isinstance(value, str):
                    value = parse_wire_date(value)
                else:
                    raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}")
            msgspec.structs.force_setattr(struct, name, _WireDate.of(value))


# ``gc=False``: these are plain, acyclic data records; keeping them out of the cyclic garbage collector makes
# decoding a batch of thousands of invoices markedly faster (msgspec docs, "Disabling Garbage Collection").
# Do not build reference cycles through model instances.


class Base(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True, gc=False):
    """Mutable base: camelCase on the wire, defaults omitted, keyword-only construction."""


class FrozenBase(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True, frozen=True, gc=False):
    """Frozen base for request payloads and response objects."""


_RAW = "_raw"


class ResponseBase(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True, frozen=True, dict=True):
    """Frozen base of every response object: unknown fields are ignored, but kept in :attr:`raw`.

    ``dict=True`` (which excludes ``gc=False``) gives each instance room for the JSON it was decoded
    from; the transport attaches the body bytes and :attr:`raw` decodes them on first access.
    """

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON object this was decoded from (``{}`` when built by hand): every field, named or not."""
        slot = self.__dict__
        value = slot.get(_RAW)
        if isinstance(value, (bytes, bytearray, memoryview)):
            try:
                value = msgspec.json.decode(value)
            except msgspec.DecodeError:  # pragma: no cover - it decoded once already
                value = {}
            slot[_RAW] = value
        return value if isinstance(value, dict) else {}


def attach_raw(obj: msgspec.Struct, raw: Any) -> None:
    """Keep ``raw`` (JSON bytes or the decoded value) on a response object that has room for it."""
    slot = getattr(obj, "__dict__", None)
    if slot is not None:
        slot[_RAW] = raw
