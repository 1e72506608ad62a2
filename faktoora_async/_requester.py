"""The requester: the narrow, typed door between resources and the transport.

Resources describe calls with the protocol layer's request builders and hand them here; the requester
sends them through the :class:`~faktoora_async.transport.Transport` (the one retry loop), decodes the
answer with :mod:`faktoora_async.protocol` into the type the resource asks for (``cast_to``, openai's
shape) and records the response for ``with_raw_response``.  It implements
:class:`faktoora_async.resources._base.Requester`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TypeVar

from . import protocol
from ._raw import _RECORDER, record
from .files import DownloadResult
from .models import Page
from .protocol import APIRequest
from .transport import Response, Transport, UploadSource

__all__ = ["APIRequester"]

T = TypeVar("T")


class APIRequester:
    """Sends requests and returns typed results (see :class:`~faktoora_async.resources._base.Requester`)."""

    def __init__(
        self, transport: Transport, *, observer: Callable[[Mapping[str, str]], None] | None = None
    ) -> None:
        self._transport = transport
        self._observer = observer  # sees the headers of every 2xx answer (the API-key expiry watch)

    def _seen(self, headers: Mapping[str, str]) -> None:
        if self._observer is not None:
            self._observer(headers)

    async def _send(self, req: APIRequest) -> Response:
        resp = await self._transport.request(req)
        self._seen(resp.raw_headers)
        if _RECORDER.get() is not None:  # the plain header dict is made only for with_raw_response
            record(resp.status, resp.headers, resp.body, resp.method, resp.url)
        return resp

    async def request(self, req: APIRequest, cast_to: type[T]) -> T:
        # _send() written out: this is the path of every typed call
        resp = await self._transport.request(req)
        raw = resp.raw_headers  # (case-insensitive; the plain dict is made only for with_raw_response)
        if self._observer is not None:
            self._observer(raw)
        if _RECORDER.get() is not None:
            record(resp.status, resp.headers, resp.body, resp.method, resp.url)
        return protocol.decode_json(
            cast_to, resp.body, status=resp.status, content_type=raw.get("Content-Type")
        )

    async def request_optional(self, req: APIRequest, cast_to: type[T]) -> T | None:
        """Like :meth:`request`, but an empty body or JSON ``null`` is None."""
        resp = await self._send(req)
        if not resp.body.strip() or resp.body.strip() == b"null":
            return None
        return protocol.decode_json(cast_to, resp.body, status=resp.status, content_type=resp.content_type)

    async def request_none(self, req: APIRequest) -> None:
        """Send ``req``; whatever a 2xx body says is not needed."""
        await self._send(req)

    async def page(self, req: APIRequest, item_type: type[T], page: int, per_page: int) -> Page[T]:
        resp = await self._send(req)
        return protocol.decode_page(
            item_type,
            resp.body,
            page=page,
            per_page=per_page,
            status=resp.status,
            content_type=resp.content_type,
        )

    async def download(
        self,
        req: APIRequest,
        *,
        to: str | os.PathLike[str] | None,
        default_name: Callable[[Mapping[str, str]], str],
    ) -> bytes | DownloadResult:
        got = await self._transport.download(req, to=to, default_name=default_name)
        self._seen(got.headers)
        content = got.result if isinstance(got.result, bytes) else b""
        record(got.status, got.headers, content, got.method, got.url)
        return got.result

    async def upload(
        self, req: APIRequest, source: UploadSource, *, filename: str | None, cast_to: type[T]
    ) -> T:
        resp = await self._transport.upload(req, source, filename=filename)
        self._seen(resp.raw_headers)
        if _RECORDER.get() is not None:
            record(resp.status, resp.headers, resp.body, resp.method, resp.url)
        return protocol.decode_json(cast_to, resp.body, status=resp.status, content_type=resp.content_type)
