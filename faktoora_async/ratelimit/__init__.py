"""Client-side rate governance, in small parts (after botocore's ``retries/adaptive.py``).

* :class:`TokenBucket` (:mod:`.bucket`): paces requests at a rate, pure arithmetic on a given time;
* :class:`RateClock` (:mod:`.clock`): when requests were sent, accepted and throttled; measured rates;
* :class:`AdjustmentPolicy` (:mod:`.policy`): moves the allowed rate on what the server answers;
* :func:`parse_rate_headers` (:mod:`.headers`): ``RateLimit-*`` / ``X-RateLimit-*`` headers, tolerantly;
* :class:`AdaptiveRateLimiter` (:mod:`.governor`): the async governor one client shares across tasks.
"""

from __future__ import annotations

from .bucket import TokenBucket
from .clock import EventLog, RateClock
from .governor import AdaptiveRateLimiter, RateLimiterStats
from .headers import RateLimitInfo, parse_rate_headers
from .policy import AdjustmentPolicy, PolicyConfig

__all__ = [
    "AdaptiveRateLimiter",
    "AdjustmentPolicy",
    "EventLog",
    "PolicyConfig",
    "RateClock",
    "RateLimitInfo",
    "RateLimiterStats",
    "TokenBucket",
    "parse_rate_headers",
]
