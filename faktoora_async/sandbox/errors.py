"""Error answers of the sandbox, in faktoora's NestJS shape.

``{"code", "statusCode", "message", "errors"?}``; route modules raise :class:`ApiError` and the middleware
turns it into the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .store import dumps

__all__ = ["HTTP_CODES", "ApiError", "bad_request", "http_error"]


class ApiError(Exception):
    """An error answer in the NestJS shape ``{"code", "statusCode", "message", "errors"?}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers

    def response(self) -> web.Response:
        body: dict[str, Any] = {"code": self.code, "statusCode": self.status, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return web.Response(
            status=self.status, body=dumps(body), content_type="application/json", headers=self.headers
        )


HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
}


def http_error(status: int, message: str, code: str | None = None) -> ApiError:
    """An :class:`ApiError` with the usual code of ``status`` (``NOT_FOUND`` for 404, ...)."""
    return ApiError(status, code or HTTP_CODES.get(status, "ERROR"), message)


def bad_request(message: str, errors: list[dict[str, Any]] | None = None) -> ApiError:
    """A ``400 BAD_REQUEST`` with optional per-field ``errors``."""
    return ApiError(400, "BAD_REQUEST", message, errors)
