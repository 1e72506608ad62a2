"""Rate stores: where the token bucket of one API key (and tenant) lives, so several clients can share it.

* :class:`InProcessStore` (the default when clients of one process should share a budget): a GCRA
  bucket per key in memory.
* :class:`~faktoora_async.ratelimit.redis_store.RedisStore` (extra ``[redis]``): the same bucket in
  Redis, one atomic Lua script per request, shared by every process and host that names the store.

A store holds, per key: the GCRA schedule ("theoretical arrival time") at the shared rate, the shared
rate itself as the governors learned it (a base, the time it was set, and its climb per second), a pause
every client honours (a server's literal ``Retry-After``), and counters of slots handed out and 429s seen
(so a governor measures what *all* clients sent between two 429s, not only itself).  Times inside a
store are the store's own clock (Redis: its ``TIME``), so clients on different hosts agree.

Keys never contain an API key: :func:`store_key` hashes it (with the tenant, ``x-account-id``).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "Grant",
    "InProcessStore",
    "RateStore",
    "SharedRate",
    "StoreUnavailable",
    "gcra_take",
    "store_key",
]


class StoreUnavailable(ConnectionError):
    """The rate store cannot be reached (the governor falls back to its in-process bucket)."""


def store_key(api_key: str, account_id: str | None = None, *, prefix: str = "faktoora:rl:") -> str:
    """The store key of an API key and tenant: a digest, so the key itself is never stored or logged."""
    digest = hashlib.sha256(f"{api_key}\0{account_id or ''}".encode()).hexdigest()[:32]
    return prefix + digest


@dataclass(frozen=True)
class SharedRate:
    """A learned rate as stored: ``base`` at store time ``at``, climbing by ``climb`` per second."""

    base: float
    at: float
    climb: float = 0.0

    def at_time(self, now: float) -> float:
        return self.base * math.exp(self.climb * min(60.0, max(0.0, now - self.at)))


@dataclass(frozen=True)
class Grant:
    """The answer of :meth:`RateStore.take`: ``wait`` 0 means the slot is taken; else retry after ``wait``.

    ``sent``/``throttled`` are the key's counters after the call; ``rate`` the shared rate now (None when
    no governor has published one yet) and ``climb`` its climb per second; ``now`` the store's clock.
    """

    wait: float
    sent: int
    throttled: int
    rate: float | None
    now: float
    climb: float = 0.0


@runtime_checkable
class RateStore(Protocol):
    """Where a rate budget lives.  Every method may raise ``OSError``/``ConnectionError`` on an outage
    (the governor then falls back to its own in-process bucket)."""

    async def take(self, key: str, rate: float, burst: float) -> Grant:
        """Take one slot of ``key``'s bucket: ``rate`` is the caller's fallback when none is published;
        ``burst`` the slots that may go at once (GCRA tolerance)."""
        ...

    async def report(
        self, key: str, *, throttles: int = 0, pause: float | None = None, rate: SharedRate | None = None
    ) -> None:
        """Count ``throttles`` 429s, pause every client for ``pause`` seconds, publish a learned ``rate``
        (its ``at`` is seconds relative to now, usually <= 0)."""
        ...

    async def aclose(self) -> None: ...


def gcra_take(tat: float, now: float, rate: float, burst: float) -> tuple[float, float]:
    """One GCRA step: ``(wait, new_tat)``; ``wait == 0`` means admitted (``tat`` advanced by 1/rate).

    GCRA keeps one number per key, the theoretical arrival time of the next request; a request is
    admitted while it is at most ``burst`` intervals early.  Same arithmetic as the Redis Lua script.
    """
    interval = 1.0 / rate
    tat = max(tat, now)
    allow_at = tat - burst * interval
    if now + 1e-9 >= allow_at:
        return 0.0, tat + interval
    return allow_at - now, tat


class _Entry:
    __slots__ = ("pause", "rate", "sent", "tat", "throttled")

    def __init__(self) -> None:
        self.tat = 0.0
        self.pause = 0.0
        self.rate: SharedRate | None = None
        self.sent = 0
        self.throttled = 0


class InProcessStore:
    """A :class:`RateStore` in memory: clients of one process that are given the same object share it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def _entry(self, key: str) -> _Entry:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        return entry

    def _now(self) -> float:
        return self._clock()

    async def take(self, key: str, rate: float, burst: float) -> Grant:
        now = self._now()
        e = self._entry(key)
        shared = e.rate.at_time(now) if e.rate is not None else None
        climb = e.rate.climb if e.rate is not None else 0.0
        if now < e.pause:
            return Grant(e.pause - now, e.sent, e.throttled, shared, now, climb)
        use = shared if shared is not None else rate
        if math.isinf(use):
            e.sent += 1
            return Grant(0.0, e.sent, e.throttled, shared, now, climb)
        wait, e.tat = gcra_take(e.tat, now, use, burst)
        if wait <= 0:
            e.sent += 1
        return Grant(wait, e.sent, e.throttled, shared, now, climb)

    async def report(
        self, key: str, *, throttles: int = 0, pause: float | None = None, rate: SharedRate | None = None
    ) -> None:
        now = self._now()
        e = self._entry(key)
        e.throttled += throttles
        if pause is not None and pause > 0:
            e.pause = max(e.pause, now + pause)
        if rate is not None and math.isfinite(rate.base) and rate.base > 0:
            e.rate = SharedRate(rate.base, now + rate.at, rate.climb)

    async def aclose(self) -> None:
        self._entries.clear()
