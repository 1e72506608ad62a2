"""Requests described as data: :class:`APIRequest`, query strings, URLs, path segments, redaction."""

from __future__ import annotations

import datetime
import functools
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from ..models._base import date_to_wire

__all__ = [
    "FILE_HEADERS",
    "JSON",
    "APIRequest",
    "build_url",
    "json_request",
    "paged",
    "query",
    "redact",
    "segment",
]

JSON = "application/json"
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})


@dataclass(frozen=True)
class APIRequest:
    """A request, described as data.

    ``path`` is relative to the API root (``/invoices``); ``api_version`` picks ``v1`` (the base URL as
    given) or ``v2`` (derived from it).  ``idempotent`` requests (GET, PUT, DELETE) may be retried after
    they reached the server; the others only when they provably did not.  ``stream``: the response is a
    file (anything but JSON) read in chunks, with the download timeout instead of the API-call one.
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str | None = None
    accept: str = JSON
    api_version: str = "v1"
    headers: tuple[tuple[str, str], ...] = field(default=())

    @property
    def idempotent(self) -> bool:
        return self.method.upper() in _IDEMPOTENT

    @property
    def stream(self) -> bool:
        return self.accept != JSON


# identity: a file is streamed as exactly the bytes Content-Length announces (no transparent gzip)
FILE_HEADERS: tuple[tuple[str, str], ...] = (("Accept-Encoding", "identity"),)


def paged(path: str, params: tuple[tuple[str, str], ...], page: int, per_page: int) -> APIRequest:
    """``GET path`` for one page of a list (``page`` from 1, ``perPage``)."""
    return APIRequest("GET", path, params=(*params, ("page", str(page)), ("perPage", str(per_page))))


def json_request(method: str, path: str, body: bytes, *, api_version: str = "v1") -> APIRequest:
    """A request with a JSON body (``body`` already encoded)."""
    return APIRequest(method, path, body=body, content_type=JSON, api_version=api_version)


def segment(value: str) -> str:
    """An id as one URL path segment (quoted: no ``/``, no ``..`` traversal)."""
    text = str(value)
    if not text or text in {".", ".."}:
        raise ValueError(f"invalid id {value!r}")
    if _UNRESERVED.fullmatch(text):  # what quote() leaves as it is (every faktoora id): skip it
        return text
    return urllib.parse.quote(text, safe="")


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _query_text(value: Any) -> str:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return date_to_wire(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query(**params: Any) -> tuple[tuple[str, str], ...]:
    """camelCase query parameters, None values dropped, dates as ``YYYYMMDD``.

    A list or tuple value repeats the parameter (``status=a&status=b``); a name ending in ``[]`` is kept
    as written (``keywords[]``) by passing it through ``**{"keywords[]": [...]}``.
    """
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        name = key if key.endswith("[]") else _camel(key)
        if isinstance(value, (list, tuple)):
            out.extend((name, _query_text(v)) for v in value if v is not None)
        else:
            out.append((name, _query_text(value)))
    return tuple(out)


def build_url(base_url: str, path: str, api_version: str = "v1") -> str:
    """Join ``base_url`` (ending in ``/api/v1``) and ``path``; ``v2`` swaps the trailing version segment."""
    return _versioned_base(base_url, api_version) + (path if path.startswith("/") else "/" + path)


@functools.lru_cache(maxsize=64)
def _versioned_base(base_url: str, api_version: str) -> str:
    base = base_url.rstrip("/")
    if api_version != "v1":
        head, sep, tail = base.rpartition("/")
        if sep and len(tail) >= 2 and tail[0] == "v" and tail[1:].isdigit():
            base = f"{head}/{api_version}"
        else:
            base = f"{base}/{api_version}"  # pragma: no cover - base URL without a version segment
    return base


def redact(text: str, *secrets: str | None) -> str:
    """``text`` without any of ``secrets`` (API keys)."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, "***")
    return text
