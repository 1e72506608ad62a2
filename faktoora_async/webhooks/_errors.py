"""The webhook error tree (see :mod:`faktoora_async.webhooks`)."""

from __future__ import annotations

from faktoora_async.errors import FaktooraError

__all__ = [
    "WebhookAuthError",
    "WebhookError",
    "WebhookMediaTypeError",
    "WebhookPayloadError",
    "WebhookTimeoutError",
    "WebhookTooLargeError",
]


# --------------------------------------------------------------------------------------------- errors
class WebhookError(FaktooraError):
    """A webhook delivery was refused; ``http_status`` is what a receiver should answer."""

    http_status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class WebhookPayloadError(WebhookError):
    """The body is not a valid delivery; ``field`` is the JSON path of the problem (``$.status``) or None."""

    http_status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class WebhookAuthError(WebhookError):
    """The shared secret is missing or wrong.  The message never contains either secret."""

    http_status = 401


class WebhookTooLargeError(WebhookError):
    """The body is larger than the limit; reading stopped after ``bytes_read`` bytes."""

    http_status = 413

    def __init__(self, message: str, *, limit: int, bytes_read: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.bytes_read = bytes_read


class WebhookTimeoutError(WebhookError):
    """The body did not arrive completely within the receiver's ``body_timeout``."""

    http_status = 408


class WebhookMediaTypeError(WebhookError):
    """The request declares a Content-Type that is not JSON."""

    http_status = 415
