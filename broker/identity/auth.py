"""Who is calling: the Authorization header forms of Descope (reference §1) as FastAPI dependencies.

``Authorization: Bearer <projectId>[:<jwtOrKey>][:<managementKey>]``; the JWT is the second
part, the management key the last part. Browsers may send the refresh JWT as the ``DSR``
cookie and the session JWT as ``DS`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from broker.context import broker_of
from broker.errors import Unauthorized
from broker.identity.sessions import check_session_live
from broker.identity.throttle import management_key_ok


@dataclass(frozen=True)
class Bearer:
    """The parsed Authorization header."""

    project_id: str
    jwt: str | None
    management_key: str | None


def parse_bearer(request: Request) -> Bearer:
    """Split the bearer into project id, JWT and management key; 401 when absent or foreign."""
    return split_bearer(
        request.headers.get("authorization", ""),
        request.headers.get("x-descope-project-id"),
        broker_of(request).project_id,
    )


def split_bearer(header: str, header_pid: str | None, project_id: str) -> Bearer:
    """``parse_bearer`` on the header values themselves (``Authorization`` and
    ``X-Descope-Project-Id``), for this broker's ``project_id``."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        raise Unauthorized("Missing or malformed Authorization header")
    parts = value.strip().split(":")
    if len(parts) > 3 or not parts[0]:
        raise Unauthorized("Malformed Authorization header")
    if parts[0] != project_id:
        raise Unauthorized("Unknown project")
    if header_pid and header_pid != project_id:
        raise Unauthorized("Project id mismatch")
    rest = parts[1:]
    jwt_part: str | None = None
    key_part: str | None = None
    if len(rest) == 2:
        jwt_part, key_part = rest[0] or None, rest[1] or None
    elif len(rest) == 1 and rest[0]:
        # One extra part is either a JWT (three dot-separated segments) or a management key.
        if rest[0].count(".") == 2:
            jwt_part = rest[0]
        else:
            key_part = rest[0]
    return Bearer(project_id=project_id, jwt=jwt_part, management_key=key_part)


async def require_management(request: Request) -> Bearer:
    """A valid management key is required (``pid:key`` or ``pid:jwt:key``).

    A key already known in memory passes on the event loop (an HMAC and a constant-time
    compare); a check that needs the database (reload, counting a wrong key) runs in a thread.
    """
    bearer = parse_bearer(request)
    key = bearer.management_key
    if key and broker_of(request).management_keys.is_known(key):
        return bearer
    return await run_in_threadpool(_checked_management, request, bearer)


def _checked_management(request: Request, bearer: Bearer) -> Bearer:
    if not management_key_ok(request, bearer.management_key):
        raise Unauthorized("Invalid management key")
    return bearer


def require_project(request: Request) -> Bearer:
    """Only the project id is required (sign-in and sign-up endpoints)."""
    return parse_bearer(request)


@dataclass(frozen=True)
class Caller:
    """The identity behind a request that may be a management key or a user's JWT."""

    kind: Literal["management", "user"]
    user_id: str | None
    claims: dict[str, Any]

    @property
    def is_management(self) -> bool:
        """Whether the caller holds a management key."""
        return self.kind == "management"


def _jwt_from(request: Request, bearer: Bearer, cookie: str) -> str:
    token = bearer.jwt or request.cookies.get(cookie)
    if not token:
        raise Unauthorized("Missing token")
    return token


def require_refresh_user(request: Request) -> Caller:
    """A valid, not-logged-out refresh JWT (bearer second part or ``DSR`` cookie)."""
    bearer = parse_bearer(request)
    broker = broker_of(request)
    claims = broker.signing.verify(_jwt_from(request, bearer, "DSR"), drn="DSR")
    check_session_live(broker, claims)
    return Caller(kind="user", user_id=str(claims["sub"]), claims=claims)


def require_session_user(request: Request) -> Caller:
    """A valid session JWT (bearer or ``DS`` cookie); a refresh JWT is accepted too."""
    bearer = parse_bearer(request)
    broker = broker_of(request)
    claims = broker.signing.verify(_jwt_from(request, bearer, "DS"))
    check_session_live(broker, claims)
    return Caller(kind="user", user_id=str(claims["sub"]), claims=claims)


def require_management_or_user(request: Request) -> Caller:
    """A management key, or else a user's refresh JWT (as Descope's outbound widget sends)."""
    bearer = parse_bearer(request)
    if management_key_ok(request, bearer.management_key):
        return Caller(kind="management", user_id=None, claims={})
    if bearer.management_key and not bearer.jwt:
        raise Unauthorized("Invalid management key")
    return require_refresh_user(request)


# Annotated dependencies for route signatures: ``def handler(caller: RefreshUser) -> ...``.
ProjectAuth = Annotated[Bearer, Depends(require_project)]
ManagementAuth = Annotated[Bearer, Depends(require_management)]
RefreshUser = Annotated[Caller, Depends(require_refresh_user)]
SessionUser = Annotated[Caller, Depends(require_session_user)]
ManagementOrUser = Annotated[Caller, Depends(require_management_or_user)]
