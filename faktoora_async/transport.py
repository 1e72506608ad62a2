"""The only aiohttp client code of faktoora-async: sending, retrying, throttling and streaming.

One :class:`Transport` per client owns (or borrows) one ``aiohttp.ClientSession``.  Every call goes
through :meth:`Transport.send`: wait for the shared rate governor, send one attempt, classify the
outcome, and retry with the ``backoff`` package where that is safe:

* GET/DELETE: connection errors, timeouts, resets, 429 and 5xx are retried.
* POST/PATCH: only when the request provably did not reach the server (connection refused, DNS failure,
  connect timeout, 429, 503 with ``Retry-After``).  A reset or timeout after sending raises
  :class:`~faktoora_async.errors.AmbiguousRequestError` and is never retried.
* Waits are exponential with full jitter; ``Retry-After`` (capped) is a floor, and a 429 pauses the
  whole client through the rate governor.  One deadline bounds all attempts of one call.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar, Union, cast

import aiohttp
import anyio
import backoff
from multidict import CIMultiDictProxy

from . import errors, protocol
from ._config import Limits, RetryConfig, Timeout
from .files import AtomicDownload, DownloadResult, resolve_target
from .protocol import APIRequest
from .ratelimit import AdaptiveRateLimiter

__all__ = ["Response", "Transport", "UploadSource"]

logger = logging.getLogger("faktoora_async")

R = TypeVar("R")
UploadSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]

_CHUNK = 256 * 1024
_USER_AGENT = "faktoora-async"


@dataclass(frozen=True)
class Response:
    """A buffered response: status, headers, body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    method: str
    url: str

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")


class _Retry(Exception):
    """Internal: this attempt failed in a way that may be retried; ``error`` is what the caller sees."""

    def __init__(self, error: errors.FaktooraError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _wait_gen(base: float, cap: float, max_retry_after: float) -> Generator[float | None, Any, None]:
    """backoff wait generator: full-jitter exponential delays, with ``Retry-After`` as a floor."""
    exc = yield None
    attempt = 0
    while True:
        delay = random.uniform(0.0, min(cap, base * (2**attempt)))
        attempt += 1
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            delay = max(delay, min(float(retry_after), max_retry_after))
        exc = yield delay


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
        user_agent: str = _USER_AGENT,
    ) -> None:
        self.base_url = base_url
        self._api_key = api_key
        # redacting a very short key would mangle ordinary text; real keys are long
        self._key_bytes = api_key.encode("utf-8", "replace") if len(api_key) >= 8 else b""
        self._account_id = account_id
        self.timeout = timeout
        self.retry = retry
        self.limits = limits
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self.limiter = limiter or AdaptiveRateLimiter(limits.max_rate)
        self._user_agent = user_agent
        self.attempts = 0
        self.retries = 0
        self._retrying = backoff.on_exception(
            cast(Any, _wait_gen),
            _Retry,
            max_tries=retry.max_retries + 1,
            max_time=retry.deadline,
            jitter=None,
            on_backoff=self._on_backoff,
            logger=None,
            base=retry.backoff_base,
            cap=retry.backoff_max,
            max_retry_after=retry.max_retry_after,
        )(self._attempt)

    # ------------------------------------------------------------------ session lifecycle

    @property
    def closed(self) -> bool:
        return self._closed

    def _headers(self, req: APIRequest) -> dict[str, str]:
        headers = {"X-API-KEY": self._api_key, "Accept": req.accept, "User-Agent": self._user_agent}
        if self._account_id:
            headers["x-account-id"] = self._account_id
        if req.content_type:
            headers["Content-Type"] = req.content_type
        headers.update(req.headers)
        return headers

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
            session = aiohttp.ClientSession(connector=connector, raise_for_status=False)
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
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            with anyio.CancelScope(shield=True):
                await session.close()

    # ------------------------------------------------------------------ sending

    def url(self, req: APIRequest) -> str:
        return protocol.build_url(self.base_url, req.path, req.api_version)

    async def _on_backoff(self, details: Any) -> None:
        self.retries += 1
        exc = details.get("exception")
        logger.info(
            "retrying after %s (attempt %d, waiting %.2fs)",
            type(getattr(exc, "error", exc)).__name__,
            details.get("tries", 0),
            details.get("wait", 0.0),
        )

    async def send(
        self,
        req: APIRequest,
        handler: Callable[[aiohttp.ClientResponse], Awaitable[R]],
        *,
        body_factory: Callable[[], Any] | None = None,
    ) -> R:
        """Send ``req`` with retries; ``handler`` consumes a successful (< 400) response."""
        session = self.session()
        deadline = None if self.retry.deadline is None else time.monotonic() + self.retry.deadline
        try:
            result: R = await self._retrying(session, req, handler, body_factory, deadline, [0])
        except _Retry as exc:
            raise exc.error from exc.error.__cause__
        return result

    async def request(self, req: APIRequest) -> Response:
        """Send ``req`` and buffer the successful response."""

        async def read(resp: aiohttp.ClientResponse) -> Response:
            body = self.redact_bytes(await resp.read())
            return Response(resp.status, _plain_headers(resp.headers), body, req.method, str(resp.url))

        return await self.send(req, read)

    def _client_timeout(self, deadline: float | None, *, streaming: bool = False) -> aiohttp.ClientTimeout:
        total = self.timeout.total
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise errors.RequestTimeoutError("the call's retry deadline has passed")
            total = remaining if total is None else min(total, remaining)
        if streaming:
            # a file download has its own budget (Timeout.download, default: total); the retry deadline of
            # API calls does not cut a long download short
            budget = self.timeout.download if self.timeout.download is not None else self.timeout.total
            if budget is not None and math.isinf(budget):
                budget = None
            return aiohttp.ClientTimeout(
                total=budget, connect=self.timeout.connect, sock_read=self.timeout.read
            )
        return aiohttp.ClientTimeout(total=total, connect=self.timeout.connect, sock_read=self.timeout.read)

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        req: APIRequest,
        handler: Callable[[aiohttp.ClientResponse], Awaitable[R]],
        body_factory: Callable[[], Any] | None,
        deadline: float | None,
        tries: list[int],
    ) -> R:
        if self._closed:
            raise errors.ClientClosedError("the client was closed during the call")
        streaming = req.accept != protocol.JSON
        client_timeout = self._client_timeout(deadline, streaming=streaming)
        sent_at = await self.limiter.acquire()
        try:
            return await self._send_once(session, req, handler, body_factory, client_timeout, sent_at, tries)
        finally:
            self.limiter.release()

    async def _send_once(
        self,
        session: aiohttp.ClientSession,
        req: APIRequest,
        handler: Callable[[aiohttp.ClientResponse], Awaitable[R]],
        body_factory: Callable[[], Any] | None,
        client_timeout: aiohttp.ClientTimeout,
        sent_at: float,
        tries: list[int],
    ) -> R:
        url = self.url(req)
        method = req.method.upper()
        self.attempts += 1
        tries[0] += 1
        attempt = tries[0]
        started = time.monotonic()
        body: Any = req.body
        cleanup: Callable[[], Awaitable[None]] | None = None
        if body_factory is not None:
            body, cleanup = body_factory()
        try:
            async with session.request(
                method,
                url,
                params=req.params or None,
                data=body,
                headers=self._headers(req),
                timeout=client_timeout,
                allow_redirects=False,
            ) as resp:
                elapsed = time.monotonic() - started
                logger.debug(
                    "%s %s -> %d (attempt %d, %.3fs)", method, req.path, resp.status, attempt, elapsed
                )
                if resp.status >= 400:
                    error_body = self.redact_bytes(await resp.content.read(64 * 1024))
                    status_err = protocol.error_from_response(
                        resp.status,
                        {k: self.redact(v) for k, v in _plain_headers(resp.headers).items()},
                        error_body,
                        method=method,
                        url=req.path,
                    )
                    self._judge_error(status_err, req, sent_at)
                    raise status_err
                self.limiter.on_success()
                return await handler(resp)
        except (errors.FaktooraError, _Retry):
            raise
        except aiohttp.ClientConnectorCertificateError as exc:
            raise errors.ConnectError(f"TLS certificate error: {exc}", method=method, url=req.path) from exc
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            err: errors.FaktooraError = errors.ConnectError(
                f"cannot connect to {_host(url)}: {type(exc).__name__}", method=method, url=req.path
            )
            logger.debug(
                "%s %s -> connect failed: %s (attempt %d, %.3fs)",
                method,
                req.path,
                type(exc).__name__,
                attempt,
                time.monotonic() - started,
            )
            raise _Retry(err) from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            timed_out = isinstance(exc, asyncio.TimeoutError)
            what = "timed out" if timed_out else f"failed: {type(exc).__name__}"
            logger.debug(
                "%s %s -> %s (attempt %d, %.3fs)", method, req.path, what, attempt, time.monotonic() - started
            )
            if not req.idempotent:
                raise errors.AmbiguousRequestError(
                    f"{method} {req.path} {what} after it may have reached the server; not retried",
                    method=method,
                    url=req.path,
                ) from exc
            if timed_out:
                err = errors.RequestTimeoutError(
                    f"{method} {req.path} timed out", method=method, url=req.path
                )
            else:
                err = errors.TransportError(f"{method} {req.path} {what}", method=method, url=req.path)
            raise _Retry(err) from exc
        finally:
            if cleanup is not None:
                with anyio.CancelScope(shield=True):
                    await cleanup()

    def redact(self, text: str) -> str:
        """``text`` without the API key (a hostile or buggy server may echo it back)."""
        return protocol.redact(text, self._api_key) if self._key_bytes else text

    def redact_bytes(self, body: bytes) -> bytes:
        if self._key_bytes and self._key_bytes in body:
            return body.replace(self._key_bytes, b"***")
        return body

    def _judge_error(self, err: errors.APIStatusError, req: APIRequest, sent_at: float) -> None:
        """Feed the rate governor and decide whether ``err`` may be retried (raises _Retry if so)."""
        retry_after = err.retry_after
        if retry_after is not None:
            retry_after = min(retry_after, self.retry.max_retry_after)
        if err.status == 429:
            self.limiter.on_throttle(retry_after if retry_after is not None else 1.0, sent_at=sent_at)
            raise _Retry(err, retry_after)
        self.limiter.on_success()
        if err.status >= 500 and (req.idempotent or (err.status == 503 and retry_after is not None)):
            raise _Retry(err, retry_after)

    # ------------------------------------------------------------------ downloads and uploads

    async def download(
        self,
        req: APIRequest,
        *,
        to: str | os.PathLike[str] | None,
        default_name: Callable[[Mapping[str, str]], str],
    ) -> bytes | DownloadResult:
        """GET a file: bytes in memory, or streamed atomically to ``to`` (a file or a folder)."""

        async def to_memory(resp: aiohttp.ClientResponse) -> bytes | DownloadResult:
            _check_file_type(resp, req)
            return await resp.read()

        async def to_disk(resp: aiohttp.ClientResponse) -> bytes | DownloadResult:
            _check_file_type(resp, req)
            assert to is not None
            headers = _plain_headers(resp.headers)
            target = resolve_target(to, default_name(headers))
            # a compressed body decompresses to more bytes than Content-Length says
            expected = None if resp.headers.get("Content-Encoding") else resp.content_length
            async with AtomicDownload(target, expected_size=expected) as sink:
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    sink.write(chunk)
                return await sink.commit(resp.headers.get("Content-Type"))

        return await self.send(req, to_memory if to is None else to_disk)

    async def upload(self, req: APIRequest, source: UploadSource, *, filename: str | None = None) -> Response:
        """POST ``source`` as ``multipart/form-data`` field ``file``, streamed in chunks."""
        name, opener, content_type = _upload_parts(source, filename)

        def factory() -> tuple[Any, Callable[[], Awaitable[None]]]:
            gen = opener()
            writer = aiohttp.MultipartWriter("form-data")
            part = writer.append_payload(aiohttp.payload.AsyncIterablePayload(gen, content_type=content_type))
            part.set_content_disposition("form-data", name="file", filename=name)

            async def cleanup() -> None:
                await gen.aclose()

            return writer, cleanup

        async def read(resp: aiohttp.ClientResponse) -> Response:
            body = self.redact_bytes(await resp.read())
            return Response(resp.status, _plain_headers(resp.headers), body, req.method, str(resp.url))

        return await self.send(req, read, body_factory=factory)


def _plain_headers(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in headers.items():
        out.setdefault(key.title() if key.lower() != "content-type" else "Content-Type", value)
    return out


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0]


def _check_file_type(resp: aiohttp.ClientResponse, req: APIRequest) -> None:
    """A file response must have the requested media type (or be untyped / octet-stream)."""
    ctype = (resp.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if not ctype:
        return
    allowed = {part.split(";", 1)[0].strip().lower() for part in req.accept.split(",")}
    if "*/*" in allowed:
        return
    allowed.add("application/octet-stream")
    if "application/xml" in allowed:
        allowed.add("text/xml")
    if ctype not in allowed:
        raise errors.ResponseDecodeError(f"expected {req.accept}, got {ctype}", status=resp.status, body="")


def _guess_type(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".pdf"):
        return "application/pdf"
    if lower.endswith(".xml"):
        return "application/xml"
    return "application/octet-stream"


def _upload_parts(
    source: UploadSource, filename: str | None
) -> tuple[str, Callable[[], AsyncGenerator[bytes, None]], str]:
    """(file name, a factory of chunk iterators, content type) for every kind of upload source."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        name = filename or path.name

        async def from_path() -> AsyncGenerator[bytes, None]:
            f = await anyio.to_thread.run_sync(path.open, "rb")
            try:
                while chunk := await anyio.to_thread.run_sync(f.read, _CHUNK):
                    yield chunk
            finally:
                f.close()

        return name, from_path, _guess_type(name)
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
