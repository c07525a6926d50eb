"""Identity calls (reference §0 "Auth and session"): password, email OTP, refresh, logout, me.

Each call turns the generic 401 into what it means there: a wrong password on sign-in, a
wrong code on OTP verify, an ended session on refresh, me and logout.
"""

from __future__ import annotations

from dashboard.descope.errors import SessionExpired, Unauthorized, WrongCode, WrongPassword
from dashboard.descope.models import (
    AuthResult,
    OtpStarted,
    OutboxMessage,
    User,
    parse_outbox,
)
from dashboard.descope.transport import Transport
from dashboard.settings import Secret


def password_sign_in(transport: Transport, login_id: str, password: str) -> AuthResult:
    """Sign in with a login id and password."""
    try:
        data = transport.request(
            "POST",
            "/v1/auth/password/signin",
            json_body={"loginId": login_id, "password": password},
        )
    except Unauthorized as exc:
        raise WrongPassword(status=exc.status, code=exc.code, detail=exc.detail) from exc
    return AuthResult.from_api(data)


def password_sign_up(
    transport: Transport, login_id: str, password: str, *, name: str = "", email: str = ""
) -> AuthResult:
    """Create an account with a password and sign it in."""
    user = {k: v for k, v in {"name": name, "email": email}.items() if v}
    data = transport.request(
        "POST",
        "/v1/auth/password/signup",
        json_body={"loginId": login_id, "password": password, "user": user},
    )
    return AuthResult.from_api(data)


def otp_start(transport: Transport, login_id: str) -> OtpStarted:
    """Send a one-time code to the email of ``login_id``."""
    data = transport.request(
        "POST", "/v1/auth/otp/signin/email", json_body={"loginId": login_id, "loginOptions": {}}
    )
    return OtpStarted.from_api(data)


def otp_verify(transport: Transport, login_id: str, code: str) -> AuthResult:
    """Exchange the emailed code for a session."""
    try:
        data = transport.request(
            "POST", "/v1/auth/otp/verify/email", json_body={"loginId": login_id, "code": code}
        )
    except WrongCode:
        raise
    except Unauthorized as exc:
        raise WrongCode(status=exc.status, code=exc.code, detail=exc.detail) from exc
    return AuthResult.from_api(data)


def read_outbox(
    transport: Transport, login_id: str, management_key: Secret
) -> tuple[OutboxMessage, ...]:
    """The demo broker's outbox for ``login_id``, opened with the key the person typed.

    An extension of the embedded broker in demo mode; never the dashboard's own key, so the
    sign-in page cannot read anyone's code for a stranger (docs/security.md).
    """
    data = transport.request(
        "GET", "/v1/x/outbox", management_key=management_key, params={"loginId": login_id}
    )
    return parse_outbox(data)


def _as_session_call(exc: Unauthorized) -> SessionExpired:
    return SessionExpired(status=exc.status, code=exc.code, detail=exc.detail)


def refresh(transport: Transport, refresh_jwt: str) -> AuthResult:
    """A new session JWT for a refresh JWT; ``refresh_jwt`` of the result may be None."""
    try:
        data = transport.request("POST", "/v1/auth/refresh", token=refresh_jwt, json_body={})
    except Unauthorized as exc:
        raise _as_session_call(exc) from exc
    return AuthResult.from_api(data)


def logout(transport: Transport, refresh_jwt: str) -> None:
    """End the sign-in session of ``refresh_jwt``."""
    try:
        transport.request("POST", "/v1/auth/logout", token=refresh_jwt, json_body={})
    except Unauthorized as exc:
        raise _as_session_call(exc) from exc


def me(transport: Transport, refresh_jwt: str) -> User:
    """The signed-in user (``/v1/auth/me`` answers a bare UserResponse)."""
    try:
        data = transport.request("GET", "/v1/auth/me", token=refresh_jwt)
    except Unauthorized as exc:
        raise _as_session_call(exc) from exc
    return User.from_api(data)
