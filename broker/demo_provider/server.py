"""Authlib's authorization server, adapted to Starlette, holding the provider's runtime parts.

Authlib is synchronous and framework-agnostic: a route reads the body (async), wraps it in a
``FormRequest`` and hands it to the server, which answers ``(status, body, headers)``; we turn
that into a Starlette response.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from broker.demo_provider.directory import SCOPES
from broker.demo_provider.faults import Faults
from broker.demo_provider.state import Client, ProviderState
from broker.demo_provider.stats import ProviderStats
from broker.demo_provider.tokens import AccessTokenSigner

DEFAULT_ACCESS_TOKEN_TTL_S = 3600


class FormPayload(OAuth2Payload):  # type: ignore[misc]  # Authlib ships no type information
    """The OAuth parameters of a request: query string and form body together."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        """The first value of each parameter."""
        return {key: values[0] for key, values in self._datalist.items()}

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        """Every value of each parameter (Authlib rejects repeated OAuth parameters)."""
        return self._datalist


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An HTTP request as Authlib sees it, built from what a Starlette route already read."""

    def __init__(
        self,
        method: str,
        url: str,
        headers: Headers | Mapping[str, str],
        query: Iterable[tuple[str, str]] = (),
        form: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(method=method, uri=url, headers=headers)
        self._query = list(query)
        self._form = list(form)
        self.payload = FormPayload(self._query + self._form)

    @property
    def args(self) -> dict[str, str]:
        """The query-string parameters."""
        return dict(self._query)

    @property
    def form(self) -> dict[str, str]:
        """The form-body parameters."""
        return dict(self._form)


class AcmeAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """The authorization server: Authlib's protocol logic over our state, signer and faults.

    Its grants and endpoints are registered by ``grants.register_grants`` (they build on it).
    """

    def __init__(
        self,
        state: ProviderState,
        signer: AccessTokenSigner,
        faults: Faults,
        stats: ProviderStats,
        default_ttl_s: int = DEFAULT_ACCESS_TOKEN_TTL_S,
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.state = state
        self.signer = signer
        self.faults = faults
        self.stats = stats
        self.default_ttl_s = default_ttl_s

    def query_client(self, client_id: str) -> Client | None:
        """The registered client with this id."""
        return self.state.client(client_id)

    def save_token(self, token: dict[str, Any], request: FormRequest) -> None:
        """Record the grant on first issue, and any new refresh token under it."""
        holder = request.user
        grant = self.state.grant(holder.grant_id) or self.state.start_grant(
            holder.grant_id, request.client.client_id, holder.user.id, token["scope"]
        )
        refresh = token.get("refresh_token")
        if refresh and self.state.refresh_token(refresh) is None:
            self.state.add_refresh_token(refresh, grant, token["scope"])

    def access_token_ttl_s(self, client: Client) -> int:
        """Lifetime of the next access token: the fault switch, else the client's, else default."""
        ttl = self.faults.take("access_token_ttl_s") or client.access_token_ttl_s
        return int(ttl or self.default_ttl_s)

    def create_oauth2_request(self, request: FormRequest) -> FormRequest:
        """Routes build the ``FormRequest`` themselves (the body must be read asynchronously)."""
        return request

    def create_json_request(self, request: Any) -> Any:
        """No JSON endpoints here."""
        raise NotImplementedError

    def handle_response(
        self, status: int, body: Any, headers: Iterable[tuple[str, str]]
    ) -> Response:
        """Authlib's ``(status, body, headers)`` as a Starlette response."""
        header_map = dict(headers)
        if isinstance(body, dict):
            header_map.pop("Content-Type", None)
            return JSONResponse(body, status_code=status, headers=header_map)
        return Response(body or b"", status_code=status, headers=header_map)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's signal hook; nothing listens."""
