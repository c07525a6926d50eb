"""The OAuth endpoints: metadata (RFC 8414), authorize (consent page), token, revoke, introspect.

Token-endpoint faults that replace the answer (latency, ``token_status``, ``garbage_json``,
``refresh_error``) act before the grant is processed, so nothing is consumed or rotated;
``lost_response`` processes it (code used, refresh token rotated) and then answers 502, the
"rotation whose response was lost" case; ``wrong_content_type`` serves the real answer under
``text/html``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import URL, FormData

from broker.demo_provider.context import DemoProvider, provider_of
from broker.demo_provider.directory import DEFAULT_USER, SCOPES, sign_in, user_by_email
from broker.demo_provider.grants import Approval
from broker.demo_provider.pages import consent_page, error_page
from broker.demo_provider.server import FormRequest
from broker.demo_provider.state import SECRET_METHODS

router = APIRouter()

AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "login_hint",
)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
START_AGAIN = (
    "Go back to the dashboard and press Connect on the app again: it makes a new sign-in link."
)


def server_metadata(issuer: str) -> dict[str, Any]:
    """RFC 8414 authorization server metadata."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "jwks_uri": f"{issuer}/oauth/jwks",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "authorization_response_iss_parameter_supported": True,
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": list(SECRET_METHODS),
        "revocation_endpoint_auth_methods_supported": [*SECRET_METHODS, "none"],
        "introspection_endpoint_auth_methods_supported": list(SECRET_METHODS),
    }


@router.get("/.well-known/oauth-authorization-server")
@router.get("/.well-known/openid-configuration")
def metadata(request: Request) -> dict[str, Any]:
    """The provider's metadata, under both well-known names."""
    return server_metadata(provider_of(request).issuer)


@router.get("/oauth/jwks")
def jwks(request: Request) -> dict[str, Any]:
    """The public key that verifies access tokens."""
    return {"keys": [provider_of(request).server.signer.jwk]}


def _str_items(form: FormData) -> list[tuple[str, str]]:
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def _with_iss(provider: DemoProvider, response: Response) -> Response:
    """An authorization response carries the issuer (RFC 9207 §2), success and error alike."""
    location = response.headers.get("location")
    if response.status_code in (302, 303) and location:
        response.headers["location"] = str(URL(location).include_query_params(iss=provider.issuer))
    return response


def _authorization_failure(provider: DemoProvider, request: Any, error: OAuth2Error) -> Response:
    """Back to the client when its redirect URI is verified (RFC 6749 §4.1.2.1), else a page."""
    if getattr(error, "redirect_uri", None):
        return _with_iss(provider, provider.server.handle_error_response(request, error))
    return HTMLResponse(
        error_page(
            "This sign-in link is not valid",
            error.description or error.error,
            START_AGAIN,
        ),
        status_code=error.status_code,
    )


def _consent(
    provider: DemoProvider, oauth: FormRequest, grant: Any, error: str | None = None
) -> HTMLResponse:
    params = {k: v for k, v in oauth.payload.data.items() if k in AUTHORIZE_PARAMS}
    client = provider.server.state.client(oauth.payload.client_id)
    return HTMLResponse(
        consent_page(
            (client.client_name if client else "") or oauth.payload.client_id,
            grant.request.scope.split(),
            params,
            login_hint=params.get("login_hint", ""),
            error=error,
        ),
        status_code=401 if error else 200,
        headers={**NO_STORE, "X-Frame-Options": "DENY"},
    )


@router.get("/oauth/authorize")
def authorize_page(request: Request) -> Response:
    """Validate the request, then show sign-in + consent (or, with auto-approve, answer a code)."""
    provider = provider_of(request)
    oauth: FormRequest | None = None
    try:
        oauth = FormRequest(
            "GET", str(request.url), request.headers, query=request.query_params.multi_items()
        )
        grant = provider.server.get_consent_grant(oauth)
    except OAuth2Error as error:
        return _authorization_failure(provider, oauth, error)
    if not provider.auto_approve:
        return _consent(provider, oauth, grant)
    user = user_by_email(oauth.payload.data.get("login_hint", "")) or DEFAULT_USER
    provider.server.stats.event("approvals")
    approved: Response = provider.server.create_authorization_response(
        oauth, grant_user=Approval(user), grant=grant
    )
    return _with_iss(provider, approved)


@router.post("/oauth/authorize")
async def authorize_decision(request: Request) -> Response:
    """The consent form: ``decision=approve`` with credentials and ticked scopes, or ``deny``."""
    provider = provider_of(request)
    form = await request.form()
    oauth: FormRequest | None = None
    try:
        params = [(k, v) for k, v in _str_items(form) if k in AUTHORIZE_PARAMS]
        oauth = FormRequest("POST", str(request.url), request.headers, form=params)
        grant = provider.server.get_consent_grant(oauth)
    except OAuth2Error as error:
        return _authorization_failure(provider, oauth, error)
    server = provider.server
    request_id = (oauth.payload.client_id, str(form.get("state", "")))
    if provider.answered.seen(*request_id):
        return HTMLResponse(
            error_page(
                "You already answered this request",
                "This page was sent once already (perhaps after going Back), and a sign-in"
                " link works only once.",
                "Go back to the dashboard: its tab shows whether the connection was made. To"
                " connect again, press Connect there for a new link.",
            ),
            status_code=409,
            headers=NO_STORE,
        )
    if form.get("decision") != "approve":
        provider.answered.mark(*request_id)
        server.stats.event("denials")
        denied: Response = server.create_authorization_response(oauth, grant_user=None, grant=grant)
        return _with_iss(provider, denied)
    user = sign_in(str(form.get("email", "")), str(form.get("password", "")))
    if user is None:
        return _consent(provider, oauth, grant, "That email and password do not match an account.")
    chosen = tuple(v for v in form.getlist("grant_scope") if isinstance(v, str))
    if not chosen:
        return _consent(provider, oauth, grant, "Tick at least one permission, or choose Deny.")
    provider.answered.mark(*request_id)
    server.stats.event("approvals")
    approved: Response = server.create_authorization_response(
        oauth, grant_user=Approval(user, chosen), grant=grant
    )
    return _with_iss(provider, approved)


def _oauth_error(status: int, error: str, description: str, **headers: str) -> JSONResponse:
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **headers})


def _token_fault(provider: DemoProvider, grant_type: str) -> tuple[str, Response] | None:
    """A fault that replaces the token endpoint's answer, with the outcome name for stats."""
    faults = provider.server.faults
    status = faults.take("token_status")
    if status is not None:
        retry = {"Retry-After": str(faults.peek("retry_after_s") or 1)}
        if status == 429:
            return "status_429", _oauth_error(429, "slow_down", "Too many requests.", **retry)
        extra = retry if status == 503 else {}
        return f"status_{status}", _oauth_error(
            status, "temporarily_unavailable", "The server is having trouble.", **extra
        )
    if faults.take("garbage_json"):
        return "garbage_json", Response(
            '{"access_token": "eyJ', media_type="application/json", headers=NO_STORE
        )
    if grant_type == "refresh_token":
        error = faults.take("refresh_error")
        if error is not None:
            code = 401 if error == "invalid_client" else 400
            return error, _oauth_error(code, error, "Refused by fault switch.")
    return None


@router.post("/oauth/token")
async def token(request: Request) -> Response:
    """RFC 6749 §3.2 token endpoint (authorization_code, refresh_token), with fault switches."""
    provider = provider_of(request)
    server = provider.server
    form = await request.form()
    grant_type = str(form.get("grant_type") or "none")
    latency = server.faults.take("latency_ms")
    if latency:
        await asyncio.sleep(latency / 1000)
        if await request.is_disconnected():
            # The client gave up while we were slow: drop the request unprocessed (no code
            # spent, no token rotated), so a slow provider is distinguishable from a lost
            # response (the ``lost_response`` fault models a request processed, answer lost).
            server.stats.token_call(grant_type, "client_gone")
            return Response(status_code=499)
    fault = _token_fault(provider, grant_type)
    if fault is not None:
        outcome, response = fault
    else:
        try:
            oauth = FormRequest("POST", str(request.url), request.headers, form=_str_items(form))
            response = server.create_token_response(oauth)
        except OAuth2Error as error:
            response = server.handle_error_response(None, error)
        outcome = "ok"
        if response.status_code != 200:
            outcome = json.loads(response.body).get("error", f"status_{response.status_code}")
        elif server.faults.take("lost_response"):
            outcome = "lost_response"
            response = _oauth_error(502, "temporarily_unavailable", "Bad gateway.")
        elif server.faults.take("wrong_content_type"):
            response.headers["content-type"] = "text/html; charset=utf-8"
    server.stats.token_call(grant_type, outcome)
    return response


@router.post("/oauth/revoke")
async def revoke(request: Request) -> Response:
    """RFC 7009 revocation of an access or refresh token (the whole grant ends)."""
    return await _token_endpoint(request, "revocation", "revocations")


@router.post("/oauth/introspect")
async def introspect(request: Request) -> Response:
    """RFC 7662 introspection, for the client the token was issued to."""
    return await _token_endpoint(request, "introspection", "introspections")


async def _token_endpoint(request: Request, endpoint: str, counter: str) -> Response:
    server = provider_of(request).server
    server.stats.event(counter)
    form = await request.form()
    try:
        oauth = FormRequest("POST", str(request.url), request.headers, form=_str_items(form))
    except OAuth2Error as error:
        failed: Response = server.handle_error_response(None, error)
        return failed
    response: Response = server.create_endpoint_response(endpoint, oauth)
    return response
