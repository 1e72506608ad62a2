"""The Redis rate store (extra ``[redis]``: redis-py's asyncio client): one GCRA bucket per key, shared.

Each request costs one ``EVALSHA`` of :data:`TAKE_LUA` (atomic: GCRA step, counters, shared rate and
pause in one hash, on Redis' own clock).  redis-py's ``Script`` re-sends the script by itself after a
Redis restart (``NOSCRIPT``).  Timeouts are short and redis-py's own retries are off: an unreachable
Redis must cost a request milliseconds, not seconds, before the governor falls back to its in-process
bucket (see :class:`~faktoora_async.ratelimit.governor.AdaptiveRateLimiter`).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from .store import Grant, SharedRate, StoreUnavailable

__all__ = ["PUBLISH_LUA", "TAKE_LUA", "RedisStore"]

#: Seconds a key lives after its last use (an idle key's state is stale anyway).
KEY_TTL_MS = 3_600_000
#: Socket timeouts (seconds) for every Redis call (a stopped Redis on a reachable host refuses at once;
#: this bounds an unreachable one, and leaves room for a busy event loop).
SOCKET_TIMEOUT = 1.0

# KEYS[1]: the key's hash.  ARGV: fallback rate (<= 0: unlimited), burst (slots), ttl ms.
# Returns {wait, sent, throttled, shared rate (-1: none), now, climb} (numbers as strings: Lua truncates
# floats).
TAKE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local h = redis.call('HMGET', KEYS[1], 'tat', 'pause', 'base', 'at', 'climb', 'sent', 'thr')
local tat = tonumber(h[1]) or 0
local pause = tonumber(h[2]) or 0
local sent = tonumber(h[6]) or 0
local thr = tonumber(h[7]) or 0
local rate = tonumber(ARGV[1])
local shared = -1
local climb = 0
if h[3] then
  climb = tonumber(h[5])
  local dt = now - tonumber(h[4])
  if dt < 0 then dt = 0 end
  if dt > 60 then dt = 60 end
  shared = tonumber(h[3]) * math.exp(tonumber(h[5]) * dt)
  rate = shared
end
local wait = 0
if now < pause then
  wait = pause - now
elseif rate > 0 then
  local interval = 1 / rate
  if tat < now then tat = now end
  local allow = tat - tonumber(ARGV[2]) * interval
  if now + 1e-9 >= allow then
    sent = sent + 1
    redis.call('HSET', KEYS[1], 'tat', string.format('%.6f', tat + interval), 'sent', sent)
  else
    wait = allow - now
  end
else
  sent = sent + 1
  redis.call('HSET', KEYS[1], 'sent', sent)
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return {string.format('%.6f', wait), sent, thr, string.format('%.6f', shared), string.format('%.6f', now),
        string.format('%.6f', climb)}
"""

# KEYS[1]: the key's hash.  ARGV: 429s to count, pause seconds (<= 0: none), base rate (<= 0: none),
# base time relative to now, climb per second, ttl ms.
PUBLISH_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if tonumber(ARGV[1]) > 0 then redis.call('HINCRBY', KEYS[1], 'thr', tonumber(ARGV[1])) end
local p = tonumber(ARGV[2])
if p > 0 then
  local old = tonumber(redis.call('HGET', KEYS[1], 'pause')) or 0
  if now + p > old then redis.call('HSET', KEYS[1], 'pause', string.format('%.6f', now + p)) end
end
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[1], 'base', ARGV[3], 'at', string.format('%.6f', now + tonumber(ARGV[4])),
             'climb', ARGV[5])
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
return 1
"""


def _redis_module() -> Any:
    try:
        import redis.asyncio as aioredis
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        from ..errors import ConfigurationError

        raise ConfigurationError(
            "the Redis rate store needs redis-py: pip install 'faktoora-async[redis]'"
        ) from exc
    return aioredis


class RedisStore:
    """A :class:`~faktoora_async.ratelimit.store.RateStore` in Redis, shared by every client naming it.

    ``url`` is a ``redis://`` / ``rediss://`` / ``unix://`` URL (password and database as redis-py
    reads them), or pass a ready ``client`` (``redis.asyncio.Redis``; then it is not closed here).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        socket_timeout: float = SOCKET_TIMEOUT,
        key_ttl_ms: int = KEY_TTL_MS,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError("give RedisStore a url or a client, not both")
        aioredis = _redis_module()
        if client is None:
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            client = aioredis.from_url(
                url,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
                health_check_interval=0,
            )
            self._owns = True
        else:
            self._owns = False
        self._redis = client
        self._ttl = key_ttl_ms
        self._down = False
        self._take = client.register_script(TAKE_LUA)
        self._publish = client.register_script(PUBLISH_LUA)
        import redis.exceptions

        self._errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)

    def mark_down(self) -> bool:
        """Note an outage; True the first time (so one warning per store, however many clients use it)."""
        first, self._down = not self._down, True
        return first

    def mark_up(self) -> bool:
        """Note that Redis answers again; True when it had been down."""
        was, self._down = self._down, False
        return was

    def __repr__(self) -> str:
        # the URL may hold a password: never show it
        return "<RedisStore>"

    async def take(self, key: str, rate: float, burst: float) -> Grant:
        arg = -1.0 if math.isinf(rate) else rate
        try:
            res = await self._take(keys=[key], args=[repr(arg), repr(burst), self._ttl])
        except self._errors as exc:
            raise StoreUnavailable(f"Redis rate store unavailable: {type(exc).__name__}") from exc
        wait, sent, thr, shared, now, climb = (float(x) for x in res)
        return Grant(wait, int(sent), int(thr), shared if shared > 0 else None, now, climb)

    async def report(
        self, key: str, *, throttles: int = 0, pause: float | None = None, rate: SharedRate | None = None
    ) -> None:
        args: list[Any] = [throttles, repr(float(pause or 0.0))]
        if rate is not None and math.isfinite(rate.base) and rate.base > 0:
            args += [repr(rate.base), repr(rate.at), repr(rate.climb)]
        else:
            args += ["0", "0", "0"]
        args.append(self._ttl)
        try:
            await self._publish(keys=[key], args=args)
        except self._errors as exc:
            raise StoreUnavailable(f"Redis rate store unavailable: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        if self._owns:
            with contextlib.suppress(*self._errors):
                await self._redis.aclose()
