"""The one place the dashboard speaks HTTP: Descope's headers, bearer, JSON and error mapping.

One pooled ``httpx.Client`` per target is shared by every Streamlit session (httpx documents
``Client`` as safe to share between threads). Nothing per user is ever set on it: the bearer is
composed per request (reference §1.1: ``Bearer <projectId>[:<jwt>][:<managementKey>]``) and
cookies are neither kept nor sent. Area modules call the client (``client.py``), which calls
``Transport.request``; neither sees httpx.

A user call's JWT is a ``Credential``: where the JWT comes from and how to renew it. It is sent
through ``RenewingAuth``, an ``httpx.Auth`` whose ``auth_flow`` adds the bearer, and on a 401
renews the credential once and sends the request again (httpx's documented refresh pattern).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from dashboard.descope.errors import (
    AlreadyExists,
    ApiError,
    BadRequest,
    EmailNotConfigured,
    EmailNotSent,
    NotAllowed,
    NotFound,
    ServerError,
    Throttled,
    Unauthorized,
    UnknownUser,
    Unreachable,
    WrongCode,
)
from dashboard.descope.secret import Secret

SDK_NAME = "outbound-dashboard"
SDK_VERSION = "0.1.0"
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_WAIT_S = 5.0

log = logging.getLogger(__name__)

_BY_CODE: dict[str, type[ApiError]] = {
    "E062108": UnknownUser,
    "E112102": UnknownUser,
    "E061102": WrongCode,
    "E062107": AlreadyExists,
    "E061201": EmailNotConfigured,
    "E061202": EmailNotSent,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: NotAllowed,
    404: NotFound,
    409: AlreadyExists,
}


def _retry_after(response: httpx.Response) -> int:
    raw = response.headers.get("retry-after", "")
    try:
        return max(1, int(float(raw)))
    except ValueError:
        return 1


def error_for(response: httpx.Response) -> ApiError:
    """The typed error for a non-2xx answer (by Descope error code first, then by status)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = str(body.get("errorCode") or "")
    # Descope's description is generic ("Invalid arguments"); its message says which one.
    parts = (str(body.get("errorDescription") or ""), str(body.get("errorMessage") or ""))
    detail = ": ".join(dict.fromkeys(p for p in parts if p))[:200]
    status = response.status_code
    if status == 429:
        return Throttled(_retry_after(response), code=code or "E130429", detail=detail)
    kind = _BY_CODE.get(code)
    if kind is not None and status == 401 and not issubclass(kind, Unauthorized):
        # A 401 keeps its meaning: the broker answers E062108 for an unknown id *and* a
        # wrong password on sign-in, so that neither is revealed (reference §11).
        kind = Unauthorized
    kind = kind or _BY_STATUS.get(status)
    if kind is None:
        return ServerError(status=status, code=code, detail=detail)
    return kind(status=status, code=code, detail=detail)


@dataclass(frozen=True)
class Credential:
    """A user call's JWT, read when the call is sent, and how to renew it after a 401.

    ``renew`` is None for a JWT the dashboard cannot renew (one a person pasted).
    """

    jwt: Callable[[], str]
    renew: Callable[[], object] | None = None


class RenewingAuth(httpx.Auth):
    """The bearer of ``credential``; after a 401, renew it once and send the request again."""

    requires_response_body = True  # the 401's body is read before the retry

    def __init__(self, bearer: Callable[[str], str], credential: Credential) -> None:
        self._bearer = bearer
        self._credential = credential

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send with the credential; on a 401 renew it (if it can be) and send once more."""
        request.headers["Authorization"] = self._bearer(self._credential.jwt())
        response = yield request
        if response.status_code == 401 and self._credential.renew is not None:
            self._credential.renew()
            request.headers["Authorization"] = self._bearer(self._credential.jwt())
            yield request


class Transport:
    """Sends JSON requests to one Descope project (or the broker) and parses the answers."""

    def __init__(
        self,
        base_url: str,
        project_id: str,
        management_key: Secret | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.project_id = project_id
        self._management_key = management_key
        self.max_wait_s = max_wait_s
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            headers={
                "x-descope-project-id": project_id,
                "x-descope-sdk-name": SDK_NAME,
                "x-descope-sdk-version": SDK_VERSION,
                "Content-Type": "application/json",
            },
            follow_redirects=False,
        )

    @property
    def has_management_key(self) -> bool:
        """Whether management calls can be made."""
        return bool(self._management_key)

    def bearer(
        self,
        token: str | None = None,
        *,
        management: bool = False,
        management_key: Secret | None = None,
    ) -> str:
        """``Bearer pid[:token][:key]``: the token for user calls, the key for management calls.

        ``management_key`` is a key the person typed (the developer outbox), used instead of
        the dashboard's own: that call proves the person holds it.
        """
        parts = [self.project_id]
        if token:
            parts.append(token)
        key = management_key or (self._management_key if management else None)
        if management and not key:
            raise NotAllowed("This dashboard has no management key configured.")
        if key:
            parts.append(key.reveal())
        return "Bearer " + ":".join(parts)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        credential: Credential | None = None,
        management: bool = False,
        management_key: Secret | None = None,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | Sequence[str]] | None = None,
    ) -> Any:
        """Send one call and return its parsed JSON; raise a DashboardError on any failure.

        The JWT is ``token``, or ``credential``'s (renewed once after a 401). A 429 is waited
        out once when ``Retry-After`` is within ``max_wait_s``; otherwise, or when it comes
        again, it raises Throttled with the wait.
        """
        headers: dict[str, str] = {}
        auth: httpx.Auth | None = None
        if credential is None:
            headers["Authorization"] = self.bearer(
                token, management=management, management_key=management_key
            )
        else:
            auth = RenewingAuth(
                lambda jwt: self.bearer(jwt, management=management, management_key=management_key),
                credential,
            )
        content = json.dumps(json_body) if json_body is not None else None
        waited = False
        while True:
            try:
                response = self._client.request(
                    method, path, headers=headers, content=content, params=params, auth=auth
                )
            except httpx.TimeoutException as exc:
                log.warning("%s %s timed out", method, path)
                raise Unreachable(
                    "The identity service took too long to answer; try again."
                ) from exc
            except httpx.HTTPError as exc:
                log.warning("%s %s failed: %s", method, path, type(exc).__name__)
                raise Unreachable() from exc
            if response.status_code == 429 and not waited:
                wait = _retry_after(response)
                if wait <= self.max_wait_s:
                    waited = True
                    self._sleep(wait)
                    continue
            if response.is_success:
                return self._parse(response)
            error = error_for(response)
            log.info("%s %s answered %s %s", method, path, error.status, error.code)
            raise error

    @staticmethod
    def _parse(response: httpx.Response) -> Any:
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise ServerError(detail="response is not JSON") from exc

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def call_url(
    method: str,
    url: str,
    bearer_token: Secret,
    *,
    headers: Mapping[str, str] | None = None,
    body: str = "",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> tuple[int, str]:
    """``method url`` with ``Authorization: Bearer <token>`` (a provider's API, to try a token),
    plus the catalog's extra headers (``Notion-Version``) and body (Linear's GraphQL query).

    The one call the dashboard makes to a third party; redirects are not followed, so the token
    goes nowhere but ``url``. Answers the status and the body as text.
    """
    sent = {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}
    sent |= {"Authorization": f"Bearer {bearer_token.reveal()}"}
    sent.setdefault("Accept", "application/json")
    try:
        response = httpx.request(
            method,
            url,
            headers=sent,
            content=body.encode() if body else None,
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        log.warning("%s to a provider failed: %s", method, type(exc).__name__)
        raise Unreachable("The provider's API could not be reached.") from exc
    return response.status_code, response.text


_shared: dict[tuple[str, str], Transport] = {}
_shared_lock = threading.Lock()


def shared_transport(
    base_url: str, project_id: str, management_key: Secret | None = None
) -> Transport:
    """The process-wide transport for a target (one pool, shared by every session)."""
    key = (base_url, project_id)
    with _shared_lock:
        transport = _shared.get(key)
        if transport is None:
            transport = Transport(base_url, project_id, management_key)
            _shared[key] = transport
        return transport
