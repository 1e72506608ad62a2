"""What every resource namespace shares: the :class:`Requester` it talks to, and file naming.

A resource (``client.invoices``, ``client.imports``, ...) never touches the client's internals: it is
built with a :class:`Requester` (and whatever else it needs, passed explicitly) and describes each call
with the protocol layer's request builders.  Every method has one of four shapes: a typed object
(``request``), a list through :class:`~faktoora_async.pagination.AsyncPaginator`, a file (bytes, or a
:class:`~faktoora_async.files.DownloadResult` when ``to=`` is given), or an upload.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from ..files import DownloadResult, safe_filename
from ..models import Page
from ..pagination import AsyncPaginator
from ..protocol import APIRequest
from ..transport import UploadSource

__all__ = ["DEFAULT_PER_PAGE", "PathLike", "Requester", "Resource", "filename_from_headers", "namer"]

T = TypeVar("T")
PathLike = str | os.PathLike[str]
DEFAULT_PER_PAGE = 100
_CD_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


class Requester(Protocol):
    """The narrow interface resources talk to (implemented by ``faktoora_async._requester``)."""

    async def request(self, req: APIRequest, cast_to: type[T]) -> T: ...

    async def request_optional(self, req: APIRequest, cast_to: type[T]) -> T | None: ...

    async def request_none(self, req: APIRequest) -> None: ...

    async def page(self, req: APIRequest, item_type: type[T], page: int, per_page: int) -> Page[T]: ...

    async def download(
        self, req: APIRequest, *, to: PathLike | None, default_name: Callable[[Mapping[str, str]], str]
    ) -> bytes | DownloadResult: ...

    async def upload(
        self, req: APIRequest, source: UploadSource, *, filename: str | None, cast_to: type[T]
    ) -> T: ...


def filename_from_headers(headers: Mapping[str, str]) -> str | None:
    """The file name a ``Content-Disposition`` header proposes (unsanitised), if any."""
    value = headers.get("Content-Disposition")
    if not value:
        return None
    match = _CD_FILENAME.search(value)
    if not match:
        return None
    return urllib.parse.unquote(match.group(1)).strip() or None


def namer(stem: str, ext: str, *, prefer_header: bool = True) -> Callable[[Mapping[str, str]], str]:
    """The file name for a download into a folder: the server's proposal (sanitised) or ``stem.ext``."""

    def name(headers: Mapping[str, str]) -> str:
        proposed = filename_from_headers(headers) if prefer_header else None
        if proposed:
            base, dot, suffix = proposed.rpartition(".")
            if dot and base:
                return safe_filename(base, suffix or ext)
            return safe_filename(proposed, ext)
        return safe_filename(stem, ext)

    return name


class Resource:
    """Base of the resource namespaces: holds the requester."""

    def __init__(self, requester: Requester) -> None:
        self._r = requester

    def _paginate(
        self, make_request: Callable[[int, int], APIRequest], item_type: type[T], page: int, per_page: int
    ) -> AsyncPaginator[T]:
        return AsyncPaginator(self._r, make_request, item_type, page=page, per_page=per_page)
