"""``with_raw_response``: any resource call, with the HTTP status, headers and body it was answered with.

``await client.invoices.with_raw_response.status(fid)`` returns a :class:`RawResponse` whose ``parsed`` is
what ``await client.invoices.status(fid)`` returns.  The requester records every response of a call made
inside :func:`raw_method` (a context variable, so concurrent calls never mix); the last one is reported.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, ParamSpec, TypeVar

__all__ = ["RawResponse", "raw_method", "record"]

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class _Recorded:
    status: int
    headers: Mapping[str, str]
    content: bytes
    method: str
    url: str


_RECORDER: contextvars.ContextVar[list[_Recorded] | None] = contextvars.ContextVar(
    "faktoora_raw_recorder", default=None
)


def record(status: int, headers: Mapping[str, str], content: bytes, method: str, url: str) -> None:
    """Called by the requester for every response; a no-op outside ``with_raw_response``."""
    sink = _RECORDER.get()
    if sink is not None:
        sink.append(_Recorded(status, headers, content, method, url))


@dataclass(frozen=True)
class RawResponse(Generic[T]):
    """The last HTTP response of a call: ``status``, ``headers``, ``content`` (the body bytes; empty for a
    file streamed to disk), ``method``, ``url``; ``parsed`` (or :meth:`parse`) is the typed result."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    method: str
    url: str
    parsed: T
    responses: int = field(default=1)

    def parse(self) -> T:
        return self.parsed

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def raw_method(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """Wrap a resource method so that it returns a :class:`RawResponse` of its last HTTP response."""

    async def call(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        sink: list[_Recorded] = []
        token = _RECORDER.set(sink)
        try:
            parsed = await fn(*args, **kwargs)
        finally:
            _RECORDER.reset(token)
        if not sink:  # pragma: no cover - every resource method sends at least one request
            raise RuntimeError(f"{getattr(fn, '__name__', fn)} sent no request")
        last = sink[-1]
        return RawResponse(last.status, last.headers, last.content, last.method, last.url, parsed, len(sink))

    call.__name__ = getattr(fn, "__name__", "call")
    call.__doc__ = getattr(fn, "__doc__", None)
    return call
