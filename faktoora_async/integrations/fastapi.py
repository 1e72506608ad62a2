"""FastAPI / Starlette adapter for :class:`~faktoora_async.webhooks.WebhookReceiver`.

::

    receiver = WebhookReceiver(lambda: app.state.client.events, secret=os.environ["WEBHOOK_SECRET"])
    app.include_router(webhook_router(receiver, path="/webhooks/faktoora"))

The body is read from ``request.stream()`` and reading stops as soon as it passes ``receiver.max_bytes``
(a Content-Length over the limit is refused before reading anything), so a 10 MB body is never held in
memory.  Answers: ``200 {"ok": true, "duplicate": bool, "advanced": bool}``; ``400`` malformed, ``401``
wrong secret, ``413`` too large, ``415`` not JSON, each with ``{"ok": false, "error": "..."}``.

faktoora sends no custom headers, so the shared secret travels in the target URL (``?token=...``), which
every access log prints.  ``webhook_router`` therefore installs :class:`RedactQueryParam` on the access
loggers of uvicorn, hypercorn and gunicorn (``redact_access_log=False`` to opt out): the log line reads
``POST /webhooks/faktoora?token=*** HTTP/1.1" 200``.  :func:`redact_access_logs` does the same for other
routes or loggers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from faktoora_async.webhooks import ReceiveResult, WebhookError, WebhookReceiver

try:
    from fastapi import APIRouter, HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "faktoora_async.integrations.fastapi needs FastAPI (pip install fastapi); "
        "the rest of faktoora_async works without it"
    ) from exc

__all__ = [
    "ACCESS_LOGGERS",
    "RedactQueryParam",
    "receive_webhook",
    "redact_access_logs",
    "starlette_endpoint",
    "webhook_dependency",
    "webhook_router",
]

ACCESS_LOGGERS: tuple[str, ...] = ("uvicorn.access", "hypercorn.access", "gunicorn.access")


class RedactQueryParam(logging.Filter):
    """A logging filter that replaces the value of the query parameter ``param`` with ``***``.

    It rewrites the record's message and its string arguments (uvicorn's access log passes the path as an
    argument), so every handler of the logger, and every handler above it, sees the redacted line.
    """

    def __init__(self, param: str = "token") -> None:
        super().__init__()
        self.param = param
        self._pattern = re.compile(rf"([?&]{re.escape(param)}=)[^&\s\"'#]*")

    def redact(self, text: str) -> str:
        return self._pattern.sub(r"\1***", text)

    def _value(self, value: Any) -> Any:
        return self.redact(value) if isinstance(value, str) else value

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: self._value(arg) for key, arg in record.args.items()}
        return True


def redact_access_logs(param: str = "token", loggers: Iterable[str] = ACCESS_LOGGERS) -> None:
    """Install :class:`RedactQueryParam` for ``param`` on each of ``loggers`` (once per logger and param).

    A filter on the logger itself survives the server's ``logging.config.dictConfig`` (which replaces
    handlers, not logger filters), so this may run before or after the server configured its logging.
    """
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryParam) and f.param == param for f in logger.filters):
            logger.addFilter(RedactQueryParam(param))


async def receive_webhook(receiver: WebhookReceiver, request: Request) -> ReceiveResult:
    """Run ``receiver`` on a Starlette request; raises :class:`~faktoora_async.webhooks.WebhookError`."""
    return await receiver.receive(
        request.stream(),
        headers=request.headers.items(),
        query=request.query_params,
    )


def _error_response(exc: WebhookError) -> Response:
    headers = {"Connection": "close"} if exc.http_status == 413 else None
    return JSONResponse({"ok": False, "error": str(exc)}, status_code=exc.http_status, headers=headers)


def starlette_endpoint(receiver: WebhookReceiver) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint: ``Route(path, starlette_endpoint(receiver), methods=["POST"])``."""

    async def faktoora_webhook(request: Request) -> Response:
        try:
            result = await receive_webhook(receiver, request)
        except WebhookError as exc:
            return _error_response(exc)
        return JSONResponse({"ok": True, "duplicate": result.duplicate, "advanced": result.advanced})

    return faktoora_webhook


def webhook_router(
    receiver: WebhookReceiver,
    *,
    path: str = "/webhooks/faktoora",
    include_in_schema: bool = False,
    tags: list[str] | None = None,
    redact_access_log: bool = True,
) -> APIRouter:
    """An ``APIRouter`` with one ``POST path`` route feeding ``receiver``: ``app.include_router(...)``.

    ``redact_access_log``: keep the receiver's secret query parameter out of the access logs (see the
    module docstring).
    """
    if redact_access_log and receiver.secret_query:
        redact_access_logs(receiver.secret_query)
    router = APIRouter(tags=list(tags) if tags else [])
    router.add_api_route(
        path,
        starlette_endpoint(receiver),
        methods=["POST"],
        include_in_schema=include_in_schema,
        name="faktoora_webhook",
    )
    return router


def webhook_dependency(receiver: WebhookReceiver) -> Callable[[Request], Awaitable[ReceiveResult]]:
    """A FastAPI dependency that receives the delivery (or answers with ``HTTPException``)::

    @app.post("/hooks")
    async def hook(result: ReceiveResult = Depends(webhook_dependency(receiver))) -> dict[str, bool]: ...
    """

    async def faktoora_webhook_dependency(request: Request) -> ReceiveResult:
        try:
            return await receive_webhook(receiver, request)
        except WebhookError as exc:
            raise HTTPException(status_code=exc.http_status, detail=str(exc)) from None

    return faktoora_webhook_dependency
