""" "Try the token": the request the catalog describes for an app, and whether its answer says
the access token is no longer valid.

The catalog entry gives the method, headers and body (Dropbox and Linear are POST, Notion needs
``Notion-Version``); its URL may hold placeholders (Zendesk's ``{subdomain}``, Salesforce's
``{instance}``), whose values are read back from the app's own endpoints, which were made from
the same template. Pure functions: tested without a browser or a network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin

from dashboard.descope import (
    CatalogTemplate,
    OutboundApp,
)

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# A placeholder's value as read back from an app URL: host characters only.
_VALUE = r"[A-Za-z0-9.-]+"
_ERROR_KEYS = ("errorCode", "error", "code")


@dataclass(frozen=True)
class TrialRequest:
    """One call to the provider's API with the access token."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    expired_codes: tuple[str, ...] = ()


def variables_from(pattern: str, concrete: str) -> dict[str, str] | None:
    """The placeholder values that turn ``pattern`` into ``concrete``; None when it does not fit."""
    parts = _PLACEHOLDER.split(pattern)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_VALUE})" for i, part in enumerate(parts)
    )
    try:
        found = re.fullmatch(regex, concrete)
    except re.error:  # the same placeholder twice in one URL
        return None
    return {k: v.lower() for k, v in found.groupdict().items()} if found else None


def _filled(template: CatalogTemplate, app: OutboundApp) -> str:
    """The test URL with its placeholders filled from the app's URLs (else the defaults)."""
    url = template.test_url
    wanted = set(_PLACEHOLDER.findall(url))
    if not wanted:
        return url
    values = dict(template.variable_defaults)
    for pattern, concrete in (
        (template.authorization_url, app.authorization_url),
        (template.token_url, app.token_url),
    ):
        values |= variables_from(pattern, concrete) or {}
    if not wanted <= set(values):
        return ""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], url)


def trial_request(app: OutboundApp | None, template: CatalogTemplate | None) -> TrialRequest | None:
    """The catalog's test call for an app, or None when there is none to make."""
    if app is None or template is None or not template.test_url:
        return None
    url = _filled(template, app)
    if url and not url.startswith(("http://", "https://")):
        url = urljoin(app.token_url, url) if app.token_url else ""
    if not url:
        return None
    return TrialRequest(
        method=template.test_method or "GET",
        url=url,
        headers=dict(template.test_headers),
        body=template.test_body,
        expired_codes=template.expired_token_codes,
    )


def _error_codes(answer: object) -> set[str]:
    items = answer if isinstance(answer, list) else [answer]
    return {
        str(item[key])
        for item in items
        if isinstance(item, dict)
        for key in _ERROR_KEYS
        if key in item
    }


def looks_expired(status: int, body: str, expired_codes: tuple[str, ...]) -> bool:
    """Whether an answer says the access token is no longer valid: HTTP 401, or one of the
    provider's own codes (Salesforce ``INVALID_SESSION_ID``, Slack's 200 ``token_expired``)."""
    if status == 401:
        return True
    if not expired_codes:
        return False
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return bool(_error_codes(answer) & set(expired_codes))
