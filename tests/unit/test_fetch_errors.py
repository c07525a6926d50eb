"""A refused token fetch is classified the same from the broker's codes and the cloud's."""

from __future__ import annotations

import pytest

from dashboard.descope.errors import ApiError, NotFound, ServerError, Unauthorized
from dashboard.descope.fetch_errors import (
    EXPIRED_FOR_GOOD,
    NEEDS_RECONNECT,
    NOT_CONNECTED,
    PROVIDER_UNAVAILABLE,
    ProviderUnavailable,
    TokenRefused,
    fetch_error,
)


@pytest.mark.parametrize(
    ("error", "kind", "sentence"),
    [
        (NotFound(status=404, code="E111504", detail="No token matches"), NotFound, NOT_CONNECTED),
        # the broker's own code, and the generic one strict mode (the cloud) answers instead
        (NotFound(status=404, code="E111505", detail="x: invalid_grant"), TokenRefused, NEEDS_RECONNECT),
        (NotFound(status=404, code="E011006", detail="x: invalid_grant"), TokenRefused, NEEDS_RECONNECT),
        (NotFound(status=404, code="E011006", detail="x: no_refresh_token"), TokenRefused, EXPIRED_FOR_GOOD),
        (ServerError(status=502, code="E111506"), ProviderUnavailable, PROVIDER_UNAVAILABLE),
        (ServerError(status=502, code="E011000"), ProviderUnavailable, PROVIDER_UNAVAILABLE),
    ],
)  # fmt: skip
def test_refusals_read_alike_whatever_the_code(
    error: ApiError, kind: type[ApiError], sentence: str
) -> None:
    classified = fetch_error(error)
    assert type(classified) is kind
    assert str(classified) == sentence
    assert (classified.status, classified.code) == (error.status, error.code)


def test_other_errors_keep_their_own_meaning() -> None:
    refused_key = Unauthorized(status=401, code="E061005")
    assert fetch_error(refused_key) is refused_key
