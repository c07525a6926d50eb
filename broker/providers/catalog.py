"""The provider catalog: templates for outbound apps, loaded from ``providers.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from broker.errors import APP_NOT_FOUND, InvalidArguments, MissingArguments, NotFound
from broker.providers.quirks import ProviderQuirks

CATALOG_FILE = Path(__file__).with_name("providers.yaml")
ClientAuthMethod = Literal["client_secret_basic", "client_secret_post"]
_URL_FIELDS = ("authorization_url", "token_url", "revocation_url", "discovery_url", "test_url")
_VARIABLE = re.compile(r"\{([a-z_]+)\}")
# Provider host labels: letters, digits and hyphens only (nothing that changes the URL's shape).
_LABEL_TEXT = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LABEL = re.compile(rf"^{_LABEL_TEXT}$")
# A host prefix or a tenant: labels joined by dots (``acme.my``, ``contoso.onmicrosoft.com``, a
# GUID). Each sits in a template between fixed URL parts (``https://{instance}.salesforce.com``,
# ``…microsoftonline.com/{tenant}/…``), so no value can change the scheme, host suffix or path.
_DOTTED = re.compile(rf"^{_LABEL_TEXT}(?:\.{_LABEL_TEXT}){{0,5}}$")
# Variables that may hold dots; every other variable is a single host label.
_DOTTED_VARIABLES = frozenset({"instance", "tenant"})


@dataclass(frozen=True)
class ProviderTemplate:
    """One provider's endpoints, scopes and OAuth quirks."""

    id: str
    name: str
    description: str
    logo: str
    authorization_url: str
    token_url: str
    revocation_url: str | None
    discovery_url: str | None
    test_url: str | None
    default_scopes: tuple[str, ...]
    scopes: dict[str, str]
    scope_separator: str
    client_auth: ClientAuthMethod
    pkce: bool
    authorize_params: dict[str, str]
    rotates_refresh_tokens: bool
    default_expires_in: int
    keep_alive_days: int | None
    source: str = ""
    test_method: str = "GET"
    test_headers: dict[str, str] = field(default_factory=dict)
    test_body: str = ""
    api_base_urls: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    variable_defaults: dict[str, str] = field(default_factory=dict)
    scope_param: str = "scope"
    relative: bool = False
    scopes_in_console: bool = False
    quirks: ProviderQuirks = field(default_factory=ProviderQuirks)
    # Authorization parameters of a reconnect that keeps the earlier grants (incremental
    # authorization, e.g. Google's include_granted_scopes).
    incremental_params: dict[str, str] = field(default_factory=dict)
    notes: str = ""

    @classmethod
    def from_yaml(cls, template_id: str, data: dict[str, Any]) -> ProviderTemplate:
        """Build a template from its YAML mapping (unknown keys are an error)."""
        known = set(cls.__dataclass_fields__) - {"id", "variable_defaults"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{template_id}: unknown keys {sorted(unknown)}")
        values = dict(data)
        values["default_scopes"] = tuple(values.get("default_scopes") or ())
        # ``variables`` maps each placeholder to its default (null: the admin must give one).
        variables = {str(k): v for k, v in (values.get("variables") or {}).items()}
        values["variables"] = tuple(variables)
        values["variable_defaults"] = {k: str(v) for k, v in variables.items() if v is not None}
        values["test_headers"] = {
            str(k): str(v) for k, v in (values.get("test_headers") or {}).items()
        }
        try:
            values["quirks"] = ProviderQuirks.from_yaml(values.get("quirks"))
        except ValueError as exc:
            raise ValueError(f"{template_id}: {exc}") from None
        values["api_base_urls"] = tuple(values.get("api_base_urls") or ())
        values["scopes"] = {str(k): str(v) for k, v in (values.get("scopes") or {}).items()}
        for name in ("authorize_params", "incremental_params"):
            values[name] = {str(k): str(v) for k, v in (values.get(name) or {}).items()}
        return cls(id=template_id, **values)

    def endpoints(
        self, *, base_url: str = "", variables: dict[str, str] | None = None
    ) -> dict[str, str]:
        """The template's URLs made concrete: relative ones joined to ``base_url``, placeholders filled."""
        given = self.fill_variables(variables)
        if self.relative and not base_url:
            raise MissingArguments(f"Template {self.id} needs the provider's base URL")
        out: dict[str, str] = {}
        for name in _URL_FIELDS:
            url = getattr(self, name)
            if not url:
                continue
            url = _VARIABLE.sub(lambda m: given[m.group(1)], url)
            out[name] = base_url.rstrip("/") + url if self.relative else url
        return out

    def fill_variables(self, variables: dict[str, str] | None) -> dict[str, str]:
        """Every placeholder's value: the one given, else the default; checked (host labels)."""
        unknown = sorted(set(variables or {}) - set(self.variables))
        if unknown:
            raise InvalidArguments(f"Template {self.id} has no variables {', '.join(unknown)}")
        given = {**self.variable_defaults, **{k: v for k, v in (variables or {}).items() if v}}
        missing = [v for v in self.variables if not given.get(v)]
        if missing:
            raise MissingArguments(f"Template {self.id} needs variables: {', '.join(missing)}")
        for name in self.variables:
            value = given[name] = given[name].strip().lower()
            if name in _DOTTED_VARIABLES and _DOTTED.match(value):
                continue
            if not _LABEL.match(value):
                shape = "host name" if name in _DOTTED_VARIABLES else "host label"
                raise InvalidArguments(f"Template variable {name} must be a {shape}")
        return given

    def public(self) -> dict[str, Any]:
        """The template as the catalog extension endpoint shows it (camelCase)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "logo": self.logo,
            "authorizationUrl": self.authorization_url,
            "tokenUrl": self.token_url,
            "revocationUrl": self.revocation_url or "",
            "discoveryUrl": self.discovery_url or "",
            "testUrl": self.test_url or "",
            "testMethod": self.test_method,
            "testHeaders": dict(self.test_headers),
            "testBody": self.test_body,
            "expiredTokenCodes": list(self.quirks.expired_token_codes),
            "source": self.source,
            "apiBaseUrls": list(self.api_base_urls),
            "defaultScopes": list(self.default_scopes),
            "scopes": [{"name": k, "description": v} for k, v in self.scopes.items()],
            "scopesInConsole": self.scopes_in_console,
            "scopeSeparator": self.scope_separator,
            "clientAuthMethod": self.client_auth,
            "pkce": self.pkce,
            "authorizeParams": dict(self.authorize_params),
            "incrementalParams": dict(self.incremental_params),
            "rotatesRefreshTokens": self.rotates_refresh_tokens,
            "defaultExpiresIn": self.default_expires_in,
            "keepAliveDays": self.keep_alive_days,
            "variables": list(self.variables),
            "variableDefaults": dict(self.variable_defaults),
            "scopeParam": self.scope_param,
            "tokenMetadata": sorted({*self.quirks.metadata, *self.quirks.callback_params}),
            "relative": self.relative,
            "notes": self.notes,
        }


@cache
def load_catalog(path: Path = CATALOG_FILE) -> dict[str, ProviderTemplate]:
    """Every template by id (read once per process)."""
    raw = yaml.safe_load(path.read_text())
    return {str(k): ProviderTemplate.from_yaml(str(k), v) for k, v in raw.items()}


def find_template(template_id: str) -> ProviderTemplate | None:
    """The template with this id, or None."""
    return load_catalog().get(template_id)


def get_template(template_id: str) -> ProviderTemplate:
    """The template with this id; 404 when the catalog has none."""
    template = find_template(template_id)
    if template is None:
        raise NotFound(f"Unknown outbound app template: {template_id}", code=APP_NOT_FOUND)
    return template
