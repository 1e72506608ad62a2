"""Small, explicit configuration objects (in the spirit of httpx's ``Timeout`` and ``Limits``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_LIMITS",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "ENVIRONMENTS",
    "ENV_ACCOUNT_ID",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_ENVIRONMENT",
    "Limits",
    "RetryConfig",
    "Timeout",
    "resolve_base_url",
]

DEFAULT_BASE_URL = "https://api.faktoora.com/api/v1"
# faktoora's hosts by name (API.md: Nango's connect page and Pipedream name these three)
ENVIRONMENTS: dict[str, str] = {
    "production": DEFAULT_BASE_URL,
    "demo": "https://api.demo.faktoora.com/api/v1",
    "sandbox": "https://api.sandbox.faktoora.com/api/v1",
}
ENV_API_KEY = "FAKTOORA_API_KEY"
ENV_BASE_URL = "FAKTOORA_BASE_URL"
ENV_ACCOUNT_ID = "FAKTOORA_ACCOUNT_ID"
ENV_ENVIRONMENT = "FAKTOORA_ENVIRONMENT"


@dataclass(frozen=True)
class Timeout:
    """Per-attempt timeouts in seconds (None: no limit).

    ``connect``: establishing the connection; ``read``: between two reads of the response; ``total``:
    one whole attempt of an API call; ``download``: one whole attempt of a streamed file download
    (None: same as ``total``; ``math.inf``: unlimited, only ``read`` then guards a stalled body).
    The overall deadline across retries of API calls lives in :class:`RetryConfig`.
    """

    total: float | None = 60.0
    connect: float | None = 10.0
    read: float | None = 30.0
    download: float | None = None

    @classmethod
    def of(cls, value: Timeout | float | None) -> Timeout:
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(total=None, connect=None, read=None)
        seconds = float(value)
        if seconds <= 0:
            raise ConfigurationError("timeout must be positive")
        return cls(total=seconds, connect=min(seconds, 10.0), read=seconds)


@dataclass(frozen=True)
class RetryConfig:
    """How failed requests are retried.

    ``max_retries``: retries after the first attempt (0 turns retries off). ``backoff_base`` and
    ``backoff_max``: exponential backoff with full jitter, ``uniform(0, min(max, base * 2**n))``.
    ``max_retry_after``: cap for a server's ``Retry-After``. ``deadline``: one total budget in seconds for
    all attempts of one call (None: unlimited).
    """

    max_retries: int = 4
    backoff_base: float = 0.25
    backoff_max: float = 8.0
    max_retry_after: float = 60.0
    deadline: float | None = 120.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigurationError("max_retries must be >= 0")
        if self.backoff_base < 0 or self.backoff_max < 0 or self.max_retry_after < 0:
            raise ConfigurationError("backoff values must be >= 0")


@dataclass(frozen=True)
class Limits:
    """Connection pool limits and the optional client-side request rate cap (requests per second)."""

    max_connections: int = 100
    max_connections_per_host: int = 0
    keepalive_timeout: float = 15.0
    max_rate: float | None = None


DEFAULT_TIMEOUT = Timeout()
DEFAULT_RETRY = RetryConfig()
DEFAULT_LIMITS = Limits()


def resolve_base_url(base_url: str | None, environment: str | None = None) -> str:
    """The API root, without a trailing slash.

    An explicit ``base_url`` wins, then an explicit ``environment`` (``production``, ``demo``,
    ``sandbox``), then ``$FAKTOORA_BASE_URL``, then ``$FAKTOORA_ENVIRONMENT``, then production.
    """
    if base_url and environment:
        raise ConfigurationError("give base_url or environment, not both")
    env_name = environment or (
        None if base_url or os.environ.get(ENV_BASE_URL) else os.environ.get(ENV_ENVIRONMENT)
    )
    if env_name is not None:
        key = env_name.strip().lower()
        if key not in ENVIRONMENTS:
            source = "environment" if environment else f"${ENV_ENVIRONMENT}"
            raise ConfigurationError(f"{source} must be one of {', '.join(ENVIRONMENTS)}, got {env_name!r}")
        return ENVIRONMENTS[key]
    url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    url = url.strip().rstrip("/")
    if not (url.startswith("http://") or url.startswith("https://")):
        raise ConfigurationError(f"base_url must start with http:// or https://, got {url!r}")
    return url
