"""Token status from the standard fields, with a fixed clock; and the lenient wire parsing it rests on."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboard.descope.parsing import timestamp
from dashboard.descope.tokens import DeleteOutcome, ManagedToken
from dashboard.inventory.status import StatusWindows, TokenStatus, classify, expires_within

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def token(expires_in: timedelta | None = timedelta(hours=30), **fields: Any) -> ManagedToken:
    """A token as the wire would send it, expiring ``expires_in`` after NOW."""
    wire: dict[str, Any] = {
        "id": "OT1",
        "appId": "github",
        "userId": "U1",
        "accessToken": "gho_secret",
        "hasRefreshToken": True,
        "accessTokenExpiry": str(int((NOW + expires_in).timestamp()))
        if expires_in is not None
        else "0",
        **fields,
    }
    return ManagedToken.from_api(wire)


@pytest.mark.parametrize(
    ("expires_in", "fields", "expected"),
    [
        (timedelta(hours=30), {}, TokenStatus.ACTIVE),
        (timedelta(hours=2), {}, TokenStatus.ACTIVE),  # refreshable: not a worry
        (timedelta(minutes=3), {}, TokenStatus.REFRESH_DUE),
        (timedelta(seconds=-1), {}, TokenStatus.EXPIRED),
        (timedelta(0), {}, TokenStatus.EXPIRED),
        (timedelta(hours=30), {"hasRefreshToken": False}, TokenStatus.NO_REFRESH_TOKEN),
        (timedelta(hours=2), {"hasRefreshToken": False}, TokenStatus.EXPIRING_SOON),
        (timedelta(hours=-2), {"hasRefreshToken": False}, TokenStatus.EXPIRED),
        (None, {"hasRefreshToken": False}, TokenStatus.ACTIVE),  # "0": does not expire
        (timedelta(hours=30), {"lastRefreshError": "invalid_grant"}, TokenStatus.REFRESH_FAILED),
        (timedelta(hours=-1), {"lastRefreshError": "503"}, TokenStatus.REFRESH_FAILED),
        (timedelta(hours=30), {"status": "needs_reauth"}, TokenStatus.NEEDS_REAUTH),
        (timedelta(hours=30), {"status": "revoked"}, TokenStatus.REVOKED),
        (timedelta(hours=30), {"status": "refresh_failed"}, TokenStatus.REFRESH_FAILED),
        # The broker's plain statuses add nothing to the standard fields.
        (timedelta(hours=-1), {"status": "active"}, TokenStatus.EXPIRED),
    ],
)
def test_status_follows_the_standard_fields_and_the_richer_extension(
    expires_in: timedelta | None, fields: dict[str, Any], expected: TokenStatus
) -> None:
    assert classify(token(expires_in, **fields), NOW) is expected


def test_windows_are_configurable() -> None:
    short = StatusWindows(expiring_soon=timedelta(hours=1), refresh_margin=timedelta(minutes=30))
    no_refresh = token(timedelta(hours=2), hasRefreshToken=False)

    assert classify(no_refresh, NOW) is TokenStatus.EXPIRING_SOON
    assert classify(no_refresh, NOW, short) is TokenStatus.NO_REFRESH_TOKEN
    assert classify(token(timedelta(minutes=20)), NOW, short) is TokenStatus.REFRESH_DUE


def test_only_active_and_refresh_due_are_healthy() -> None:
    assert {s for s in TokenStatus if s.healthy} == {TokenStatus.ACTIVE, TokenStatus.REFRESH_DUE}
    assert all(s.label and s.meaning and s.colour.startswith("#") for s in TokenStatus)


def test_expires_within_counts_only_valid_tokens() -> None:
    day = timedelta(hours=24)
    assert expires_within(token(timedelta(hours=3)), NOW, day)
    assert not expires_within(token(timedelta(hours=30)), NOW, day)
    assert not expires_within(token(timedelta(hours=-1)), NOW, day)
    assert not expires_within(token(None), NOW, day)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1780315200, datetime(2026, 6, 1, 12, 0, tzinfo=UTC)),
        ("1780315200", datetime(2026, 6, 1, 12, 0, tzinfo=UTC)),
        (1780315200.5, datetime(2026, 6, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        (1780315200000, datetime(2026, 6, 1, 12, 0, tzinfo=UTC)),  # milliseconds
        ("2026-06-01T12:00:00Z", datetime(2026, 6, 1, 12, 0, tzinfo=UTC)),
        ("2026-06-01T14:00:00+02:00", datetime(2026, 6, 1, 12, 0, tzinfo=UTC)),
        ("0", None),
        ("", None),
        (None, None),
        ("soon", None),
        (True, None),
    ],
)
def test_timestamps_are_read_leniently(raw: object, expected: datetime | None) -> None:
    assert timestamp(raw) == expected


def test_a_token_never_shows_its_secrets() -> None:
    parsed = token(refreshToken="refresh-secret", options=None)

    assert "gho_secret" not in repr(parsed)
    assert "refresh-secret" not in repr(parsed)
    assert parsed.access_token.reveal() == "gho_secret"
    stripped = parsed.without_secrets()
    assert not stripped.access_token.reveal() and stripped.refresh_token is None
    assert stripped.id == parsed.id and stripped.scopes == parsed.scopes


def test_delete_outcomes_read_as_one_sentence() -> None:
    revoked = DeleteOutcome.from_api(
        {"revocations": [{"id": "OT1", "accessToken": "revoked", "refreshToken": "revoked"}]}
    )
    failed = DeleteOutcome.from_api(
        {"revocations": [{"id": "OT1", "accessToken": "failed", "refreshToken": "revoked"}]}
    )

    assert revoked.sentence == "Deleted 1 token and revoked it at the provider."
    assert "did not confirm" in failed.sentence
    assert DeleteOutcome.from_api({"revocations": []}).sentence == "There was no token to delete."
    assert "does not report" in DeleteOutcome.from_api({}).sentence


def test_status_colours_are_distinct_at_a_glance() -> None:
    def rgb(colour: str) -> tuple[int, ...]:
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))

    colours = {s: rgb(s.colour) for s in TokenStatus}
    for a, b in itertools.combinations(TokenStatus, 2):
        distance = sum((x - y) ** 2 for x, y in zip(colours[a], colours[b], strict=True)) ** 0.5
        assert distance > 75, (a, b)  # the two near-identical reds were ≈ 36 apart


def test_times_are_local_with_utc_beside() -> None:
    from unittest.mock import patch

    from dashboard.ui.tokens_detail import local_time

    moment = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    with patch("dashboard.ui.tokens_detail.browser_timezone", return_value="Europe/Paris"):
        assert local_time(moment) == "2026-07-01 14:30:00 CEST (12:30 UTC)"
    with patch("dashboard.ui.tokens_detail.browser_timezone", return_value="UTC"):
        assert local_time(moment) == "2026-07-01 12:30:00 UTC"
    assert local_time(None, "never") == "never"
