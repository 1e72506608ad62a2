"""``FaktooraClient``: the asyncio client for faktoora's e-Invoicing API."""

from __future__ import annotations

import functools
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
from ._requester import APIRequester
from .errors import ConfigurationError
from .models.api_keys import ApiKeySecret
from .protocol.retry import RetryBudget
from .ratelimit import AdaptiveRateLimiter, RateStore, open_store, store_key
from .resources.api_keys import ApiKeys, KeyExpiryWatch
from .resources.invoices import Invoices
from .transport import Transport
from .waiting import Waiter
from .webhooks import WebhookHub

if TYPE_CHECKING:
    import aiohttp

    from .resources import Customers, Imports, Incoming, Products, Projects, Settings, Webhooks

__all__ = ["FaktooraClient"]


def _clean_key(api_key: str | ApiKeySecret | None) -> str:
    if isinstance(api_key, ApiKeySecret):
        api_key = api_key.reveal()
    key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
    if not key or not key.strip():
        raise ConfigurationError(f"no API key: pass FaktooraClient(api_key=...) or set ${ENV_API_KEY}")
    return key.strip()


class FaktooraClient:
    """An async client; use ``async with FaktooraClient() as client:`` (or ``await client.aclose()``).

    ``api_key`` defaults to ``$FAKTOORA_API_KEY``; the host is ``base_url``, else ``environment``
    (``"production"``, ``"demo"``, ``"sandbox"``), else ``$FAKTOORA_BASE_URL`` / ``$FAKTOORA_ENVIRONMENT``,
    else production (``https://api.faktoora.com/api/v1``; v2 routes are derived from it).  ``account_id``
    (``$FAKTOORA_ACCOUNT_ID``) selects the tenant of a multi-tenant account.  ``timeout`` is seconds or a
    :class:`Timeout`; ``max_retries`` overrides ``retry.max_retries`` (0 turns retries off);
    ``retry_budget`` (tokens, default 500) bounds the retries of the whole client during an outage;
    ``max_connections``/``max_rate`` override ``limits``.  A ``session`` you pass is used as is and never
    closed by the client.  TLS is always verified.  ``rate_store`` (``"redis://..."`` or a
    :class:`~faktoora_async.ratelimit.RateStore`) shares the rate budget of this API key and tenant with
    every client naming the same store.
    """

    def __init__(
        self,
        api_key: str | ApiKeySecret | None = None,
        *,
        base_url: str | None = None,
        environment: str | None = None,
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryConfig | None = None,
        retry_budget: int | None = None,
        max_connections: int | None = None,
        max_rate: float | None = None,
        limits: Limits | None = None,
        account_id: str | None = None,
        session: aiohttp.ClientSession | None = None,
        events: WebhookHub | None = None,
        rate_store: RateStore | str | None = None,
    ) -> None:
        key = _clean_key(api_key)
        self._base_url = resolve_base_url(base_url, environment)
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
        # a rate store shares one budget per API key and tenant with every client naming it
        self._rate_store = open_store(rate_store)
        self._owns_store = isinstance(rate_store, str)
        self.rate_limiter = AdaptiveRateLimiter(
            lim.max_rate, store=self._rate_store, store_key=store_key(key, self.account_id)
        )
        self.retry_budget = RetryBudget() if retry_budget is None else RetryBudget(retry_budget)
        self._transport = Transport(
            base_url=self._base_url,
            api_key=key,
            account_id=self.account_id,
            timeout=self.timeout,
            retry=retry_config,
            limits=lim,
            session=session,
            limiter=self.rate_limiter,
            budget=self.retry_budget,
        )
        self._key_watch = KeyExpiryWatch()
        requester = APIRequester(self._transport, observer=self._key_watch.observe)
        self._requester = requester
        self.events: WebhookHub = events if events is not None else WebhookHub()
        self.waiter = Waiter(self.events, spare=self.rate_limiter.spare)
        self.invoices = Invoices(requester, self.waiter)
        self.api_keys = ApiKeys(requester, self._key_watch)

    # The other areas are built on first use, so a program that never names one does not import its
    # models and request builders (issue 14: import cost).
    @functools.cached_property
    def imports(self) -> Imports:
        """``/import/outgoing``: existing e-invoices uploaded, listed, inspected."""
        from .resources.imports import Imports

        return Imports(self._requester)

    @functools.cached_property
    def webhooks(self) -> Webhooks:
        """Webhook subscriptions."""
        from .resources.webhooks import Webhooks

        return Webhooks(self._requester)

    @functools.cached_property
    def incoming(self) -> Incoming:
        """Incoming (received) invoices."""
        from .resources.incoming import Incoming

        return Incoming(self._requester)

    @functools.cached_property
    def customers(self) -> Customers:
        """Customers (and their CSV import)."""
        from .resources.customers import Customers

        return Customers(self._requester)

    @functools.cached_property
    def products(self) -> Products:
        """Products."""
        from .resources.products import Products

        return Products(self._requester)

    @functools.cached_property
    def projects(self) -> Projects:
        """Projects and their attached documents."""
        from .resources.projects import Projects

        return Projects(self._requester)

    @functools.cached_property
    def settings(self) -> Settings:
        """Account settings (the invoice number template)."""
        from .resources.settings import Settings

        return Settings(self._requester)

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def closed(self) -> bool:
        return self._transport.closed

    @property
    def stats(self) -> dict[str, int]:
        """HTTP attempts and retries sent by this client so far, and its retry budget."""
        return {
            "attempts": self._transport.attempts,
            "retries": self._transport.retries,
            "retry_budget": self.retry_budget.available,
            "retries_refused": self.retry_budget.refused,
        }

    def use_api_key(self, api_key: str | ApiKeySecret) -> None:
        """Switch to ``api_key`` without dropping anything: requests already on the wire finish with the
        old key, every attempt from now on (retries included) sends the new one.  For key rotation::

            new = await client.api_keys.rotate(current_id, grace_period_hours=24)
            client.use_api_key(new.key)
        """
        self._transport.use_api_key(_clean_key(api_key))
        self._key_watch.key_changed(api_key)

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
        store, self._rate_store = self._rate_store, None
        if store is not None and self._owns_store:  # opened from a URL here: closed here
            await store.aclose()
