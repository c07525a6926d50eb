"""Signing up and in with a password or an email code: the steps behind ``auth_routes``.

Each flow takes the Broker, not the request's session: it runs several transactions of its own
(the user is committed before ``sign_in`` records the session its JWTs name), and its throttles
and hashing slots live outside the database. ``address`` is the caller's, for the throttles.
"""

from __future__ import annotations

from typing import Any

from broker.context import Broker
from broker.errors import Conflict, InvalidArguments
from broker.identity.otp import WrongCode, mask_email, require_delivery, send_code, verify_code
from broker.identity.passwords import (
    InvalidCredentials,
    PasswordExpired,
    hash_password,
    verify_password,
)
from broker.identity.sessions import sign_in
from broker.identity.throttle import hash_slots, throttle_of
from broker.identity.users import create_user, find_user, normalize_login_id
from broker.identity.wire import OtpSignUp, PasswordSignIn, PasswordSignUp, SignUpUser, UserCreate


def _new_user(login_id: str, user: SignUpUser | None, email: str | None = None) -> UserCreate:
    details = user or SignUpUser()
    return UserCreate(
        login_id=login_id,
        email=email or details.email or (login_id if "@" in login_id else None),
        phone=details.phone,
        display_name=details.name,
        given_name=details.given_name,
        middle_name=details.middle_name,
        family_name=details.family_name,
    )


def password_sign_up(broker: Broker, body: PasswordSignUp, address: str) -> dict[str, Any]:
    """Create a user with a password and sign it in (409 E062107 if the login id is taken).

    Throttled per address, and the hash waits for a slot: a flood of sign-ups costs neither
    unbounded memory nor unbounded accounts.
    """
    throttle = throttle_of(broker)
    throttle.take(*throttle.signup_buckets(body.login_id, address))
    password_hash = hash_password(body.password, hash_slots(broker).held())
    with broker.db.session() as s:
        user_id = create_user(
            s, _new_user(body.login_id, body.user), password_hash=password_hash
        ).id
    return sign_in(broker, user_id, ["pwd"])


def password_sign_in(broker: Broker, body: PasswordSignIn, address: str) -> dict[str, Any]:
    """Sign in with a password; failures are throttled per login id and per address."""
    with throttle_of(broker).attempt("pwd", body.login_id, address):
        with broker.db.session() as s:
            user = find_user(s, body.login_id)
            user_id, stored = (user.id, user.password_hash) if user else (None, None)
            expired = bool(user and user.password_expired)
        if not verify_password(stored, body.password, hash_slots(broker).held()) or not user_id:
            raise InvalidCredentials("Invalid login id or password")
        if expired:  # told only to whoever knows the password
            raise PasswordExpired("Password expired; it must be replaced")
        return sign_in(broker, user_id, ["pwd"])


def _count_code_send(broker: Broker, address: str, login_id: str) -> None:
    throttle = throttle_of(broker)
    throttle.take(*throttle.code_buckets(login_id, address))


def _otp_sign_in(broker: Broker, login_id: str) -> dict[str, str]:
    require_delivery(broker)  # before the lookup: the same answer for every login id
    with broker.db.session() as s:
        user = find_user(s, login_id)
        email = user.email if user and user.status == "enabled" else ""
    if not email:
        # Same answer as for a real user, so the endpoint does not reveal which ids exist;
        # no code is issued, and verifying anything for this id fails (and is throttled).
        return {"maskedEmail": mask_email(login_id)}
    return {"maskedEmail": send_code(broker, login_id, email)}


def _otp_sign_up(broker: Broker, body: OtpSignUp) -> dict[str, str]:
    require_delivery(broker)
    login_id = normalize_login_id(body.login_id)
    new_user = _new_user(login_id, body.user, body.email)
    if not new_user.email or "@" not in new_user.email:
        raise InvalidArguments("An email address is required")
    with broker.db.session() as s:
        if find_user(s, login_id) is not None:
            raise Conflict("User already exists", description="User already exists")
    new_user.verified_email = True
    pending = new_user.model_dump(mode="json")
    return {"maskedEmail": send_code(broker, login_id, new_user.email, pending)}


def otp_sign_in(broker: Broker, login_id: str, address: str) -> dict[str, str]:
    """Email a sign-in code to an existing user (501 E061201 when email is not set up); throttled."""
    login_id = normalize_login_id(login_id)
    _count_code_send(broker, address, login_id)
    return _otp_sign_in(broker, login_id)


def otp_sign_up(broker: Broker, body: OtpSignUp, address: str) -> dict[str, str]:
    """Send a sign-up code; the user is created when the code is verified; throttled."""
    _count_code_send(broker, address, normalize_login_id(body.login_id))
    return _otp_sign_up(broker, body)


def otp_sign_up_or_in(broker: Broker, body: OtpSignUp, address: str) -> dict[str, str]:
    """Send a code: a sign-in for a known login id, else a sign-up."""
    login_id = normalize_login_id(body.login_id)
    _count_code_send(broker, address, login_id)
    with broker.db.session() as s:
        known = find_user(s, login_id) is not None
    return _otp_sign_in(broker, login_id) if known else _otp_sign_up(broker, body)


def otp_verify(broker: Broker, login_id: str, code: str, address: str) -> dict[str, Any]:
    """Check a code (single use, few tries, throttled) and sign the user in or up."""
    login_id = normalize_login_id(login_id)
    with throttle_of(broker).attempt("otp", login_id, address):
        verified = verify_code(broker, login_id, code)
    with broker.db.session() as s:
        if verified.pending_user is not None:
            user = create_user(s, UserCreate.model_validate(verified.pending_user))
        else:
            found = find_user(s, login_id)
            if found is None:
                raise WrongCode("Invalid or expired code")
            user = found
        user.verified_email = True
        user_id = user.id
    return sign_in(broker, user_id, ["email"])
