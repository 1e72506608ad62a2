"""Client-side rate governance, in small parts (after botocore's ``retries/adaptive.py``).

* :class:`TokenBucket` (:mod:`.bucket`): paces requests at a rate, pure arithmetic on a given time;
* :class:`RateClock` (:mod:`.clock`): when requests were sent, accepted and throttled; measured rates;
* :class:`AdjustmentPolicy` (:mod:`.policy`): moves the allowed rate on what the server answers;
* :func:`parse_rate_headers` (:mod:`.headers`): ``RateLimit-*`` / ``X-RateLimit-*`` headers, tolerantly;
* :class:`AdaptiveRateLimiter` (:mod:`.governor`): the async governor one client shares across tasks;
* :class:`RateStore` (:mod:`.store`): where a key's bucket lives when several clients share it:
  :class:`InProcessStore`, or ``RedisStore`` (:mod:`.redis_store`, extra ``[redis]``); :func:`open_store`
  turns ``"redis://..."`` into one;
* :func:`background` (:mod:`.priority`): requests made inside it (every status poll) give way to
  requests waiting for a slot.
"""

from __future__ import annotations

from .bucket import TokenBucket
from .clock import EventLog, RateClock
from .governor import AdaptiveRateLimiter, RateLimiterStats
from .headers import RateLimitInfo, parse_rate_headers
from .policy import AdjustmentPolicy, PolicyConfig
from .priority import background
from .store import Grant, InProcessStore, RateStore, SharedRate, StoreUnavailable, store_key


def open_store(store: RateStore | str | None) -> RateStore | None:
    """A rate store from a URL (``redis://``, ``rediss://``, ``unix://``) or a store object (as is)."""
    if store is None or not isinstance(store, str):
        return store
    if store.split(":", 1)[0].lower() in ("redis", "rediss", "unix"):
        from .redis_store import RedisStore

        return RedisStore(store)
    from ..errors import ConfigurationError

    raise ConfigurationError("rate_store must be a redis://, rediss:// or unix:// URL or a RateStore object")


def __getattr__(name: str) -> object:
    if name == "RedisStore":  # imported on first use: redis-py is an optional extra
        from .redis_store import RedisStore

        return RedisStore
    raise AttributeError(name)


__all__ = [
    "AdaptiveRateLimiter",
    "AdjustmentPolicy",
    "EventLog",
    "Grant",
    "InProcessStore",
    "PolicyConfig",
    "RateClock",
    "RateLimitInfo",
    "RateLimiterStats",
    "RateStore",
    "RedisStore",
    "SharedRate",
    "StoreUnavailable",
    "TokenBucket",
    "background",
    "open_store",
    "parse_rate_headers",
    "store_key",
]
