"""Retry decisions as pure functions, and the per-client retry budget.

The transport sends one attempt, describes what happened as an :class:`Outcome` and asks
:func:`should_retry` whether to try again and :func:`retry_delay` how long to wait; a
:class:`RetryBudget` (botocore's retry quota: retries spend tokens, successes refill them) bounds the
retries of the whole client, so an outage cannot multiply the traffic the client sends.

Rules (whatever the method): a connection that was never made (refused, DNS, connect timeout), a 429 and
a 503 with ``Retry-After`` were not acted on and may be sent again.  After a request may have reached the
server (read timeout, reset, any other 5xx), only idempotent methods (GET, PUT, DELETE) are retried.
A TLS failure and every other 4xx are final.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ._request import APIRequest

__all__ = ["Outcome", "OutcomeKind", "RetryBudget", "retry_cost", "retry_delay", "should_retry"]

OutcomeKind = Literal["response", "connect", "timeout", "reset", "tls"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt produced: an HTTP ``status`` (kind ``response``) or a transport failure."""

    kind: OutcomeKind
    status: int | None = None
    retry_after: float | None = None

    @property
    def reached_server(self) -> bool:
        """False only when the request provably was not acted on."""
        if self.kind in ("connect", "tls"):
            return False
        if self.kind == "response":
            return not (self.status == 429 or (self.status == 503 and self.retry_after is not None))
        return True


def should_retry(req: APIRequest, outcome: Outcome) -> bool:
    """May ``req`` be sent again after ``outcome``?  (Attempt counts and the budget are checked apart.)"""
    if outcome.kind == "tls":
        return False
    if outcome.kind == "response":
        status = outcome.status or 0
        if status == 429:
            return True
        if status < 500:
            return False
    if not outcome.reached_server:
        return True
    return req.idempotent


def retry_delay(
    ceiling: float,
    retry_after: float | None,
    *,
    max_retry_after: float,
    jitter: Callable[[float], float],
) -> float:
    """Seconds to wait before a retry: ``jitter(ceiling)``, with ``Retry-After`` as a floor.

    ``ceiling`` is the exponential step of this retry (the transport takes it from ``backoff.expo``) and
    ``jitter`` spreads clients out (the transport passes ``backoff.full_jitter``: uniform in
    ``[0, ceiling]``); a server's ``Retry-After`` (capped at ``max_retry_after``) is never undercut.
    """
    delay = max(0.0, jitter(max(0.0, ceiling)))
    if retry_after is not None and math.isfinite(retry_after):
        delay = max(delay, min(max(0.0, retry_after), max_retry_after))
    return delay


# Retry budget (botocore ``retries/quota.py`` and ``standard.py``): a bucket of tokens per client.
BUDGET_CAPACITY = 500  # tokens when full: 100 ordinary retries in a row with no success between
RETRY_COST = 5  # tokens one retry spends
TIMEOUT_RETRY_COST = 10  # a retry after a timeout: the costliest failure (a slot held for the whole timeout)
SUCCESS_REFILL = 1  # tokens a success without retries returns


def retry_cost(outcome: Outcome) -> int:
    """Tokens a retry after ``outcome`` costs; a 429 costs none (the rate governor already slows down)."""
    if outcome.kind == "response" and outcome.status == 429:
        return 0
    return TIMEOUT_RETRY_COST if outcome.kind == "timeout" else RETRY_COST


class RetryBudget:
    """Per-client retry quota: :meth:`spend` before a retry, :meth:`refill` after a success.

    A success that needed retries gives back what its retries spent; a first-try success adds
    ``SUCCESS_REFILL``.  When the budget cannot pay for a retry, the error is raised at once: during an
    outage the client falls back to one attempt per call instead of ``max_retries + 1``.
    """

    def __init__(self, capacity: int = BUDGET_CAPACITY) -> None:
        if capacity < 0:
            raise ValueError("capacity must be >= 0")
        self.capacity = capacity
        self.available = capacity
        self.refused = 0  # retries the budget did not pay for

    def spend(self, cost: int) -> bool:
        if cost <= self.available:
            self.available -= cost
            return True
        self.refused += 1
        return False

    def refill(self, spent: int) -> None:
        amount = spent if spent > 0 else SUCCESS_REFILL
        self.available = min(self.capacity, self.available + amount)

    def __repr__(self) -> str:
        return f"<RetryBudget {self.available}/{self.capacity}>"
