"""Seeded, deterministic fault injection.

Every API request (admin routes excluded) draws the same fixed number of values from one
``random.Random(seed)`` stream while any request-level fault is switched on, so the same seed and the
same sequence of requests give the same faults.  Background decisions (generation failures, webhook
failures) are a pure function of ``(seed, key)`` so that the timing of background tasks cannot change them.
Setting faults (:meth:`FaultInjector.configure`) restarts the stream from the seed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Decision", "FaultConfig", "FaultInjector"]

_RATE_FIELDS = (
    "error_rate",
    "reset_rate",
    "ambiguous_rate",
    "truncate_rate",
    "slow_download_rate",
    "generation_failure_rate",
    "webhook_failure_rate",
)
_ALLOWED_ERROR_STATUSES = frozenset({500, 502, 503})


@dataclass(frozen=True)
class FaultConfig:
    """What to inject.  Rates are probabilities in [0, 1]; times are milliseconds."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    reset_rate: float = 0.0
    ambiguous_rate: float = 0.0
    truncate_rate: float = 0.0
    slow_download_rate: float = 0.0
    slow_chunk_bytes: int = 16384
    slow_chunk_delay_ms: float = 20.0
    generation_failure_rate: float = 0.0
    webhook_failure_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in _RATE_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a number between 0 and 1")
        for name in ("latency_ms", "jitter_ms", "slow_chunk_delay_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 600_000:
                raise ValueError(f"{name} must be a number between 0 and 600000")
        if (
            isinstance(self.slow_chunk_bytes, bool)
            or not isinstance(self.slow_chunk_bytes, int)
            or not 1 <= self.slow_chunk_bytes <= 16 * 1024 * 1024
        ):
            raise ValueError("slow_chunk_bytes must be an integer between 1 and 16777216")
        statuses = tuple(self.error_statuses)
        if not statuses or any(
            isinstance(s, bool) or not isinstance(s, int) or s not in _ALLOWED_ERROR_STATUSES
            for s in statuses
        ):
            raise ValueError("error_statuses must be a non-empty list of 500, 502, 503")
        object.__setattr__(self, "error_statuses", statuses)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError("seed must be an integer")

    @property
    def request_faults_on(self) -> bool:
        return bool(
            self.latency_ms
            or self.jitter_ms
            or self.error_rate
            or self.reset_rate
            or self.ambiguous_rate
            or self.truncate_rate
            or self.slow_download_rate
        )

    def to_json(self) -> dict[str, Any]:
        """camelCase JSON form (what ``GET /_sandbox/faults`` returns)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[_camel(f.name)] = list(value) if isinstance(value, tuple) else value
        return out

    def updated(self, changes: Mapping[str, Any]) -> FaultConfig:
        """A copy with ``changes`` (snake_case or camelCase keys) applied; ValueError on bad keys/values."""
        known = {f.name for f in dataclasses.fields(self)}
        kwargs: dict[str, Any] = {}
        for key, value in changes.items():
            name = _snake(key)
            if name not in known:
                raise ValueError(f"unknown fault setting {key!r}")
            if name == "error_statuses":
                if not isinstance(value, (list, tuple)):
                    raise ValueError("error_statuses must be a list")
                value = tuple(value)
            kwargs[name] = value
        return dataclasses.replace(self, **kwargs)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


@dataclass
class Decision:
    """The faults drawn for one request."""

    delay: float = 0.0
    error_status: int | None = None
    reset: bool = False
    ambiguous: bool = False
    truncate: bool = False
    slow: bool = False


_NO_FAULT = Decision()


@dataclass
class FaultInjector:
    """Draws :class:`Decision` objects from the seeded stream and counts what it injected."""

    config: FaultConfig = field(default_factory=FaultConfig)
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.config.seed)

    def configure(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)

    def draw(self) -> Decision:
        """Draw the faults of the next API request (seven values, always, while faults are on)."""
        cfg = self.config
        if not cfg.request_faults_on:
            return _NO_FAULT
        r = self._rng.random
        u_jitter, u_error, u_kind, u_reset, u_ambiguous, u_truncate, u_slow = (
            r(),
            r(),
            r(),
            r(),
            r(),
            r(),
            r(),
        )
        d = Decision()
        d.delay = (cfg.latency_ms + cfg.jitter_ms * u_jitter) / 1000.0
        if u_error < cfg.error_rate:
            d.error_status = cfg.error_statuses[int(u_kind * len(cfg.error_statuses))]
        elif u_reset < cfg.reset_rate:
            d.reset = True
        d.ambiguous = u_ambiguous < cfg.ambiguous_rate
        d.truncate = u_truncate < cfg.truncate_rate
        d.slow = u_slow < cfg.slow_download_rate
        return d

    def keyed(self, kind: str, key: str) -> float:
        """A uniform value in [0, 1) that depends only on the seed, ``kind`` and ``key``."""
        digest = hashlib.blake2b(f"{self.config.seed}\x00{kind}\x00{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def count(self, kind: str) -> None:
        self.counts[kind] += 1
