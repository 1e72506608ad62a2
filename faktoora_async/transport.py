"""The only aiohttp client code of faktoora-async: sending, the retry loop, timeouts and streaming.

One :class:`Transport` per client owns (or borrows) one ``aiohttp.ClientSession``.  :meth:`Transport.send`
is the one retry loop of the SDK: it paces each attempt through the rate governor, sends it, describes
what happened as a :class:`~faktoora_async.protocol.retry.Outcome`, and lets the pure functions of
:mod:`faktoora_async.protocol.retry` decide whether and when to try again, within ``max_retries``, the
call's deadline and the client's :class:`~faktoora_async.protocol.retry.RetryBudget`.  Waits follow
``backoff.expo`` with ``backoff.full_jitter``; a ``Retry-After`` is a floor.  aiohttp's exceptions are
mapped to outcome kinds by one table (:data:`_FAILURE_KINDS`), not an ``except`` ladder.

Longer than 600 lines because the one timer of API calls (:class:`_Watch`, :class:`_Watchdog`) lives
with the attempt it guards: it works on that loop's tasks and on aiohttp's response, which only this
module may touch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import sys
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Generic, TypeVar, Union

import aiohttp
import anyio
import backoff
import yarl
from multidict import CIMultiDict, CIMultiDictProxy

from . import errors
from ._config import Limits, RetryConfig, Timeout
from .files import AtomicDownload, DownloadResult, TruncatedDownloadError, resolve_target
from .protocol import (
    JSON,
    APIRequest,
    build_url,
    check_file_type,
    error_from_response,
    redact,
    transport_error,
)
from .protocol.decode import _CANONICAL, CanonicalHeaders, CaseInsensitiveHeaders, canonical_header
from .protocol.retry import Outcome, OutcomeKind, RetryBudget, retry_cost, retry_delay, should_retry
from .ratelimit import AdaptiveRateLimiter

__all__ = ["FileResponse", "Response", "Transport", "UploadSource"]

logger = logging.getLogger("faktoora_async")

R = TypeVar("R")
UploadSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]

_CHUNK = 256 * 1024  # upload reads
_DOWNLOAD_CHUNK = 256 * 1024  # download reads (64 KiB: ~3 MB less for 20 downloads, 1.7x the wall time)
_ERROR_BODY_CAP = 64 * 1024
_USER_AGENT = "faktoora-async"
# aiohttp's header mappings look names up case-insensitively: header() needs no scan of them
CaseInsensitiveHeaders.register(CIMultiDictProxy)
CaseInsensitiveHeaders.register(CIMultiDict)
_URLS_KEPT = 1024  # URLs remembered per transport (polled paths); beyond that the memory starts afresh

# aiohttp failures -> outcome kinds, most specific first (ConnectionTimeoutError is a ServerTimeoutError,
# which is both a ClientError and a TimeoutError).
_FAILURE_KINDS: tuple[tuple[type[BaseException], OutcomeKind], ...] = (
    (aiohttp.ClientConnectorCertificateError, "tls"),
    (aiohttp.ClientConnectorSSLError, "tls"),
    (aiohttp.ClientConnectorError, "connect"),
    (aiohttp.ConnectionTimeoutError, "connect"),
    (asyncio.TimeoutError, "timeout"),
    (TruncatedDownloadError, "reset"),
    (aiohttp.ClientError, "reset"),
)


def _failure_kind(exc: BaseException) -> OutcomeKind | None:
    for exc_type, kind in _FAILURE_KINDS:
        if isinstance(exc, exc_type):
            return kind
    return None


class Response:
    """A buffered response: status, headers, body bytes, method and URL (read-only by convention).

    ``raw_headers`` are aiohttp's (case-insensitive lookups); :attr:`headers`, the plain dict of canonical
    names the SDK hands on (``with_raw_response``), is made on first use: a typed call that never shows
    its headers does not build it.  (A plain slotted class: a frozen dataclass costs a call of
    ``object.__setattr__`` per field, on the path of every request.)
    """

    __slots__ = ("_headers", "_url", "body", "method", "raw_headers", "status")

    def __init__(
        self, status: int, raw_headers: Mapping[str, str], body: bytes, method: str, url: str | yarl.URL
    ) -> None:
        self.status = status
        self.raw_headers = raw_headers
        self.body = body
        self.method = method
        self._url = url
        self._headers: Mapping[str, str] | None = None

    @property
    def url(self) -> str:
        """The URL as a string (aiohttp's URL object becomes one on first use)."""
        url = self._url
        if not isinstance(url, str):
            url = self._url = str(url)
        return url

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers as a plain dict, names canonical (``Title-Case``), the first of repeats kept."""
        headers = self._headers
        if headers is None:
            headers = self._headers = _plain_headers(self.raw_headers)
        return headers

    @property
    def content_type(self) -> str | None:
        return self.raw_headers.get("Content-Type")

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.method} {self.url}, {len(self.body)} bytes)"


@dataclass(frozen=True)
class FileResponse(Generic[R]):
    """A file response: what the handler made of the body (bytes or a DownloadResult), status, headers."""

    result: R
    status: int
    headers: Mapping[str, str]
    method: str
    url: str


@dataclass(frozen=True, slots=True)
class _Failed:
    outcome: Outcome
    error: errors.FaktooraError


class _Watch:
    """An API call's attempt under its ``total`` and ``read`` timeouts (kept by a :class:`_Watchdog`).

    aiohttp's ``sock_read`` re-arms a timer for every chunk it receives and its ``total`` arms another,
    per request; an API call instead joins the watchdog's set for the time it runs (no timer of its own).
    The server "speaks" when the attempt starts (once its slot is granted: :meth:`__enter__`), when the
    response headers arrive and with every body chunk (the transport calls :meth:`heard`), so ``read``
    is the longest wait for the answer to begin and between two chunks of its body, as with aiohttp
    (whose read clock starts once the request is written: here it starts with the attempt).  On expiry
    the attempt's task is cancelled, and that cancellation leaves the ``with`` block as
    :class:`asyncio.TimeoutError`, as aiohttp's timeouts do; a cancellation from outside stays one.
    """

    __slots__ = ("_cancelling", "_dog", "_end", "_read", "_task", "_total", "expired", "heard_at")

    def __init__(self, dog: _Watchdog, total: float | None, read: float | None) -> None:
        self._dog = dog
        self._total = total
        self._read = read
        self._end = math.inf
        self.heard_at = 0.0
        self._task: asyncio.Task[Any] | None = None
        self._cancelling = 0
        self.expired = False

    def heard(self) -> None:
        """The server sent something (headers or a body chunk) just now."""
        self.heard_at = self._dog.time()

    def due(self) -> float:
        """When the attempt times out unless the server speaks before."""
        read = self._read
        if read is None:
            return self._end
        due = self.heard_at + read
        return due if due < self._end else self._end

    def expire(self) -> None:
        """Called by the watchdog when :meth:`due` has passed: the attempt is cancelled."""
        self.expired = True
        assert self._task is not None
        self._task.cancel()

    def __enter__(self) -> _Watch:
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        if sys.version_info >= (3, 11):
            self._cancelling = task.cancelling()
        self.heard_at = now = self._dog.time()
        if self._total is not None:
            self._end = now + self._total
        self._dog.add(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self._dog.discard(self)
        if self.expired:
            ours = True
            if sys.version_info >= (3, 11):
                assert self._task is not None
                ours = self._task.uncancel() <= self._cancelling
            if ours and exc_type is asyncio.CancelledError:
                raise asyncio.TimeoutError("the attempt timed out") from exc


class _Watchdog:
    """The one timer of a transport's API calls, in one event loop: it fires at the earliest time one of
    the attempts in flight may time out, expires those that did and waits for the next.

    An attempt joining needs no timer unless it may time out before the one already set (a sequential
    caller's attempts never do: each is due later than the one before), so a quick answer costs a set
    insertion and removal; the timer fires about once per ``read`` (or ``total``) seconds of traffic and
    stops when nothing is in flight.  Times are the loop's (``time.monotonic`` when that is the loop's
    clock, called directly).
    """

    __slots__ = ("_at", "_handle", "_watches", "loop", "time")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        default = isinstance(loop, asyncio.BaseEventLoop) and type(loop).time is asyncio.BaseEventLoop.time
        self.time: Callable[[], float] = time.monotonic if default else loop.time
        self._watches: set[_Watch] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._at = math.inf

    def add(self, watch: _Watch) -> None:
        self._watches.add(watch)
        due = watch.due()
        if due < self._at:
            if self._handle is not None:
                self._handle.cancel()
            self._at = due
            self._handle = self.loop.call_at(due, self._fire)

    def discard(self, watch: _Watch) -> None:
        self._watches.discard(watch)

    def _fire(self) -> None:
        self._handle, self._at = None, math.inf
        now = self.time()
        earliest = math.inf
        for watch in list(self._watches):
            due = watch.due()
            if due <= now:
                self._watches.discard(watch)
                watch.expire()
            elif due < earliest:
                earliest = due
        if earliest < math.inf:
            self._at = earliest
            self._handle = self.loop.call_at(earliest, self._fire)

    def stop(self) -> None:
        """Cancel the timer (the transport is closing)."""
        handle, self._handle, self._at = self._handle, None, math.inf
        if handle is not None:
            handle.cancel()


_NO_WATCH = contextlib.nullcontext()


class Transport:
    """Sends :class:`~faktoora_async.protocol.APIRequest` objects.  Not part of the public API."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        account_id: str | None = None,
        timeout: Timeout,
        retry: RetryConfig,
        limits: Limits,
        session: aiohttp.ClientSession | None = None,
        limiter: AdaptiveRateLimiter | None = None,
        budget: RetryBudget | None = None,
        user_agent: str = _USER_AGENT,
    ) -> None:
        self.base_url = base_url
        self._api_key = api_key
        self._secrets: list[str] = []
        self._secret_bytes: list[bytes] = []
        self._remember_secret(api_key)
        self._account_id = account_id
        self.timeout = timeout
        self._timeouts: dict[float | None, aiohttp.ClientTimeout] = {}
        # API calls: their total and read timeouts are one _Watch; aiohttp arms no timer but connect's
        self._untimed = aiohttp.ClientTimeout(total=None, connect=timeout.connect, sock_read=None)
        self._buffered = self._read_buffered  # the handler of buffered calls, one bound method
        self._header_sets: dict[tuple[str, str | None], CIMultiDictProxy[str]] = {}
        self._dog: _Watchdog | None = None  # the timer of API calls (made in the loop of the first)
        self._urls: dict[tuple[str, str], str] = {}  # (path, API version) -> URL, for paths sent again
        self.retry = retry
        self.limits = limits
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self.limiter = limiter or AdaptiveRateLimiter(limits.max_rate)
        self.budget = budget or RetryBudget()
        self._user_agent = user_agent
        self.attempts = 0
        self.retries = 0

    # ------------------------------------------------------------------ keys and session lifecycle

    def _remember_secret(self, key: str) -> None:
        # redacting a very short key would mangle ordinary text; real keys are long
        if len(key) >= 8 and key not in self._secrets:
            self._secrets.append(key)
            self._secret_bytes.append(key.encode("utf-8", "replace"))

    def use_api_key(self, api_key: str) -> None:
        """Send ``api_key`` from the next attempt on; requests already sent finish with the old one.

        Every key this transport ever used stays on the redaction list.
        """
        self._remember_secret(api_key)
        self._api_key = api_key
        self._header_sets = {}
        if self._owns_session and self._session is not None:
            self._session.headers["X-API-KEY"] = api_key  # (the defaults of the session we own)

    @property
    def closed(self) -> bool:
        return self._closed

    def _base_headers(self) -> dict[str, str]:
        """What every request sends: the key, ``Accept: application/json``, the user agent, the account."""
        headers = {"X-API-KEY": self._api_key, "Accept": JSON, "User-Agent": self._user_agent}
        if self._account_id:
            headers["x-account-id"] = self._account_id
        return headers

    def _headers(self, req: APIRequest) -> CIMultiDictProxy[str] | None:
        """The request headers; None when the owned session's defaults are all of them (a plain JSON
        call); else, without extra headers of the request's own, one shared set per shape."""
        if req.content_type is None and req.accept == JSON and not req.headers and self._owns_session:
            return None
        shape = (req.accept, req.content_type)
        if not req.headers:
            cached = self._header_sets.get(shape)
            if cached is not None:
                return cached
        headers = CIMultiDict(self._base_headers())
        headers["Accept"] = req.accept
        if req.content_type:
            headers["Content-Type"] = req.content_type
        if req.headers:
            headers.update(req.headers)
            return CIMultiDictProxy(headers)
        made = self._header_sets[shape] = CIMultiDictProxy(headers)
        return made

    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use inside the running event loop."""
        if self._closed:
            raise errors.ClientClosedError("the client is closed; create a new FaktooraClient")
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.limits.max_connections,
                limit_per_host=self.limits.max_connections_per_host,
                keepalive_timeout=self.limits.keepalive_timeout,
            )
            # the headers of a plain JSON call are the session's defaults (no per-request merging)
            session = aiohttp.ClientSession(
                connector=connector, raise_for_status=False, headers=self._base_headers()
            )
            if hasattr(session, "_retry_connection"):
                # aiohttp silently resends idempotent requests once after a reset; retries are ours to
                # count, space out and bound, so switch that off on the session we own
                session._retry_connection = False
            self._session = session
        elif self._session.closed:
            raise errors.ClientClosedError("the aiohttp session given to the client is closed")
        return self._session

    async def aclose(self) -> None:
        """Close the owned session (a user-supplied one is left open).  Safe under cancellation."""
        if self._closed:
            return
        self._closed = True
        if self._dog is not None:
            self._dog.stop()
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            with anyio.CancelScope(shield=True):
                await session.close()

    # ------------------------------------------------------------------ redaction

    def redact(self, text: str) -> str:
        """``text`` without any API key (a hostile or buggy server may echo it back)."""
        return redact(text, *self._secrets)

    def redact_bytes(self, body: bytes) -> bytes:
        """``body`` without any API key."""
        for key in self._secret_bytes:
            if key in body:
                body = body.replace(key, b"***")
        return body

    # ------------------------------------------------------------------ the retry loop

    async def send(
        self,
        req: APIRequest,
        handler: Callable[[aiohttp.ClientResponse, _Watch | None], Awaitable[R]],
        *,
        body_factory: Callable[[], tuple[Any, Callable[[], Awaitable[None]]]] | None = None,
    ) -> R:
        """Send ``req``, retrying where :func:`should_retry` allows; ``handler`` consumes a < 400 response.

        ``handler`` gets the response and the attempt's :class:`_Watch` (None when aiohttp's own
        timeouts guard the attempt: file streams and uploads), to tell it when body bytes arrive.
        """
        session = self._session
        # (the session we own closes only with aclose(), which sets _closed: no need to ask it)
        if session is None or self._closed or (not self._owns_session and session.closed):
            session = self.session()
        config = self.retry
        deadline = None if config.deadline is None else time.monotonic() + config.deadline
        steps: Iterator[float] | None = None  # the backoff sequence, made on the first retry only
        retries = spent = 0
        while True:
            result = await self._attempt(session, req, handler, body_factory, deadline, retries + 1)
            if not isinstance(result, _Failed):
                budget = self.budget
                if spent or budget.available < budget.capacity:  # (a full budget stays full)
                    budget.refill(spent)
                return result
            outcome, error = result.outcome, result.error
            if retries >= config.max_retries or not should_retry(req, outcome):
                raise error
            floor: float | None
            if outcome.kind == "response" and outcome.status == 429:
                # the governor knows how long the server's bucket needs (a rounded-up ``Retry-After: 1``
                # means "very soon"); the retry then waits for the governor's next slot, no backoff on top
                floor, ceiling = self.limiter.retry_delay(outcome.retry_after), 0.0
            else:
                if steps is None:
                    steps = backoff.expo(base=2, factor=config.backoff_base, max_value=config.backoff_max)
                    next(steps)  # backoff's generators are primed with one next() (they yield None first)
                floor, ceiling = outcome.retry_after, next(steps)
            delay = retry_delay(
                ceiling, floor, max_retry_after=config.max_retry_after, jitter=backoff.full_jitter
            )
            if deadline is not None and time.monotonic() + delay >= deadline:
                raise error
            cost = retry_cost(outcome)
            if not self.budget.spend(cost):
                logger.warning("retry budget spent (%s): %s not retried", self.budget, type(error).__name__)
                raise error
            spent += cost
            retries += 1
            self.retries += 1
            logger.info(
                "retrying %s %s after %s (retry %d, waiting %.2fs)",
                req.method, req.path, type(error).__name__, retries, delay,
            )  # fmt: skip
            await anyio.sleep(delay)

    def _client_timeout(self, deadline: float | None, *, streaming: bool) -> aiohttp.ClientTimeout:
        """aiohttp's timeout of a file stream or an upload: ``total`` (or the download budget), ``read``."""
        total = self.timeout.total
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise errors.RequestTimeoutError("the call's retry deadline has passed")
            if not streaming and (total is None or remaining < total):
                return aiohttp.ClientTimeout(
                    total=remaining, connect=self.timeout.connect, sock_read=self.timeout.read
                )
        if streaming:
            # a file download has its own budget (Timeout.download, default: total); the retry deadline of
            # API calls does not cut a long download short
            budget = self.timeout.download if self.timeout.download is not None else self.timeout.total
            if budget is not None and math.isinf(budget):
                budget = None
            return self._timeout_for(budget)
        return self._timeout_for(total)

    def _timeout_for(self, total: float | None) -> aiohttp.ClientTimeout:
        """The (immutable) aiohttp timeout of a whole attempt of ``total`` seconds, made once per value."""
        cached = self._timeouts.get(total)
        if cached is None:
            cached = aiohttp.ClientTimeout(
                total=total, connect=self.timeout.connect, sock_read=self.timeout.read
            )
            self._timeouts[total] = cached
        return cached

    def _watch(self, deadline: float | None, attempt: int) -> _Watch | None:
        """The one timer of an API call's attempt (``total``, cut to the retry deadline, and ``read``)."""
        total, read = self.timeout.total, self.timeout.read
        if deadline is not None:
            first = self.retry.deadline if attempt == 1 else None  # (the first attempt starts right away)
            remaining = first if first is not None else deadline - time.monotonic()
            if remaining <= 0:
                raise errors.RequestTimeoutError("the call's retry deadline has passed")
            if total is None or remaining < total:
                total = remaining
        if total is None and read is None:
            return None
        dog = self._dog
        if dog is None or dog.loop is not asyncio.get_running_loop():
            dog = self._dog = _Watchdog(asyncio.get_running_loop())
        return _Watch(dog, total, read)

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        req: APIRequest,
        handler: Callable[[aiohttp.ClientResponse, _Watch | None], Awaitable[R]],
        body_factory: Callable[[], tuple[Any, Callable[[], Awaitable[None]]]] | None,
        deadline: float | None,
        attempt: int,
    ) -> R | _Failed:
        """One attempt: paced by the governor, sent, and its outcome classified.

        An API call (JSON answer, no streamed upload) is guarded by one :class:`_Watch` and sent with
        an aiohttp timeout that arms no timer of its own; file streams and uploads keep aiohttp's.
        """
        if self._closed:
            raise errors.ClientClosedError("the client was closed during the call")
        watch: _Watch | None = None
        if req.accept != JSON or body_factory is not None:  # (req.stream, written out)
            client_timeout = self._client_timeout(deadline, streaming=req.stream)
        else:
            watch = self._watch(deadline, attempt)
            client_timeout = self._untimed
        limiter = self.limiter
        sent_at = limiter.acquire_nowait()
        if sent_at is None:
            sent_at = await limiter.acquire()
        self.attempts += 1
        debug = logger.isEnabledFor(logging.DEBUG)
        started = time.monotonic() if debug else 0.0
        body: Any = req.body
        cleanup: Callable[[], Awaitable[None]] | None = None
        if body_factory is not None:
            body, cleanup = body_factory()
        method = req.method.upper()
        where = (req.path, req.api_version)
        url = self._urls.get(where)
        if url is None:
            if len(self._urls) >= _URLS_KEPT:
                self._urls.clear()
            url = self._urls[where] = build_url(self.base_url, req.path, req.api_version)
        try:
            with _NO_WATCH if watch is None else watch:
                async with session.request(
                    method,
                    url,
                    params=req.params or None,
                    data=body,
                    headers=self._headers(req),
                    timeout=client_timeout,
                    allow_redirects=False,
                ) as resp:
                    if watch is not None:
                        watch.heard()
                    if debug:
                        logger.debug(
                            "%s %s -> %d (attempt %d, %.3fs)", method, req.path, resp.status, attempt,
                            time.monotonic() - started,
                        )  # fmt: skip
                    if resp.status >= 400:
                        return await self._failed_response(resp, req, sent_at, watch)
                    limiter.on_response(resp.status, resp.headers, sent_at, None)
                    return await handler(resp, watch)
        except (aiohttp.ClientError, asyncio.TimeoutError, TruncatedDownloadError) as exc:
            return self._no_response(exc, req, url, sent_at, attempt, started if debug else None)
        finally:
            limiter.release()
            if cleanup is not None:
                with anyio.CancelScope(shield=True):
                    await cleanup()

    def _no_response(
        self,
        exc: BaseException,
        req: APIRequest,
        url: str,
        sent_at: float,
        attempt: int,
        started: float | None,
    ) -> _Failed:
        """An attempt that got no response (``started``: its start, when debug logging is on)."""
        kind = _failure_kind(exc) or "reset"
        detail = type(exc).__name__ if kind != "tls" else self.redact(str(exc))
        if started is not None:
            logger.debug(
                "%s %s -> %s (attempt %d, %.3fs)",
                req.method.upper(), req.path, detail, attempt, time.monotonic() - started,
            )  # fmt: skip
        self._feed_governor_failure(sent_at)
        error = transport_error(kind, req, detail, host=_host(url))
        error.__cause__ = exc
        return _Failed(Outcome(kind), error)

    async def _failed_response(
        self, resp: aiohttp.ClientResponse, req: APIRequest, sent_at: float, watch: _Watch | None
    ) -> _Failed:
        body = self.redact_bytes(await resp.content.read(_ERROR_BODY_CAP))
        if watch is not None:
            watch.heard()
        headers = {k: self.redact(v) for k, v in _plain_headers(resp.headers).items()}
        error = error_from_response(resp.status, headers, body, method=req.method.upper(), url=req.path)
        retry_after = error.retry_after
        if retry_after is not None:
            retry_after = min(retry_after, self.retry.max_retry_after)
        self._feed_governor(resp.status, resp.headers, sent_at, retry_after)
        return _Failed(Outcome("response", resp.status, retry_after), error)

    def _feed_governor(
        self, status: int, headers: Mapping[str, str], sent_at: float, retry_after: float | None
    ) -> None:
        """Tell the rate governor what the server answered (it alone decides what that means)."""
        self.limiter.on_response(status, headers, sent_at, retry_after)

    def _feed_governor_failure(self, sent_at: float) -> None:
        self.limiter.on_transport_error(sent_at)

    # ------------------------------------------------------------------ buffered, file and upload calls

    async def _read_buffered(self, resp: aiohttp.ClientResponse, watch: _Watch | None) -> Response:
        """The whole body of a successful response (told to ``watch`` chunk by chunk, when there is one)."""
        if watch is None:
            body = await resp.read()
        else:
            content = resp.content
            chunk = await content.readany()
            watch.heard()
            if chunk:
                chunks = [chunk]
                while chunk := await content.readany():
                    watch.heard()
                    chunks.append(chunk)
                body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            else:
                body = b""
        return Response(resp.status, resp.headers, self.redact_bytes(body), resp.method, resp.url)

    def request(self, req: APIRequest) -> Awaitable[Response]:
        """Send ``req`` and buffer the successful response (awaitable: :meth:`send`'s own coroutine)."""
        return self.send(req, self._buffered)

    async def download(
        self,
        req: APIRequest,
        *,
        to: str | os.PathLike[str] | None,
        default_name: Callable[[Mapping[str, str]], str],
    ) -> FileResponse[bytes | DownloadResult]:
        """GET a file: bytes in memory, or streamed atomically to ``to`` (a file or a folder)."""

        async def receive(
            resp: aiohttp.ClientResponse, _: _Watch | None
        ) -> FileResponse[bytes | DownloadResult]:
            headers = _plain_headers(resp.headers)
            check_file_type(resp.headers.get("Content-Type"), req.accept, resp.status)
            result: bytes | DownloadResult
            if to is None:
                result = await resp.read()
            else:
                target = resolve_target(to, default_name(headers))
                # a compressed body decompresses to more bytes than Content-Length says
                expected = None if resp.headers.get("Content-Encoding") else resp.content_length
                async with AtomicDownload(target, expected_size=expected) as sink:
                    async for chunk in resp.content.iter_chunked(_DOWNLOAD_CHUNK):
                        await sink.write(chunk)
                    result = await sink.commit(resp.headers.get("Content-Type"))
            return FileResponse(result, resp.status, headers, req.method, str(resp.url))

        return await self.send(req, receive)

    async def upload(self, req: APIRequest, source: UploadSource, *, filename: str | None = None) -> Response:
        """POST ``source`` as ``multipart/form-data`` field ``file``, streamed in chunks."""
        name, opener, content_type = _upload_parts(source, filename)

        def factory() -> tuple[Any, Callable[[], Awaitable[None]]]:
            chunks = opener()
            writer = aiohttp.MultipartWriter("form-data")
            payload = aiohttp.payload.AsyncIterablePayload(chunks, content_type=content_type)
            part = writer.append_payload(payload)
            part.set_content_disposition("form-data", name="file", filename=name)

            async def cleanup() -> None:
                # the body may still be read by aiohttp's writer task (a server that answered early):
                # close whatever the chunks hold without waiting for it
                if isinstance(chunks, _FileChunks):
                    chunks.close()
                else:
                    with contextlib.suppress(RuntimeError):  # "already running": its task ends with it
                        await chunks.aclose()

            return writer, cleanup

        return await self.send(req, self._buffered, body_factory=factory)


def _plain_headers(headers: Mapping[str, str]) -> CanonicalHeaders:
    """The response headers as a plain dict, names canonical (``Title-Case``), the first of repeats kept."""
    out = CanonicalHeaders()
    for key, value in headers.items():
        name = _CANONICAL.get(key) or canonical_header(key)
        if name not in out:
            out[name] = value
    return out


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0]


def _guess_type(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".pdf"):
        return "application/pdf"
    if lower.endswith(".xml"):
        return "application/xml"
    if lower.endswith(".csv"):
        return "text/csv"
    return "application/octet-stream"


class _FileChunks:
    """A file's chunks, read in worker threads; :meth:`close` releases the file whatever state it is in.

    The file is opened at once (a quick system call, here, where no cancellation can lose the handle: a
    thread opening it for a task that gets cancelled would leave it open); an async generator could not
    be closed while aiohttp's writer task is still iterating it, this can.
    """

    def __init__(self, path: Path) -> None:
        self._fh: IO[bytes] | None = path.open("rb")  # closed by close(), which cleanup always calls

    def __aiter__(self) -> _FileChunks:
        return self

    async def __anext__(self) -> bytes:
        fh = self._fh
        if fh is None:
            raise StopAsyncIteration
        try:
            chunk = await anyio.to_thread.run_sync(fh.read, _CHUNK)
        except ValueError:  # closed under the read (the request ended early)
            raise StopAsyncIteration from None
        if not chunk:
            self.close()
            raise StopAsyncIteration
        return chunk

    def close(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()


def _upload_parts(
    source: UploadSource, filename: str | None
) -> tuple[str, Callable[[], _FileChunks | AsyncGenerator[bytes, None]], str]:
    """(file name, a factory of chunk iterators, content type) for every kind of upload source."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        name = filename or path.name

        return name, lambda: _FileChunks(path), _guess_type(name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = filename or ("invoice.pdf" if data[:5] == b"%PDF-" else "invoice.xml")

        async def from_bytes() -> AsyncGenerator[bytes, None]:
            for i in range(0, len(data), _CHUNK):
                yield data[i : i + _CHUNK]

        return name, from_bytes, _guess_type(name)
    if hasattr(source, "read"):
        fileobj = source
        name = filename or os.path.basename(str(getattr(fileobj, "name", "") or "")) or "invoice"
        start = fileobj.tell() if fileobj.seekable() else None
        used = [False]

        async def from_file() -> AsyncGenerator[bytes, None]:
            if start is not None:
                fileobj.seek(start)
            elif used[0]:
                raise errors.FaktooraError("cannot send an unseekable stream twice; upload not retried")
            used[0] = True
            while chunk := await anyio.to_thread.run_sync(fileobj.read, _CHUNK):
                yield bytes(chunk)

        return name, from_file, _guess_type(name)
    raise TypeError(f"cannot upload {type(source).__name__}: give a path, bytes or a binary file object")
