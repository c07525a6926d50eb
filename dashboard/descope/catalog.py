"""The broker's provider catalog (``GET /v1/x/outbound/catalog``): templates and known scopes.

An extension of the embedded broker: Descope cloud answers 404, which ``load_catalog`` reports
as ``None``. A template carries what "Try the token" and the URL placeholders need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dashboard.descope.client import DescopeClient
from dashboard.descope.errors import NotFound
from dashboard.descope.parsing import mapping, text, texts


@dataclass(frozen=True)
class KnownScope:
    """A scope the catalog knows for a provider, with what it lets the app do."""

    name: str
    description: str


@dataclass(frozen=True)
class CatalogTemplate:
    """A provider template of the broker's catalog extension (endpoints, known scopes, quirks)."""

    id: str
    name: str
    description: str
    logo: str
    default_scopes: tuple[str, ...]
    scopes: tuple[KnownScope, ...]
    variables: tuple[str, ...] = ()
    relative: bool = False
    test_url: str = ""
    notes: str = ""
    # "Try the token" and URL placeholders (extensions of the catalog; empty when absent).
    authorization_url: str = ""
    token_url: str = ""
    test_method: str = "GET"
    test_headers: Mapping[str, str] = field(default_factory=dict)
    test_body: str = ""
    variable_defaults: Mapping[str, str] = field(default_factory=dict)
    expired_token_codes: tuple[str, ...] = ()

    def describe(self, scope: str) -> str:
        """What ``scope`` lets the app do, or ``""`` when the catalog does not say."""
        return next((s.description for s in self.scopes if s.name == scope), "")

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> CatalogTemplate:
        """Parse one template of ``{templates:[…]}``."""
        scopes = tuple(
            KnownScope(text(mapping(s).get("name")), text(mapping(s).get("description")))
            for s in data.get("scopes") or []
            if text(mapping(s).get("name"))
        )
        return cls(
            id=text(data.get("id")),
            name=text(data.get("name")),
            description=text(data.get("description")),
            logo=text(data.get("logo")),
            default_scopes=texts(data.get("defaultScopes")),
            scopes=scopes,
            variables=texts(data.get("variables")),
            relative=bool(data.get("relative")),
            test_url=text(data.get("testUrl")),
            notes=text(data.get("notes")),
            authorization_url=text(data.get("authorizationUrl")),
            token_url=text(data.get("tokenUrl")),
            test_method=text(data.get("testMethod")).upper() or "GET",
            test_headers=_strings(data.get("testHeaders")),
            test_body=text(data.get("testBody")),
            variable_defaults=_strings(data.get("variableDefaults")),
            expired_token_codes=texts(data.get("expiredTokenCodes")),
        )


def _strings(value: Any) -> dict[str, str]:
    """A JSON object of strings (anything else dropped)."""
    return {str(k): v for k, v in mapping(value).items() if isinstance(v, str) and k}


def load_catalog(
    client: DescopeClient, *, as_user: bool = False
) -> tuple[CatalogTemplate, ...] | None:
    """The broker's provider catalog, or None where the target has none (Descope cloud: 404)."""
    try:
        data = client.call(
            "GET",
            "/v1/x/outbound/catalog",
            as_user="refresh" if as_user else None,
            management=not as_user,
        )
    except NotFound:
        return None
    items = mapping(data).get("templates")
    return tuple(
        CatalogTemplate.from_api(t) for t in items or [] if isinstance(t, Mapping) and t.get("id")
    )
