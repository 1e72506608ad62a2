"""Shared plumbing of the resource namespaces (``client.invoices``, ``.imports``, ``.webhooks``)."""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import protocol
from ..files import DownloadResult, safe_filename
from ..models import Page
from ..protocol import APIRequest

if TYPE_CHECKING:
    from ..client import FaktooraClient
    from ..transport import Transport

__all__ = ["DEFAULT_PER_PAGE", "PathLike", "Resource", "filename_from_headers", "segment"]

T = TypeVar("T")
PathLike = str | os.PathLike[str]
DEFAULT_PER_PAGE = 100
_CD_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


def segment(value: str) -> str:
    """An id as one URL path segment (quoted: no ``/``, no ``..`` traversal)."""
    text = str(value)
    if not text or text in {".", ".."}:
        raise ValueError(f"invalid id {value!r}")
    return urllib.parse.quote(text, safe="")


def filename_from_headers(headers: Mapping[str, str]) -> str | None:
    """The file name a ``Content-Disposition`` header proposes (unsanitised), if any."""
    value = headers.get("Content-Disposition")
    if not value:
        return None
    match = _CD_FILENAME.search(value)
    if not match:
        return None
    return urllib.parse.unquote(match.group(1)).strip() or None


class Resource:
    def __init__(self, client: FaktooraClient) -> None:
        self._client = client

    @property
    def _transport(self) -> Transport:
        return self._client._transport

    async def _get(
        self, tp: Any, path: str, *, params: tuple[tuple[str, str], ...] = (), api_version: str = "v1"
    ) -> Any:
        resp = await self._transport.request(APIRequest("GET", path, params=params, api_version=api_version))
        return protocol.decode_json(tp, resp.body, status=resp.status, content_type=resp.content_type)

    async def _send_json(self, method: str, tp: Any, path: str, body: Any) -> Any:
        req = APIRequest(method, path, body=protocol.encode_body(body), content_type=protocol.JSON)
        resp = await self._transport.request(req)
        if tp is None:
            return None
        return protocol.decode_json(tp, resp.body, status=resp.status, content_type=resp.content_type)

    async def _page(
        self, item_type: type[T], path: str, params: tuple[tuple[str, str], ...], page: int, per_page: int
    ) -> Page[T]:
        query = (*params, ("page", str(page)), ("perPage", str(per_page)))
        resp = await self._transport.request(APIRequest("GET", path, params=query))
        return protocol.decode_page(
            item_type,
            resp.body,
            page=page,
            per_page=per_page,
            status=resp.status,
            content_type=resp.content_type,
        )

    async def _pages(
        self, item_type: type[T], path: str, params: tuple[tuple[str, str], ...], start: int, per_page: int
    ) -> AsyncIterator[Page[T]]:
        if per_page < 1:
            raise ValueError("per_page must be >= 1")
        number = start
        while True:
            page = await self._page(item_type, path, params, number, per_page)
            yield page
            if not page.items or not page.has_next:
                return
            number = page.page + 1

    async def _items(
        self, item_type: type[T], path: str, params: tuple[tuple[str, str], ...], start: int, per_page: int
    ) -> AsyncIterator[T]:
        async for page in self._pages(item_type, path, params, start, per_page):
            for item in page.items:
                yield item

    async def _file(
        self,
        path: str,
        *,
        accept: str,
        params: tuple[tuple[str, str], ...] = (),
        to: PathLike | None = None,
        default_name: Callable[[Mapping[str, str]], str],
    ) -> bytes | DownloadResult:
        # identity: stream exactly the bytes Content-Length announces (no transparent gzip)
        req = APIRequest(
            "GET", path, params=params, accept=accept, headers=(("Accept-Encoding", "identity"),)
        )
        return await self._transport.download(req, to=to, default_name=default_name)

    @staticmethod
    def _namer(stem: str, ext: str, *, prefer_header: bool = True) -> Callable[[Mapping[str, str]], str]:
        def name(headers: Mapping[str, str]) -> str:
            proposed = filename_from_headers(headers) if prefer_header else None
            if proposed:
                base, dot, suffix = proposed.rpartition(".")
                if dot and base:
                    return safe_filename(base, suffix or ext)
                return safe_filename(proposed, ext)
            return safe_filename(stem, ext)

        return name

    @staticmethod
    def _as_path(result: bytes | DownloadResult) -> bytes | Path:
        return result.path if isinstance(result, DownloadResult) else result
