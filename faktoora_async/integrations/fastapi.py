"""FastAPI / Starlette adapter for :class:`~faktoora_async.webhooks.WebhookReceiver`.

::

    receiver = WebhookReceiver(lambda: app.state.client.events, secret=os.environ["WEBHOOK_SECRET"])
    app.include_router(webhook_router(receiver, path="/webhooks/faktoora"))

The body is read from ``request.stream()`` and reading stops as soon as it passes ``receiver.max_bytes``
(a Content-Length over the limit is refused before reading anything), so a 10 MB body is never held in
memory.  Answers: ``200 {"ok": true, "duplicate": bool, "advanced": bool}``; ``400`` malformed, ``401``
wrong secret, ``413`` too large, ``415`` not JSON, each with ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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

__all__ = ["receive_webhook", "starlette_endpoint", "webhook_dependency", "webhook_router"]


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
) -> APIRouter:
    """An ``APIRouter`` with one ``POST path`` route feeding ``receiver``: ``app.include_router(...)``."""
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
