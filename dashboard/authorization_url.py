"""Decoding an OAuth authorization URL (RFC 6749 §4.1.1, RFC 7636 §4.3) for the inspector.

Pure: no Streamlit, no HTTP. ``decode_authorization_url`` names each part of the URL the
connect endpoint answered, so a developer sees what the provider will be asked before following
it: the provider host, client id, redirect URI, each requested scope, the PKCE method, the
state (masked: it is single-use and proves the browser's round trip) and any extra parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Parameters the inspector shows in their own rows; anything else is an "extra" parameter.
PROTOCOL_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    }
)


def with_login_hint(url: str, email: str) -> str:
    """``url`` with ``login_hint=<email>`` (OpenID Connect Core §3.1.2.1), unless it has one.

    Providers that know the hint start their sign-in on that account; others ignore it.
    """
    parts = urlsplit(url)
    if not email or any(k == "login_hint" for k, _ in parse_qsl(parts.query)):
        return url
    query = "&".join(q for q in (parts.query, urlencode({"login_hint": email})) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def mask(value: str, keep: int = 4) -> str:
    """``value`` with all but its first ``keep`` characters hidden (short values fully)."""
    if not value:
        return ""
    if len(value) <= keep * 2:
        return "•" * 8
    return value[:keep] + "•" * 8


def split_scopes(raw: str) -> tuple[str, ...]:
    """Scopes from a ``scope`` value: space-separated (RFC 6749 §3.3), or commas as some use."""
    parts = raw.split()
    if len(parts) == 1 and "," in parts[0]:
        parts = parts[0].split(",")
    return tuple(dict.fromkeys(p for p in parts if p))


@dataclass(frozen=True)
class AuthorizationRequest:
    """The parts of an authorization URL, ready to show."""

    endpoint: str
    provider_host: str
    response_type: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    pkce_method: str
    state_masked: str
    extra: tuple[tuple[str, str], ...]

    @property
    def uses_pkce(self) -> bool:
        """Whether the request carries a PKCE code challenge."""
        return bool(self.pkce_method)

    def warnings(self) -> tuple[str, ...]:
        """What a reviewer should notice: no PKCE, plain S256-less PKCE, no state, plain http."""
        found = []
        if not self.uses_pkce:
            found.append("No PKCE code challenge: the code is not bound to this browser.")
        elif self.pkce_method != "S256":
            found.append(f"PKCE method {self.pkce_method} is weaker than S256.")
        if not self.state_masked:
            found.append("No state parameter: the callback cannot be tied to this request.")
        if self.endpoint.startswith("http://"):
            found.append("The provider is reached over plain http (fine on loopback only).")
        return tuple(found)


def decode_authorization_url(url: str) -> AuthorizationRequest:
    """Decode ``url``; ValueError when it is not an absolute http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("not an absolute http(s) URL")
    query = parse_qsl(parts.query, keep_blank_values=True)
    first: dict[str, str] = {}
    for key, value in query:
        first.setdefault(key, value)
    method = first.get("code_challenge_method", "")
    if "code_challenge" in first and not method:
        method = "plain"  # RFC 7636 §4.3: the default when the method is left out
    return AuthorizationRequest(
        endpoint=f"{parts.scheme}://{parts.netloc}{parts.path}",
        provider_host=parts.netloc,
        response_type=first.get("response_type", ""),
        client_id=first.get("client_id", ""),
        redirect_uri=first.get("redirect_uri", ""),
        scopes=split_scopes(first.get("scope", "")),
        pkce_method=method if "code_challenge" in first else "",
        state_masked=mask(first.get("state", "")),
        extra=tuple((k, v) for k, v in query if k not in PROTOCOL_PARAMS),
    )
