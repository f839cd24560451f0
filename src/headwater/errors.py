"""Headwater's error tree. Each error says what the caller should do.

::

    HeadwaterError
    ├── ApiError                      carries an HTTP status and a stable ``code``
    │   ├── BadRequest        400     malformed JSON, bad gzip, oversize, invalid events (strict)
    │   ├── Unauthorized      401     missing, unknown, expired or revoked key, token or session
    │   ├── Forbidden         403     signed in, but the role may not do this (or CSRF failed)
    │   ├── NotFound          404     the thing asked for does not exist (or is another
    │   │                             workspace's: a workspace one has no role in is unknown)
    │   ├── MethodNotAllowed  405     the route exists, the method does not
    │   ├── Conflict          409     the thing to create exists already
    │   ├── PayloadTooLarge   413     an uploaded file over a configured limit (bytes, rows)
    │   ├── UnsupportedMediaType 415  a body not sent as JSON (Content-Type)
    │   ├── Unprocessable     422     a body of the right type whose content cannot be used
    │   ├── TooManyRequests   429     too many attempts (logins): retry after ``retry_after``
    │   └── Unavailable       503     a dependency (the database) is down: retry later
    └── ConfigurationError            Headwater cannot start as configured
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "HeadwaterError",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "Unprocessable",
    "UnsupportedMediaType",
]


class HeadwaterError(Exception):
    """The root of every error Headwater raises on purpose."""


class ConfigurationError(HeadwaterError):
    """Headwater cannot start as configured; the message says what to change."""


class ApiError(HeadwaterError):
    """An error the HTTP edge turns into a JSON response with ``status``."""

    status: ClassVar[int] = 400

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON body: ``success`` false, a stable ``code`` and a readable ``message``."""
        return {"success": False, "code": self.code, "message": self.message, **self.details}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class Unprocessable(ApiError):
    status = 422


class TooManyRequests(ApiError):
    status = 429


class MethodNotAllowed(ApiError):
    status = 405


class Unavailable(ApiError):
    status = 503
