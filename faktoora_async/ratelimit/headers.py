"""Rate-limit response headers, read tolerantly (``../shared/API.md``: use them if they appear).

faktoora publishes no rate headers and the sandbox sends none, so everything here is optional input.
Understood, case-insensitively:

* IETF draft, separate fields: ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``
  (seconds) and ``RateLimit-Policy: 100;w=60`` (quota 100 per 60 s window);
* IETF draft, structured fields: ``RateLimit: limit=100, remaining=50, reset=5`` or
  ``RateLimit: "default";r=50;t=5`` with ``RateLimit-Policy: "default";q=100;w=60``;
* the common ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (seconds from now, or a Unix time in
  seconds or milliseconds) and ``X-RateLimit-Reset-After`` (seconds).

A value that cannot be read is ignored, never an error: a wrong header must not break a request.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["RateLimitInfo", "parse_rate_headers"]

#: A ``reset`` above this is a Unix time, not a delay (about 3 years of seconds).
_EPOCH_THRESHOLD = 1e8
_FIRST = frozenset("rRxX")
_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)")
#: Header name sequences seen without any rate header (responses of one server repeat a few of them).
_WITHOUT: set[tuple[str, ...]] = set()
_WITHOUT_CAP = 64
_PARAM = re.compile(r"(?:^|[;,\s])([a-z]+)\s*=\s*\"?([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)


@dataclass(frozen=True)
class RateLimitInfo:
    """What a response's rate headers said: quota ``limit`` per ``window`` seconds, ``remaining`` of it
    now, full again (or the window over) in ``reset`` seconds.  Every field may be unknown (None)."""

    limit: float | None = None
    remaining: float | None = None
    reset: float | None = None
    window: float | None = None

    @property
    def rate(self) -> float | None:
        """The sustained rate the quota allows (requests per second), when limit and window are known."""
        if self.limit is None or not self.window:
            return None
        return self.limit / self.window


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    m = _NUMBER.match(text)
    if not m:
        return None
    value = float(m.group(1))
    return value if math.isfinite(value) else None


def _params(text: str) -> dict[str, float]:
    return {k.lower(): float(v) for k, v in _PARAM.findall(text)}


def _reset_seconds(value: float | None, wall_now: float) -> float | None:
    if value is None:
        return None
    if value > _EPOCH_THRESHOLD * 1000:  # Unix time in milliseconds
        value = value / 1000.0 - wall_now
    elif value > _EPOCH_THRESHOLD:  # Unix time in seconds
        value = value - wall_now
    return max(0.0, value)


def parse_rate_headers(headers: Mapping[str, str], wall_now: float | None = None) -> RateLimitInfo | None:
    """The rate information in ``headers``, or None when there is none (the usual case: cheap).

    ``wall_now`` is ``time.time()`` (only used for a reset given as a Unix time; None: read when needed).
    """
    # cheap: most responses carry no rate headers at all, and the same few names every time
    names = tuple(headers)
    if names in _WITHOUT:
        return None
    for key in names:
        if key[:1] in _FIRST:
            break
    else:  # no name starts with r/x
        if len(_WITHOUT) < _WITHOUT_CAP:
            _WITHOUT.add(names)
        return None
    found: dict[str, str] = {}
    for key, value in headers.items():
        if key[:1] not in _FIRST:
            continue
        low = key.lower()
        if low.startswith("ratelimit") or low.startswith("x-ratelimit"):
            found[low] = value
    if not found:
        return None
    limit = remaining = reset = window = None
    policy = found.get("ratelimit-policy")
    if policy is not None:
        p = _params(policy)
        window = p.get("w")
        limit = p.get("q", _number(policy))
    combined = found.get("ratelimit")
    if combined is not None:
        p = _params(combined)
        limit = p.get("limit", limit)
        remaining = p.get("remaining", p.get("r"))
        reset = p.get("reset", p.get("t"))
    if "ratelimit-limit" in found:
        text = found["ratelimit-limit"]
        limit = _number(text)
        # draft-03 may list the policy in the same field: "100, 100;w=60"
        window = _params(text).get("w", window)
    remaining = _number(found.get("ratelimit-remaining")) if "ratelimit-remaining" in found else remaining
    reset = _number(found.get("ratelimit-reset")) if "ratelimit-reset" in found else reset
    if limit is None:
        limit = _number(found.get("x-ratelimit-limit"))
    if remaining is None:
        remaining = _number(found.get("x-ratelimit-remaining"))
    if reset is None:
        reset = _number(found.get("x-ratelimit-reset-after"))
        if reset is None:
            reset = _reset_seconds(
                _number(found.get("x-ratelimit-reset")), time.time() if wall_now is None else wall_now
            )
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimitInfo(limit=limit, remaining=remaining, reset=reset, window=window)
