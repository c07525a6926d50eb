"""Errors the broker answers with, in Descope's wire shape.

Every error leaves the broker as HTTP ``status`` with the JSON body
``{"errorCode", "errorDescription", "errorMessage"}`` (shared/reference/descope-api.md §6).
The tree, by HTTP status::

    DescopeError                      any status; code/description/message set by the raiser
    ├── BadRequest                    400  E011001 bad request (malformed JSON too)
    │   ├── MissingArguments          400  E011002
    │   ├── ValidationFailed          400  E011003
    │   ├── InvalidArguments          400  E011004
    │   └── ProxyRefused              400  E113101 (a proxied call the broker will not make)
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
    ├── ProxyUpstreamError            502  E113102 (provider unreachable or redirected off-base)
    └── ServiceUnavailable            503  E011009 (never for deterministic errors: SDKs retry 503)
"""

from __future__ import annotations

from typing import Any

# Every error code the broker answers, by name: the only place a code is spelled out. Descope's
# own codes (reference §6) where it has one; E1115xx and E113xxx are this broker's extensions.
SERVER_ERROR = "E011000"
BAD_REQUEST = "E011001"
MISSING_ARGUMENTS = "E011002"
VALIDATION_FAILED = "E011003"  # also a tenant name or id already taken
INVALID_ARGUMENTS = "E011004"
METHOD_NOT_ALLOWED = "E011005"
NOT_FOUND = "E011006"
FORBIDDEN = "E011007"
PAYLOAD_TOO_LARGE = "E011008"
SERVICE_UNAVAILABLE = "E011009"
UNAUTHORIZED = "E061005"
WRONG_OTP_CODE = "E061102"
TOO_MANY_OTP_ATTEMPTS = "E061103"
EMAIL_NOT_CONFIGURED = "E061201"
EMAIL_NOT_SENT = "E061202"
USER_EXISTS = "E062107"
USER_NOT_FOUND = "E062108"  # and invalid credentials: one answer for both
ENCHANTED_LINK_PENDING = "E062503"  # attested by Descope (strict mode keeps it); not raised
PASSWORD_EXPIRED = "E062909"
TOKEN_EXPIRED_BY_LOGOUT = "E064001"
NOTP_UNAUTHORIZED = "E066103"  # attested by Descope (strict mode keeps it); not raised
APP_NOT_FOUND = "E111501"  # an outbound app or app template
TOKEN_NOT_FOUND = "E111504"  # Descope's "not connected"
NEEDS_REAUTHORIZATION = "E111505"
PROVIDER_UNAVAILABLE = "E111506"
REFRESH_MISCONFIGURED = "E111507"
RECONNECT_LINK_UNKNOWN = "E111510"
RECONNECT_LINK_USED = "E111511"
RECONNECT_LINK_EXPIRED = "E111512"
RECONNECT_LINK_FOREIGN = "E111513"
FLOW_NOT_FOUND = "E111520"
MANAGEMENT_USER_NOT_FOUND = "E112102"
ACCESS_KEY_NOT_FOUND = "E113001"
PROXY_REFUSED = "E113101"
PROXY_UPSTREAM_ERROR = "E113102"
RATE_LIMITED = "E130429"
# Descope's generic request family, E011000 to E011009.
GENERIC_CODES = frozenset(
    {SERVER_ERROR, BAD_REQUEST, MISSING_ARGUMENTS, VALIDATION_FAILED, INVALID_ARGUMENTS}
    | {METHOD_NOT_ALLOWED, NOT_FOUND, FORBIDDEN, PAYLOAD_TOO_LARGE, SERVICE_UNAVAILABLE}
)


class DescopeError(Exception):
    """An error with an HTTP status and a Descope error body."""

    status = 500
    code = SERVER_ERROR
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
    code = BAD_REQUEST
    description = "Bad request"


class MissingArguments(BadRequest):
    """A required argument is missing (400)."""

    code = MISSING_ARGUMENTS
    description = "Missing arguments"


class ValidationFailed(BadRequest):
    """The request failed validation (400)."""

    code = VALIDATION_FAILED
    description = "Request is invalid"


class InvalidArguments(BadRequest):
    """An argument has an invalid value (400)."""

    code = INVALID_ARGUMENTS
    description = "Invalid arguments"


class Unauthorized(DescopeError):
    """Credentials are missing, forged, expired or for another project (401)."""

    status = 401
    code = UNAUTHORIZED
    description = "Unauthorized"


class TokenExpiredByLogout(Unauthorized):
    """The refresh token was revoked by a logout (401)."""

    code = TOKEN_EXPIRED_BY_LOGOUT
    description = "Token expired by logout"


class Forbidden(DescopeError):
    """The caller is known but not allowed to do this (403)."""

    status = 403
    code = FORBIDDEN
    description = "Forbidden"


class NotFound(DescopeError):
    """The thing asked for does not exist (404)."""

    status = 404
    code = NOT_FOUND
    description = "Not found"


class UserNotFound(NotFound):
    """No such user (404)."""

    code = USER_NOT_FOUND
    description = "User not found"


class TokenNotFound(NotFound):
    """No outbound token matches (404 E111504, as Descope answers "not connected")."""

    code = TOKEN_NOT_FOUND
    description = "Outbound app token not found"


class FlowNotFound(NotFound):
    """No connect flow of the caller matches (404, an extension's code)."""

    code = FLOW_NOT_FOUND
    description = "Connect flow not found"


class ReconnectLinkRefused(DescopeError):
    """A reconnect link that cannot be used; the code says why (an extension's codes)."""

    UNKNOWN, USED = RECONNECT_LINK_UNKNOWN, RECONNECT_LINK_USED
    EXPIRED, FOREIGN = RECONNECT_LINK_EXPIRED, RECONNECT_LINK_FOREIGN
    status = 400
    description = "Reconnect link refused"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code, status=403 if code == self.FOREIGN else 400)


class Conflict(DescopeError):
    """The thing already exists (409)."""

    status = 409
    code = USER_EXISTS
    description = "Already exists"


class PayloadTooLarge(DescopeError):
    """The request body is over the size limit (413)."""

    status = 413
    code = PAYLOAD_TOO_LARGE
    description = "Request body too large"


class RateLimited(DescopeError):
    """Too many requests; retry after ``retry_after`` seconds (429)."""

    status = 429
    code = RATE_LIMITED
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
    code = SERVICE_UNAVAILABLE
    description = "Service unavailable"


class EmailNotConfigured(DescopeError):
    """Email codes cannot reach anyone: no ``OUTBOUND_SMTP_URL`` and not in demo mode (501)."""

    status = 501
    code = EMAIL_NOT_CONFIGURED
    description = "Email delivery is not configured"


class EmailNotSent(DescopeError):
    """The SMTP server refused the message or could not be reached; no code is live (502)."""

    status = 502
    code = EMAIL_NOT_SENT
    description = "The email could not be sent"


class ProxyRefused(BadRequest):
    """A proxied call the broker will not make: host, method, header or path not allowed (400)."""

    code = PROXY_REFUSED
    description = "Proxy request refused"


class ProxyUpstreamError(DescopeError):
    """The provider could not be reached, timed out, or redirected off its API base (502)."""

    status = 502
    code = PROXY_UPSTREAM_ERROR
    description = "Provider call failed"
