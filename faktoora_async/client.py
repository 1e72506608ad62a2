"""``FaktooraClient``: the asyncio client for faktoora's e-Invoicing API."""

from __future__ import annotations

import os
from types import TracebackType
from typing import TYPE_CHECKING

from ._config import (
    DEFAULT_LIMITS,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    ENV_ACCOUNT_ID,
    ENV_API_KEY,
    Limits,
    RetryConfig,
    Timeout,
    resolve_base_url,
)
from .errors import ConfigurationError
from .ratelimit import AdaptiveRateLimiter
from .resources import Imports, Invoices, Webhooks
from .transport import Transport
from .webhooks import WebhookHub

if TYPE_CHECKING:
    import aiohttp

__all__ = ["FaktooraClient"]


class FaktooraClient:
    """An async client; use ``async with FaktooraClient() as client:`` (or ``await client.aclose()``).

    ``api_key`` defaults to ``$FAKTOORA_API_KEY``, ``base_url`` to ``$FAKTOORA_BASE_URL`` or production
    (``https://api.faktoora.com/api/v1``; the v2 status route is derived from it), ``account_id`` to
    ``$FAKTOORA_ACCOUNT_ID``.  ``timeout`` is seconds or a :class:`Timeout`; ``max_retries`` overrides
    ``retry.max_retries`` (0 turns retries off); ``max_connections``/``max_rate`` override ``limits``.
    A ``session`` you pass is used as is and never closed by the client.  TLS is always verified.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryConfig | None = None,
        max_connections: int | None = None,
        max_rate: float | None = None,
        limits: Limits | None = None,
        account_id: str | None = None,
        session: aiohttp.ClientSession | None = None,
        events: WebhookHub | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        if not key or not key.strip():
            raise ConfigurationError(f"no API key: pass FaktooraClient(api_key=...) or set ${ENV_API_KEY}")
        self._base_url = resolve_base_url(base_url)
        retry_config = retry or DEFAULT_RETRY
        if max_retries is not None:
            retry_config = RetryConfig(
                max_retries=max_retries,
                backoff_base=retry_config.backoff_base,
                backoff_max=retry_config.backoff_max,
                max_retry_after=retry_config.max_retry_after,
                deadline=retry_config.deadline,
            )
        lim = limits or DEFAULT_LIMITS
        if max_connections is not None or max_rate is not None:
            lim = Limits(
                max_connections=max_connections if max_connections is not None else lim.max_connections,
                max_connections_per_host=lim.max_connections_per_host,
                keepalive_timeout=lim.keepalive_timeout,
                max_rate=max_rate if max_rate is not None else lim.max_rate,
            )
        self.timeout = Timeout.of(timeout)
        self.retry = retry_config
        self.limits = lim
        self.account_id = account_id if account_id is not None else os.environ.get(ENV_ACCOUNT_ID)
        self.rate_limiter = AdaptiveRateLimiter(lim.max_rate)
        self._transport = Transport(
            base_url=self._base_url,
            api_key=key.strip(),
            account_id=self.account_id,
            timeout=self.timeout,
            retry=retry_config,
            limits=lim,
            session=session,
            limiter=self.rate_limiter,
        )
        self._resting: dict[str, str] = {}
        self.events: WebhookHub = events if events is not None else WebhookHub()
        self.invoices = Invoices(self)
        self.imports = Imports(self)
        self.webhooks = Webhooks(self)

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def closed(self) -> bool:
        return self._transport.closed

    @property
    def stats(self) -> dict[str, int]:
        """Attempts and retries sent by this client so far."""
        return {"attempts": self._transport.attempts, "retries": self._transport.retries}

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<FaktooraClient base_url={self._base_url!r} api_key=*** {state}>"

    async def __aenter__(self) -> FaktooraClient:
        self._transport.session()  # fails fast when closed; creates the session inside the loop
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client's own HTTP session (idempotent, safe under cancellation)."""
        await self._transport.aclose()
