"""Local field checks of the request models (customers, products, projects, API keys, incoming updates).

A request model checks itself when it is built (``__post_init__``), collects every problem it finds and
raises one :class:`~faktoora_async.errors.FieldValidationError` naming each field by its wire (camelCase)
name, so a bad value fails before any request is sent.  The checks are faktoora's documented rules
(API.md v2) plus the types; response models never use them (a server answer is always kept).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec

from ..errors import FieldError, FieldValidationError

__all__ = [
    "Problems",
    "build",
    "camel",
    "has_emoji",
    "patch_fields",
    "snake",
    "wire_fields",
    "wire_name",
]

S = TypeVar("S", bound=msgspec.Struct)

_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])([A-Z])")
# Emoji (Unicode TR #51): the supplementary pictograph blocks (emoticons, transport, flags, skin tones:
# U+1F000-1FAFF), Miscellaneous Symbols and Dingbats (U+2600-27BF), the few emoji-presentation characters of
# Miscellaneous Technical and of Symbols and Arrows, the emoji variation selector, the keycap mark and the
# tag characters of subdivision flags.  Letters, (C), (TM), plain arrows and the diameter sign are fine.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf"
    "\u231a\u231b\u2328\u23cf\u23e9-\u23f3\u23f8-\u23fa"
    "\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55"
    "\ufe0f\u20e3\U000e0020-\U000e007f]"
)


def has_emoji(text: str) -> bool:
    """True when ``text`` holds an emoji (or a piece of one)."""
    return _EMOJI.search(text) is not None


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    return _CAMEL_SPLIT.sub(lambda m: "_" + m.group(1).lower(), name)


def wire_name(cls: type[msgspec.Struct], attr: str) -> str:
    """The JSON name of attribute ``attr`` of ``cls``."""
    for field in msgspec.structs.fields(cls):
        if field.name == attr:
            return field.encode_name
    return camel(attr)


class Problems:
    """Collects the problems of one object; :meth:`raise_if_any` raises them together."""

    def __init__(self, struct: msgspec.Struct, what: str, *, prefix: str = "") -> None:
        self._struct = struct
        self._cls = type(struct)
        self.what = what
        self.prefix = prefix
        self.errors: list[FieldError] = []

    def add(self, attr: str, message: str) -> None:
        name = self.prefix + wire_name(self._cls, attr)
        self.errors.append(FieldError(index=None, field=name, message=f"{name}: {message}"))

    def value(self, attr: str) -> Any:
        return getattr(self._struct, attr)

    def set(self, attr: str, value: Any) -> None:
        msgspec.structs.force_setattr(self._struct, attr, value)

    # ------------------------------------------------------------------ typed checks (None = absent)

    def text(self, attr: str, *, required: bool = False, max_len: int | None = None) -> str | None:
        value = self.value(attr)
        if value is None:
            if required:
                self.add(attr, "is required")
            return None
        if not isinstance(value, str):
            self.add(attr, f"must be a string, got {type(value).__name__}")
            return None
        if required and not value.strip():
            self.add(attr, "must not be empty")
            return None
        if max_len is not None and len(value) > max_len:
            self.add(attr, f"must be at most {max_len} characters, got {len(value)}")
        return value

    def pattern(self, attr: str, regex: re.Pattern[str], what: str, *, required: bool = False) -> None:
        value = self.text(attr, required=required)
        if value is not None and value and regex.fullmatch(value) is None:
            self.add(attr, f"must be {what}, got {value!r}")

    def boolean(self, attr: str, *, required: bool = False) -> None:
        value = self.value(attr)
        if value is None:
            if required:
                self.add(attr, "is required (true or false)")
        elif not isinstance(value, bool):
            self.add(attr, f"must be true or false, got {value!r}")

    def integer(self, attr: str, *, minimum: int | None = None) -> None:
        value = self.value(attr)
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(attr, f"must be a whole number, got {value!r}")
        elif minimum is not None and value < minimum:
            self.add(attr, f"must be at least {minimum}, got {value}")

    def decimal(
        self,
        attr: str,
        *,
        required: bool = False,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        places: int | None = None,
    ) -> None:
        """A decimal (``Decimal``, int or decimal string; a float goes through ``str``), stored as Decimal."""
        value = self.value(attr)
        if value is None:
            if required:
                self.add(attr, "is required")
            return
        try:
            if isinstance(value, bool):
                raise TypeError
            number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
        except (InvalidOperation, TypeError, ValueError):
            self.add(attr, f"must be a decimal number, got {value!r}")
            return
        if not number.is_finite():
            self.add(attr, f"must be a finite number, got {value!r}")
            return
        if minimum is not None and number < minimum:
            self.add(attr, f"must be at least {minimum}, got {number}")
        elif maximum is not None and number > maximum:
            self.add(attr, f"must be at most {maximum}, got {number}")
        exponent = number.normalize().as_tuple().exponent
        if places is not None and isinstance(exponent, int) and exponent < -places:
            self.add(attr, f"must have at most {places} decimals, got {number}")
        if number is not value:
            self.set(attr, number)

    def date(self, attr: str) -> None:
        """A ``datetime.date`` (or a ``YYYYMMDD``/ISO string), stored as the wire date type."""
        from ._base import coerce_dates

        value = self.value(attr)
        if value is None:
            return
        if isinstance(value, datetime.datetime):
            self.set(attr, value.date())
        try:
            coerce_dates(self._struct, attr)
        except (TypeError, ValueError):
            self.add(attr, f"must be a date (datetime.date or YYYYMMDD), got {value!r}")

    def mapping(self, attr: str, *, required: bool = False) -> None:
        value = self.value(attr)
        if value is None:
            if required:
                self.add(attr, "is required (an object, may be empty)")
        elif not isinstance(value, Mapping):
            self.add(attr, f"must be an object, got {type(value).__name__}")
        elif not isinstance(value, dict):
            self.set(attr, dict(value))

    def choice(self, attr: str, allowed: tuple[str, ...]) -> None:
        value = self.value(attr)
        if value is not None and value not in allowed:
            self.add(attr, f"must be one of {', '.join(allowed)}, got {value!r}")

    def raise_if_any(self) -> None:
        if self.errors:
            raise FieldValidationError(self.what, self.errors)


def build(cls: type[S], data: S | Mapping[str, Any], what: str, **overrides: Any) -> S:
    """``cls`` from a struct or a mapping with camelCase or snake_case keys (plus ``overrides``).

    Unknown keys are a :class:`FieldValidationError` naming them (a typo must not silently drop a field).
    """
    if isinstance(data, cls) and not overrides:
        return data
    if isinstance(data, msgspec.Struct):
        values = {f: getattr(data, f) for f in data.__struct_fields__}
    elif isinstance(data, Mapping):
        values = dict(data)
    else:
        raise TypeError(f"{what} must be a {cls.__name__} or a mapping, got {type(data).__name__}")
    values.update(overrides)
    by_wire = {f.encode_name: f.name for f in msgspec.structs.fields(cls)}
    attrs = set(by_wire.values())
    kwargs: dict[str, Any] = {}
    unknown: list[FieldError] = []
    for key, value in values.items():
        name = key if key in attrs else by_wire.get(key) or snake(key)
        if name not in attrs:
            unknown.append(FieldError(index=None, field=key, message=f"{key}: unknown field of {what}"))
            continue
        kwargs[name] = value
    if unknown:
        raise FieldValidationError(what, unknown)
    missing = [f for f in msgspec.structs.fields(cls) if f.required and f.name not in kwargs]
    if missing:
        raise FieldValidationError(
            what,
            [
                FieldError(index=None, field=f.encode_name, message=f"{f.encode_name}: is required")
                for f in missing
            ],
        )
    return cls(**kwargs)


def wire_fields(cls: type[msgspec.Struct], fields: Mapping[str, Any], what: str) -> dict[str, Any]:
    """``fields`` (snake_case or camelCase keys) under their wire names; unknown names are an error."""
    by_attr = {f.name: f.encode_name for f in msgspec.structs.fields(cls)}
    wire_names = set(by_attr.values())
    out = {k if k in wire_names else by_attr.get(k, camel(k)): v for k, v in fields.items()}
    unknown = [k for k in fields if (k if k in wire_names else by_attr.get(k, camel(k))) not in wire_names]
    if unknown:
        raise FieldValidationError(
            what, [FieldError(None, k, f"{k}: unknown field of {what}") for k in unknown]
        )
    return out


def patch_fields(
    cls: type[S], fields: Mapping[str, Any], what: str, *, required: tuple[str, ...] = ()
) -> tuple[S, set[str], list[str]]:
    """A partial update: ``(checked struct, wire names to send, wire names to send as null)``.

    ``None`` clears an optional field; a ``required`` one (wire names) cannot be cleared.
    """
    given = wire_fields(cls, fields, what)
    if not given:
        raise ValueError("update() needs at least one field")
    cleared = [k for k, v in given.items() if v is None]
    bad = [k for k in cleared if k in required]
    if bad:
        raise FieldValidationError(
            what, [FieldError(None, k, f"{k}: is required and cannot be cleared") for k in bad]
        )
    values = {k: v for k, v in given.items() if v is not None}
    return build(cls, values, what), set(values), cleared
