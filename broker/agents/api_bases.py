"""Where a proxied call may go: the API base URLs an app's catalog entry declares, made concrete.

A base URL is ``scheme://host[:port][/path]``. A call's URL is allowed when it has the same
scheme and port, a host equal to the base's (or, for a ``*.`` base, a subdomain of it), and a
path equal to the base path or below it at a ``/`` boundary (``/api`` admits ``/api/me``, not
``/apix``). Relative entries (the demo provider) are joined to the origin of the app's token
endpoint; ``{variable}`` placeholders are read back from the app's concrete token URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from broker.config import origin_of
from broker.providers.catalog import ProviderTemplate, find_template
from broker.store.outbound import OutboundAppRow

_VARIABLE = re.compile(r"\\\{([a-z_]+)\\\}")


@dataclass(frozen=True)
class ApiBase:
    """One allowed API base: scheme, host (``*.`` for subdomains), port and path prefix."""

    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> ApiBase:
        """Parse a concrete base URL."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        default = 443 if scheme == "https" else 80
        return cls(scheme, parts.hostname or "", parts.port or default, parts.path.rstrip("/"))

    def admits(self, url: str) -> bool:
        """Whether ``url`` lies under this base (same scheme and port, host, path boundary)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.scheme.lower() != self.scheme or port != self.port or parts.username:
            return False
        if self.host.startswith("*."):
            if not host.endswith(self.host[1:]) or host == self.host[2:]:
                return False
        elif host != self.host:
            return False
        path = parts.path or "/"
        return path == self.path or path.startswith(self.path + "/") or not self.path

    def url(self) -> str:
        """The base as a URL (for messages and the catalog)."""
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{self.path}"


def _variables(template: ProviderTemplate, token_url: str) -> dict[str, str]:
    """The placeholder values an app was created with, read back from its concrete token URL."""
    pattern = _VARIABLE.sub(r"(?P<\1>[A-Za-z0-9-]+)", re.escape(template.token_url))
    match = re.fullmatch(pattern, token_url)
    return match.groupdict() if match else {}


def api_bases(app: OutboundAppRow) -> list[ApiBase]:
    """The API bases of an app's catalog entry; [] for an app with no entry (nothing allowed)."""
    template = find_template(app.template_id)
    if template is None:
        return []
    values = _variables(template, app.token_url) if template.variables else {}
    bases: list[ApiBase] = []
    for raw in template.api_base_urls:
        url = re.sub(r"\{([a-z_]+)\}", lambda m: values.get(m.group(1), ""), raw)
        if template.relative:
            url = origin_of(app.token_url) + url
        if "{" in raw and not all(values.get(v) for v in template.variables):
            continue  # the app's token URL does not match its template: allow nothing there
        bases.append(ApiBase.parse(url))
    return bases
