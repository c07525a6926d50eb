"""Errors the broker answers with, in Descope's wire shape.

Every error leaves the broker as HTTP ``status`` with the JSON body
``{"errorCode", "errorDescription", "errorMessage"}`` (shared/reference/descope-api.md §6).
The tree, by HTTP status::

    DescopeError                      any status; code/description/message set by the raiser
    ├── BadRequest                    400  E011001 bad request (malformed JSON too)
    │   ├── MissingArguments          400  E011002
    │   ├── ValidationFailed          400  E011003
    │   └── InvalidArguments          400  E011004
    ├── Unauthorized                  401  E061005 invalid token / credentials
    │   └── TokenExpiredByLogout      401  E064001
    ├── Forbidden                     403  E011007
    ├── NotFound                      404  E011006 (endpoint), or a domain code
    │   ├── UserNotFound              404  E062108 (auth) / E112102 (management)
    │   ├── TokenNotFound             404  E111504 (outbound token not found)
    │   └── FlowNotFound              404  E111520 (no connect of the caller's matches; extension)
    ├── ReconnectLinkRefused          400/403  E111510–E111513 (extension: unknown, used,
    │                                     expired, another account's)
    ├── Conflict                      409  E062107 (user already exists) or a domain code
    ├── PayloadTooLarge               413  E011008
    ├── RateLimited                   429  E130429, with Retry-After seconds
    ├── EmailNotConfigured            501  E061201 no SMTP server and not in demo mode
    ├── EmailNotSent                  502  E061202 the SMTP server refused or could not be reached
    └── ServiceUnavailable            503  E011009 (never for deterministic errors: SDKs retry 503)
"""

from __future__ import annotations

from typing import Any


class DescopeError(Exception):
    """An error with an HTTP status and a Descope error body."""

    status = 500
    code = "E011000"
    description = "Server error"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        description: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message or self.description)
        self.message = message or self.description
        if code is not None:
            self.code = code
        if description is not None:
            self.description = description
        if status is not None:
            self.status = status

    def body(self) -> dict[str, Any]:
        """The JSON error body Descope clients parse."""
        return {
            "errorCode": self.code,
            "errorDescription": self.description,
            "errorMessage": self.message,
            "message": self.message,
        }

    def headers(self) -> dict[str, str]:
        """Extra response headers (Retry-After for throttling)."""
        return {}


class BadRequest(DescopeError):
    """The request could not be understood (400)."""

    status = 400
    code = "E011001"
    description = "Bad request"


class MissingArguments(BadRequest):
    """A required argument is missing (400)."""

    code = "E011002"
    description = "Missing arguments"


class ValidationFailed(BadRequest):
    """The request failed validation (400)."""

    code = "E011003"
    description = "Request is invalid"


class InvalidArguments(BadRequest):
    """An argument has an invalid value (400)."""

    code = "E011004"
    description = "Invalid arguments"


class Unauthorized(DescopeError):
    """Credentials are missing, forged, expired or for another project (401)."""

    status = 401
    code = "E061005"
    description = "Unauthorized"


class TokenExpiredByLogout(Unauthorized):
    """The refresh token was revoked by a logout (401)."""

    code = "E064001"
    description = "Token expired by logout"


class Forbidden(DescopeError):
    """The caller is known but not allowed to do this (403)."""

    status = 403
    code = "E011007"
    description = "Forbidden"


class NotFound(DescopeError):
    """The thing asked for does not exist (404)."""

    status = 404
    code = "E011006"
    description = "Not found"


class UserNotFound(NotFound):
    """No such user (404)."""

    code = "E062108"
    description = "User not found"


class TokenNotFound(NotFound):
    """No outbound token matches (404 E111504, as Descope answers "not connected")."""

    code = "E111504"
    description = "Outbound app token not found"


class FlowNotFound(NotFound):
    """No connect flow of the caller matches (404, an extension's code)."""

    code = "E111520"
    description = "Connect flow not found"


class ReconnectLinkRefused(DescopeError):
    """A reconnect link that cannot be used; the code says why (an extension's codes)."""

    UNKNOWN, USED, EXPIRED, FOREIGN = "E111510", "E111511", "E111512", "E111513"
    status = 400
    description = "Reconnect link refused"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code, status=403 if code == self.FOREIGN else 400)


class Conflict(DescopeError):
    """The thing already exists (409)."""

    status = 409
    code = "E062107"
    description = "Already exists"


class PayloadTooLarge(DescopeError):
    """The request body is over the size limit (413)."""

    status = 413
    code = "E011008"
    description = "Request body too large"


class RateLimited(DescopeError):
    """Too many requests; retry after ``retry_after`` seconds (429)."""

    status = 429
    code = "E130429"
    description = "https://docs.descope.com/rate-limit"

    def __init__(self, retry_after: int, message: str = "API rate limit exceeded.") -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        """Retry-After in whole seconds, as the SDKs read it."""
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(DescopeError):
    """A dependency is down (503). Only for genuinely transient conditions: SDKs retry 503."""

    status = 503
    code = "E011009"
    description = "Service unavailable"


class EmailNotConfigured(DescopeError):
    """Email codes cannot reach anyone: no ``OUTBOUND_SMTP_URL`` and not in demo mode (501)."""

    status = 501
    code = "E061201"
    description = "Email delivery is not configured"


class EmailNotSent(DescopeError):
    """The SMTP server refused the message or could not be reached; no code is live (502)."""

    status = 502
    code = "E061202"
    description = "The email could not be sent"
