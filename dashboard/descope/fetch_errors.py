"""What a refused token fetch means (reference §6): not connected, refused, provider down.

Descope documents one fetch error, ``E111504`` "not found". A fetch it refuses otherwise (the
broker's ``E111505``, the cloud's undocumented codes) is a token that exists but cannot be
handed out, which only a new connect heals; a 5xx is a provider that could not refresh it now.
Both keep the service's own text in ``detail``, which tells an expired token with nothing to
renew it from a grant the provider refused.
"""

from __future__ import annotations

from dashboard.descope.errors import ApiError, NotFound, ServerError

NOT_CONNECTED = "No token is stored for that connection: the user has to connect the app first."
NEEDS_RECONNECT = "The provider no longer accepts this connection: the user has to connect again."
EXPIRED_FOR_GOOD = (
    "The token has expired and nothing can renew it (no refresh token): the user has to connect"
    " again."
)
PROVIDER_UNAVAILABLE = "The provider could not refresh this token just now; try again in a moment."
_NOT_FOUND_CODE = "E111504"
_EXPIRY_HINTS = ("no_refresh_token", "no refresh token", "expired")


class TokenRefused(NotFound):
    """A token is stored but the service will not hand it out: only a new connect heals it."""

    sentence = NEEDS_RECONNECT

    def __init__(self, exc: ApiError) -> None:
        self.expired = any(h in exc.detail.lower() for h in _EXPIRY_HINTS)
        sentence = EXPIRED_FOR_GOOD if self.expired else NEEDS_RECONNECT
        super().__init__(sentence, status=exc.status, code=exc.code, detail=exc.detail)


class ProviderUnavailable(ServerError):
    """The token is stored, but the provider could not refresh it just now (transient)."""

    sentence = PROVIDER_UNAVAILABLE


def fetch_error(exc: ApiError) -> ApiError:
    """What a failed token fetch means: not connected, refused (reconnect), provider down."""
    if isinstance(exc, NotFound) and exc.code == _NOT_FOUND_CODE:
        return NotFound(NOT_CONNECTED, status=exc.status, code=exc.code, detail=exc.detail)
    if isinstance(exc, NotFound):
        return TokenRefused(exc)
    if isinstance(exc, ServerError) and exc.status >= 500:
        return ProviderUnavailable(status=exc.status, code=exc.code, detail=exc.detail)
    return exc
