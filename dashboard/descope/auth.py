"""Sign-in calls (reference §0 "Auth and session"): password, email OTP, the demo outbox.

Each call turns the generic 401 into what it means there: a wrong password on sign-in, a
wrong code on OTP verify. Refresh, me and logout belong to the session the client owns
(``DescopeClient.renew``, ``.me``, ``.sign_out``).
"""

from __future__ import annotations

from dashboard.descope.client import DescopeClient
from dashboard.descope.errors import Unauthorized, WrongCode, WrongPassword
from dashboard.descope.models import (
    AuthResult,
    OtpStarted,
    OutboxMessage,
    parse_outbox,
)
from dashboard.descope.secret import Secret


def password_sign_in(client: DescopeClient, login_id: str, password: str) -> AuthResult:
    """Sign in with a login id and password."""
    try:
        data = client.call(
            "POST",
            "/v1/auth/password/signin",
            json_body={"loginId": login_id, "password": password},
        )
    except Unauthorized as exc:
        raise WrongPassword(status=exc.status, code=exc.code, detail=exc.detail) from exc
    return AuthResult.from_api(data)


def password_sign_up(
    client: DescopeClient, login_id: str, password: str, *, name: str = "", email: str = ""
) -> AuthResult:
    """Create an account with a password and sign it in."""
    user = {k: v for k, v in {"name": name, "email": email}.items() if v}
    data = client.call(
        "POST",
        "/v1/auth/password/signup",
        json_body={"loginId": login_id, "password": password, "user": user},
    )
    return AuthResult.from_api(data)


def otp_start(client: DescopeClient, login_id: str) -> OtpStarted:
    """Send a one-time code to the email of ``login_id``."""
    data = client.call(
        "POST", "/v1/auth/otp/signin/email", json_body={"loginId": login_id, "loginOptions": {}}
    )
    return OtpStarted.from_api(data)


def otp_verify(client: DescopeClient, login_id: str, code: str) -> AuthResult:
    """Exchange the emailed code for a session."""
    try:
        data = client.call(
            "POST", "/v1/auth/otp/verify/email", json_body={"loginId": login_id, "code": code}
        )
    except WrongCode:
        raise
    except Unauthorized as exc:
        raise WrongCode(status=exc.status, code=exc.code, detail=exc.detail) from exc
    return AuthResult.from_api(data)


def read_outbox(
    client: DescopeClient, login_id: str, management_key: Secret
) -> tuple[OutboxMessage, ...]:
    """The demo broker's outbox for ``login_id``, opened with the key the person typed.

    An extension of the embedded broker in demo mode; never the dashboard's own key, so the
    sign-in page cannot read anyone's code for a stranger (docs/security.md).
    """
    data = client.call(
        "GET", "/v1/x/outbox", management_key=management_key, params={"loginId": login_id}
    )
    return parse_outbox(data)
