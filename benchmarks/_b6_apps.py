"""B6's FastAPI apps: ``POST /invoices`` creates the invoice in the body through one upstream client.

``python -m benchmarks._b6_apps CONTESTANT --port P --base-url URL --api-key KEY`` serves the app with
uvicorn (one worker, default loop and HTTP implementation, no access log) until SIGTERM.  Every contestant
gets the same JSON body (one invoice) and answers ``{"faktooraId": ...}``; each creates its upstream client
once, in the app's lifespan, and uses its library's defaults:

* ``ours``: ``FaktooraClient`` (EN 16931 pre-flight on, retries, rate governor, msgspec models);
* ``ours-nopre``: the same with ``create(..., preflight=False)`` (a diagnostic: the pre-flight's share);
* ``httpx-pydantic``: the body validated by FastAPI into the pydantic models, ``httpx.AsyncClient``,
  the answer validated into a pydantic model;
* ``aiohttp-bare``: ``json.loads``/``json.dumps`` and one ``aiohttp.ClientSession`` (the floor);
* ``fastapi-only``: no upstream call at all (answers a fixed id): what FastAPI and uvicorn cost alone.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations at run time, and
# the pydantic model of the httpx app is imported inside its builder.
import argparse
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, HTTPException, Request

CONTESTANTS = ("ours", "ours-nopre", "httpx-pydantic", "aiohttp-bare", "fastapi-only")


def _health(app: FastAPI) -> None:
    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}


def ours_app(base_url: str, api_key: str, *, preflight: bool = True) -> FastAPI:
    from faktoora_async import FaktooraClient, FaktooraError

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # B6_MAX_RATE (diagnostics only): a fixed client-side rate, so the governor never discovers
        max_rate = float(os.environ["B6_MAX_RATE"]) if os.environ.get("B6_MAX_RATE") else None
        async with FaktooraClient(api_key, base_url=base_url, max_rate=max_rate) as client:
            app.state.client = client
            yield

    app = FastAPI(lifespan=lifespan)
    _health(app)

    @app.post("/invoices", status_code=202)
    async def create_invoice(request: Request) -> dict[str, Any]:
        payload = json.loads(await request.body())
        try:
            created = await request.app.state.client.invoices.create([payload], preflight=preflight)
        except FaktooraError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return {"faktooraId": created[0].faktoora_id}

    return app


def httpx_app(base_url: str, api_key: str) -> FastAPI:
    import httpx
    from pydantic import TypeAdapter

    from . import _pydantic_models as pm

    created_list = TypeAdapter(list[pm.Created])

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(headers={"X-API-KEY": api_key}, timeout=60.0) as client:
            app.state.client = client
            yield

    app = FastAPI(lifespan=lifespan)
    _health(app)

    @app.post("/invoices", status_code=202)
    async def create_invoice(invoice: pm.Invoice, request: Request) -> dict[str, Any]:
        body = pm.CreateRequest(invoices=[invoice]).model_dump_json(by_alias=True, exclude_none=True)
        resp = await request.app.state.client.post(
            base_url + "/invoices", content=body, headers={"Content-Type": "application/json"}
        )
        if resp.status_code >= 400:
            raise HTTPException(status_code=422, detail=resp.text[:200])
        return {"faktooraId": created_list.validate_json(resp.content)[0].faktoora_id}

    return app


def aiohttp_app(base_url: str, api_key: str) -> FastAPI:
    import aiohttp

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(headers={"X-API-KEY": api_key}) as session:
            app.state.session = session
            yield

    app = FastAPI(lifespan=lifespan)
    _health(app)
    url = base_url + "/invoices"

    @app.post("/invoices", status_code=202)
    async def create_invoice(request: Request) -> dict[str, Any]:
        payload = json.loads(await request.body())
        body = json.dumps({"invoices": [payload]}).encode()
        async with request.app.state.session.post(
            url, data=body, headers={"Content-Type": "application/json"}
        ) as resp:
            if resp.status >= 400:
                raise HTTPException(status_code=422, detail=(await resp.text())[:200])
            created = json.loads(await resp.read())
        return {"faktooraId": created[0]["faktooraId"]}

    return app


def fastapi_only_app(base_url: str, api_key: str) -> FastAPI:
    app = FastAPI()
    _health(app)

    @app.post("/invoices", status_code=202)
    async def create_invoice(request: Request) -> dict[str, Any]:
        json.loads(await request.body())
        return {"faktooraId": "00000000-0000-4000-8000-000000000000"}

    return app


def ours_nopre_app(base_url: str, api_key: str) -> FastAPI:
    return ours_app(base_url, api_key, preflight=False)


BUILDERS = {
    "ours": ours_app,
    "ours-nopre": ours_nopre_app,
    "httpx-pydantic": httpx_app,
    "aiohttp-bare": aiohttp_app,
    "fastapi-only": fastapi_only_app,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks._b6_apps")
    p.add_argument("contestant", choices=CONTESTANTS)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--base-url", required=True)
    p.add_argument("--api-key", required=True)
    args = p.parse_args(argv)
    import uvicorn

    app = BUILDERS[args.contestant](args.base_url, args.api_key)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
