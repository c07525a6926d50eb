"""One tab's client: the shared transport, the signed-in session, and refresh-on-401, together.

The area modules (``auth``, ``outbound``, ``tokens``, ...) are functions taking a
``DescopeClient``; they say *who* a call is made as, never with what:

* ``as_user="refresh"`` (or ``"session"``): the signed-in user's refresh JWT (or session JWT).
  The JWT is read from the session when the request is sent; after a 401 the client renews the
  session once (``POST /v1/auth/refresh``), keeps the new pair through its ``SessionStore`` and
  sends the request again: ``transport.RenewingAuth``, httpx's ``Auth.auth_flow`` pattern. An
  ended session raises SessionExpired; the caller never sees the JWTs.
* ``management=True``: the dashboard's management key (the admin side), never the session.
* neither: an anonymous call (sign-in, sign-up, OTP).

The session lifecycle is the client's own: ``start`` (a sign-in answer), ``restore`` (a
remembered refresh JWT), ``renew``, ``me`` and ``sign_out``. ``holding`` answers a client
acting as the holder of a refresh JWT it is given (one a person pasted to connect on someone's
behalf); that one is never renewed: it is not this tab's session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from dashboard.descope.errors import SessionExpired, Unauthorized
from dashboard.descope.keys import KeySet
from dashboard.descope.models import AuthResult, User
from dashboard.descope.secret import Secret
from dashboard.descope.session import Session, open_session
from dashboard.descope.transport import Credential, Transport

UserJwt = Literal["refresh", "session"]


class SessionStore(Protocol):
    """Where a client keeps its session (the frame keeps it in the tab's ``st.session_state``)."""

    def get(self) -> Session | None:
        """The signed-in Session, if any."""

    def put(self, session: Session) -> None:
        """Keep ``session`` (a new sign-in, or the same one renewed)."""


class MemorySessions:
    """A SessionStore in memory (scripts, tests)."""

    def __init__(self, session: Session | None = None) -> None:
        self.session = session

    def get(self) -> Session | None:
        """The kept Session."""
        return self.session

    def put(self, session: Session) -> None:
        """Keep ``session``."""
        self.session = session


def _as_session_call(exc: Unauthorized) -> SessionExpired:
    return SessionExpired(status=exc.status, code=exc.code, detail=exc.detail)


class DescopeClient:
    """Calls to one Descope project (or the broker) as this tab's user, or with the key.

    ``keys`` is the project's key set (the JWKS, shared by the process) that verifies every JWT
    the client keeps or is given.
    """

    def __init__(
        self,
        transport: Transport,
        keys: KeySet | None = None,
        sessions: SessionStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._transport = transport
        self.keys = keys or KeySet(transport)
        self._sessions = sessions or MemorySessions()
        self._clock = clock
        self._held: Secret | None = None
        self._holder_id = ""

    # -- who the calls are made as -------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Where every call goes."""
        return self._transport.base_url

    @property
    def project_id(self) -> str:
        """The project every call goes to."""
        return self._transport.project_id

    @property
    def has_management_key(self) -> bool:
        """Whether management calls can be made."""
        return self._transport.has_management_key

    @property
    def session(self) -> Session | None:
        """The signed-in Session (None for a client holding a given refresh JWT)."""
        return None if self._held is not None else self._sessions.get()

    @property
    def holds_given_jwt(self) -> bool:
        """Whether calls go out with a refresh JWT the client was given (see ``holding``)."""
        return self._held is not None

    @property
    def user_id(self) -> str:
        """The id of the user the calls are made as; SessionExpired when signed out."""
        if self._held is not None:
            return self._holder_id
        return self._signed_in().user.user_id

    def holding(self, refresh_jwt: Secret) -> DescopeClient:
        """A client acting as the holder of ``refresh_jwt`` (verified; Unauthorized if not)."""
        claims = self.keys.verify(refresh_jwt.reveal(), drn="DSR")
        other = DescopeClient(self._transport, self.keys, clock=self._clock)
        other._held, other._holder_id = refresh_jwt, str(claims["sub"])
        return other

    def _signed_in(self) -> Session:
        session = self._sessions.get()
        if session is None:
            raise SessionExpired()
        return session

    def _jwt(self, which: UserJwt) -> str:
        if self._held is not None:
            return self._held.reveal()
        session = self._signed_in()
        return (session.refresh_jwt if which == "refresh" else session.session_jwt).reveal()

    def call(
        self,
        method: str,
        path: str,
        *,
        as_user: UserJwt | None = None,
        management: bool = False,
        management_key: Secret | None = None,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | Sequence[str]] | None = None,
    ) -> Any:
        """Send one call (see the module docstring for ``as_user`` and ``management``)."""
        credential = None
        if as_user is not None:
            renew = None if self._held is not None else self.renew
            credential = Credential(lambda: self._jwt(as_user), renew)
        return self._transport.request(
            method,
            path,
            credential=credential,
            management=management,
            management_key=management_key,
            json_body=json_body,
            params=params,
        )

    # -- the session lifecycle -----------------------------------------------------------

    def _with_refresh_jwt(self, method: str, path: str, refresh_jwt: str) -> Any:
        """A call made with a refresh JWT that is not renewed: a 401 means it has ended."""
        body: dict[str, str] | None = {} if method == "POST" else None
        try:
            return self._transport.request(method, path, token=refresh_jwt, json_body=body)
        except Unauthorized as exc:
            raise _as_session_call(exc) from exc

    def start(self, result: AuthResult) -> Session:
        """Verify a sign-in answer and keep it as the session."""
        session = open_session(self.keys, result, now=self._clock())
        self._sessions.put(session)
        return session

    def restore(self, refresh_jwt: Secret) -> Session:
        """Sign in again from a remembered refresh JWT alone (a reload, an OAuth round trip)."""
        jwt = refresh_jwt.reveal()
        try:
            self.keys.verify(jwt, drn="DSR")
        except Unauthorized as exc:
            raise SessionExpired() from exc
        result = AuthResult.from_api(self._with_refresh_jwt("POST", "/v1/auth/refresh", jwt))
        user = result.user or User.from_api(self._with_refresh_jwt("GET", "/v1/auth/me", jwt))
        session = open_session(self.keys, result, now=self._clock(), refresh_jwt=jwt, user=user)
        self._sessions.put(session)
        return session

    def renew(self) -> Session:
        """A new session JWT from the refresh JWT (kept when the answer has none); kept."""
        session = self._signed_in()
        jwt = session.refresh_jwt.reveal()
        result = AuthResult.from_api(self._with_refresh_jwt("POST", "/v1/auth/refresh", jwt))
        fresh = open_session(
            self.keys, result, now=self._clock(), refresh_jwt=jwt, user=session.user
        )
        self._sessions.put(fresh)
        return fresh

    def me(self) -> User:
        """The signed-in user (``/v1/auth/me`` answers a bare UserResponse)."""
        return User.from_api(self._with_refresh_jwt("GET", "/v1/auth/me", self._jwt("refresh")))

    def sign_out(self) -> None:
        """End the sign-in session at the target (SessionExpired when it already has)."""
        self._with_refresh_jwt("POST", "/v1/auth/logout", self._jwt("refresh"))
