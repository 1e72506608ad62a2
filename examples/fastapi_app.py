"""A FastAPI service that creates e-invoices through faktoora and serves their PDFs.

* one ``FaktooraClient`` is created in the lifespan and shared by every request (``app.state.client``);
* ``POST /invoices`` creates an invoice (your JSON payload, or a generated demo invoice without a body);
* ``POST /webhooks/faktoora`` receives faktoora's webhooks and feeds ``client.events``, so
  ``invoices.wait()`` resolves from webhooks and polls only to fill gaps;
* ``GET /invoices/{faktoora_id}/pdf`` waits until the invoice is ready and streams its PDF back.

Run it with uvicorn (the module-level ``app``; ``create_app(...)`` builds more, e.g. in tests)::

    FAKTOORA_API_KEY=... FAKTOORA_BASE_URL=https://api.faktoora.com/api/v1 \\
    PUBLIC_URL=https://billing.example.com uvicorn examples.fastapi_app:app --port 8000

or as a script, ``python examples/fastapi_app.py`` (``HOST``/``PORT``, default 127.0.0.1:8000).

``PUBLIC_URL`` is where faktoora can reach this app (without it: ``http://127.0.0.1:$PORT``, so set
``PORT`` to uvicorn's ``--port`` when that is not 8000).  Webhooks are subscribed to
``PUBLIC_URL/webhooks/faktoora?token=<secret>``: faktoora sends no custom headers, so the secret is in the
URL, and the webhook router keeps it out of the access log (``token=***``).  Set
``FAKTOORA_WEBHOOK_SECRET`` when you run several workers (else each makes up its own).  Without
``FAKTOORA_BASE_URL`` and ``FAKTOORA_API_KEY`` the app starts an embedded sandbox
(``faktoora_async.sandbox``) and subscribes to it on loopback.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse

from faktoora_async import FaktooraClient
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.errors import FaktooraError, GenerationFailedError, NotFoundError, WaitTimeoutError
from faktoora_async.integrations.fastapi import webhook_router
from faktoora_async.webhooks import WebhookReceiver

WEBHOOK_PATH = "/webhooks/faktoora"
ACTIONS = ("invoiceCreate", "invoiceSent")


def _lifespan(
    public_url: str | None, base_url: str | None, api_key: str | None, secret: str
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """One shared client for the app's life, subscribed to faktoora's webhooks (removed on shutdown)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            url = base_url or os.environ.get("FAKTOORA_BASE_URL")
            key = api_key or os.environ.get("FAKTOORA_API_KEY")
            if not url or not key:
                from faktoora_async.sandbox import Sandbox

                sandbox = await stack.enter_async_context(
                    Sandbox(processing_delay=(0.2, 0.6), allow_private_targets=True)  # receiver on loopback
                )
                url, key = sandbox.base_url, sandbox.api_key
            client = await stack.enter_async_context(FaktooraClient(key, base_url=url))
            app.state.client = client
            me = (
                public_url
                or os.environ.get("PUBLIC_URL")
                or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
            )
            target = f"{me.rstrip('/')}{WEBHOOK_PATH}?token={secret}"
            subscriptions = [await client.webhooks.create(action, target) for action in ACTIONS]
            try:
                yield
            finally:
                with anyio.CancelScope(shield=True):
                    for subscription in subscriptions:
                        with contextlib.suppress(FaktooraError):
                            await client.webhooks.delete(subscription.id)

    return lifespan


def create_app(
    *,
    public_url: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    webhook_secret: str | None = None,
) -> FastAPI:
    """Build the app.  Arguments default to the environment (see the module docstring)."""
    secret = webhook_secret or os.environ.get("FAKTOORA_WEBHOOK_SECRET") or secrets.token_urlsafe(24)
    app = FastAPI(
        title="faktoora-async FastAPI example", lifespan=_lifespan(public_url, base_url, api_key, secret)
    )
    receiver = WebhookReceiver(lambda: app.state.client.events, secret=secret)
    app.state.webhook_receiver = receiver
    app.state.demo_numbers = itertools.count(1)
    app.include_router(webhook_router(receiver, path=WEBHOOK_PATH))
    app.include_router(routes)
    return app


routes = APIRouter()


def client_of(request: Request) -> FaktooraClient:
    client: FaktooraClient = request.app.state.client
    return client


@routes.post("/invoices", status_code=202)
async def create_invoice(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if raw:
        try:
            payload = json.loads(raw)
        except ValueError:
            raise HTTPException(status_code=400, detail="the body is not JSON") from None
        if not isinstance(payload, dict):
            raise HTTPException(status_code=400, detail="send one invoice as a JSON object")
    else:  # a demo invoice: unique per process and call
        index = next(request.app.state.demo_numbers)
        payload = generate_invoice(index, seed=secrets.randbelow(1_000_000))
    try:
        created = await client_of(request).invoices.create([payload])
    except FaktooraError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return {"faktooraId": created[0].faktoora_id, "invoiceNumber": payload.get("invoiceNumber")}


@routes.get("/invoices/{faktoora_id}/pdf")
async def invoice_pdf(faktoora_id: str, request: Request, timeout: float = 60.0) -> StreamingResponse:
    client = client_of(request)
    try:
        status = await client.invoices.wait(faktoora_id, timeout=min(timeout, 300.0))
    except NotFoundError:
        raise HTTPException(status_code=404, detail="no such invoice") from None
    except WaitTimeoutError:
        raise HTTPException(status_code=504, detail="the invoice is not ready yet") from None
    except GenerationFailedError as exc:
        raise HTTPException(status_code=502, detail=str(exc)) from None
    # Stream from a temp file rather than holding the PDF in memory; the folder goes once sent.
    folder = await anyio.to_thread.run_sync(lambda: tempfile.mkdtemp(prefix="faktoora-pdf-"))

    async def remove_folder() -> None:
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))

    try:
        path = anyio.Path(
            await client.invoices.download(faktoora_id, format="pdf", to=f"{folder}/invoice.pdf")
        )
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await remove_folder()
        if isinstance(exc, FaktooraError):
            raise HTTPException(status_code=502, detail=f"download failed: {exc}") from None
        raise

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async with await path.open("rb") as file:
                while chunk := await file.read(64 * 1024):
                    yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await remove_folder()

    return StreamingResponse(
        chunks(),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{faktoora_id}.pdf"',
            "X-Invoice-Status": str(status.invoice_status),
        },
    )


@routes.get("/healthz")
async def healthz(request: Request) -> dict[str, Any]:
    stats = request.app.state.webhook_receiver.stats
    webhooks = {"applied": stats.applied, "duplicates": stats.duplicates, "rejected": stats.rejected}
    return {"ok": True, "webhooks": webhooks}


app = create_app()  # ``uvicorn examples.fastapi_app:app``: nothing starts before the lifespan


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        print(f"error: PORT must be a port number (1-65535), not {text!r}", file=sys.stderr)
        raise SystemExit(2)
    return int(text)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=_port(os.environ.get("PORT", "8000")))
