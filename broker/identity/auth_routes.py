"""Descope auth endpoints for signing in: password sign-up/in, email OTP, and the JWKS.

Handlers call the flows in ``sign_in_flows`` with the caller's address (for the throttles).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from broker.context import broker_of
from broker.identity import sign_in_flows
from broker.identity.auth import ProjectAuth
from broker.identity.throttle import client_address
from broker.identity.wire import OtpSignIn, OtpSignUp, OtpVerify, PasswordSignIn, PasswordSignUp

router = APIRouter(tags=["auth"])


@router.get("/v2/keys/{project_id}")
def jwks(project_id: str, request: Request) -> dict[str, Any]:
    """The project's public signing keys (RS256 JWKs with kid and alg)."""
    broker = broker_of(request)
    if project_id != broker.project_id:
        return {"keys": []}
    return broker.signing.jwks()


@router.post("/v1/auth/password/signup")
def password_sign_up(body: PasswordSignUp, request: Request, _: ProjectAuth) -> dict[str, Any]:
    """Create a user with a password and sign it in (409 E062107 if the login id is taken)."""
    return sign_in_flows.password_sign_up(broker_of(request), body, client_address(request))


@router.post("/v1/auth/password/signin")
def password_sign_in(body: PasswordSignIn, request: Request, _: ProjectAuth) -> dict[str, Any]:
    """Sign in with a password; failures are throttled per login id and per address."""
    return sign_in_flows.password_sign_in(broker_of(request), body, client_address(request))


@router.post("/v1/auth/otp/signin/email")
def otp_sign_in(body: OtpSignIn, request: Request, _: ProjectAuth) -> dict[str, str]:
    """Email a sign-in code to an existing user (501 E061201 when email is not set up); throttled."""
    return sign_in_flows.otp_sign_in(broker_of(request), body.login_id, client_address(request))


@router.post("/v1/auth/otp/signup/email")
def otp_sign_up(body: OtpSignUp, request: Request, _: ProjectAuth) -> dict[str, str]:
    """Send a sign-up code; the user is created when the code is verified; throttled."""
    return sign_in_flows.otp_sign_up(broker_of(request), body, client_address(request))


@router.post("/v1/auth/otp/signup-in/email")
def otp_sign_up_or_in(body: OtpSignUp, request: Request, _: ProjectAuth) -> dict[str, str]:
    """Send a code: a sign-in for a known login id, else a sign-up."""
    return sign_in_flows.otp_sign_up_or_in(broker_of(request), body, client_address(request))


@router.post("/v1/auth/otp/verify/email")
def otp_verify(body: OtpVerify, request: Request, _: ProjectAuth) -> dict[str, Any]:
    """Check a code (single use, few tries, throttled) and sign the user in or up."""
    return sign_in_flows.otp_verify(
        broker_of(request), body.login_id, body.code, client_address(request)
    )
