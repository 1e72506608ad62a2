"""Thin adapters that mount a :class:`~faktoora_async.webhooks.WebhookReceiver` in a web framework.

Each submodule imports its framework only when you import that submodule, so the core SDK never depends on
FastAPI, Starlette or aiohttp.web:

* :mod:`faktoora_async.integrations.fastapi`: ``webhook_router(receiver)`` (FastAPI ``APIRouter``),
  ``webhook_dependency(receiver)`` (a FastAPI dependency), ``starlette_endpoint(receiver)`` (plain Starlette);
  ``redact_access_logs()`` keeps the ``?token=`` secret out of uvicorn's/hypercorn's/gunicorn's access logs
  (``webhook_router`` installs it);
* :mod:`faktoora_async.integrations.aiohttp`: ``webhook_handler(receiver)`` for ``aiohttp.web``.
"""
