"""What the record areas (customers, products, projects, incoming invoices) share: list-option checks
and request bodies built from the request models."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import msgspec

from ..models._base import enc_hook

__all__ = ["check_order", "check_sort", "struct_body"]


def check_order(order: str | None) -> None:
    if order is not None and order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', got {order!r}")


def check_sort(sort: str | None, allowed: Sequence[str]) -> None:
    if sort is not None and sort not in allowed:
        raise ValueError(f"sort must be one of {', '.join(allowed)}; got {sort!r}")


def struct_body(
    obj: msgspec.Struct, *, only: Collection[str] | None = None, nulls: Collection[str] = ()
) -> dict[str, Any]:
    """``obj`` as a JSON object (camelCase, ``YYYYMMDD`` dates, decimal strings, None fields left out).

    ``only``: keep just these wire names (a partial update sends what the caller gave); ``nulls``: wire
    names sent as ``null`` (a PATCH clears those optional fields).
    """
    data: dict[str, Any] = msgspec.to_builtins(obj, enc_hook=enc_hook)
    if only is not None:
        data = {k: v for k, v in data.items() if k in only}
    for name in nulls:
        data[name] = None
    return data
