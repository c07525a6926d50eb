"""A provider's departures from RFC 6749 / 7009, as data read from its catalog entry.

Every field defaults to plain RFC behaviour, so an app without a template (or a template that
sets none) behaves exactly as before. What each field means:

* ``token_body`` / ``revocation_body`` — ``form`` (RFC 6749 / 7009) or ``json``: how token and
  revocation requests are encoded (Notion: both JSON; Intuit: JSON revocation only).
* ``request_headers`` — headers every token and revocation request carries (Notion-Version).
* ``token_paths`` — where the token set sits in the token answer, tried in order; ``""`` is the
  top level (Slack puts a user token under ``authed_user``).
* ``metadata`` — non-secret connection metadata: name → dotted path in the token answer, or
  ``id_token.<claim>`` for a claim of the id_token (Salesforce ``instance_url``, Slack
  ``team.id``, Microsoft ``tid``).
* ``callback_params`` — non-secret parameters the provider adds to the callback query
  (QuickBooks ``realmId``), kept as metadata under the same name.
* ``permanent_errors`` / ``transient_errors`` — the provider's own error codes beyond RFC 6749
  §5.2: permanent means the grant is dead (``needs_reauth``, never retried); transient wins over
  the RFC list when a provider uses an RFC code for a passing condition.
* ``ok_field`` — providers answering errors as HTTP 200 with ``{"ok": false}`` (Slack): a 200
  answer counts as success only when this field is ``true``.
* ``introspection_path`` — an RFC 7662 endpoint on the token URL's host, asked for the real
  expiry when the token answer has no ``expires_in`` (Salesforce).
* ``expired_token_codes`` — API error codes meaning "this access token is no longer valid"
  (Salesforce ``INVALID_SESSION_ID``): a caller refreshes once and tries again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Body = Literal["form", "json"]
# Metadata is shown and answered in clear, so a path naming a secret is refused at load time.
_SECRET_WORDS = ("token", "secret", "password", "code")
METADATA_MAX_CHARS = 512
# A callback parameter arrives through the user's browser (it can be edited there), so only a
# plain identifier is kept (QuickBooks' realmId is digits); it labels, it never authorizes.
_CALLBACK_VALUE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


@dataclass(frozen=True)
class ProviderQuirks:
    """A provider's non-RFC behaviour (see the module docstring); defaults are plain RFC."""

    token_body: Body = "form"
    revocation_body: Body = "form"
    request_headers: Mapping[str, str] = field(default_factory=dict)
    token_paths: tuple[str, ...] = ("",)
    metadata: Mapping[str, str] = field(default_factory=dict)
    callback_params: tuple[str, ...] = ()
    permanent_errors: frozenset[str] = frozenset()
    transient_errors: frozenset[str] = frozenset()
    ok_field: str = ""
    introspection_path: str = ""
    expired_token_codes: tuple[str, ...] = ()

    @classmethod
    def from_yaml(cls, data: Mapping[str, Any] | None) -> ProviderQuirks:
        """Parse a catalog entry's ``quirks`` mapping (unknown keys and secret paths are errors)."""
        values = dict(data or {})
        allowed = set(cls.__dataclass_fields__) - {"permanent_errors", "transient_errors"}
        unknown = set(values) - allowed - {"errors"}
        if unknown:
            raise ValueError(f"unknown quirks {sorted(unknown)}")
        metadata = {str(k): str(v) for k, v in (values.pop("metadata", None) or {}).items()}
        for name, path in metadata.items():
            leaf = path.rsplit(".", 1)[-1].lower()
            if any(word in leaf for word in _SECRET_WORDS) or any(
                word in name.lower() for word in _SECRET_WORDS
            ):
                raise ValueError(f"metadata {name} ({path}) may hold a secret")
        errors = values.pop("errors", None) or {}
        return cls(
            token_body=_body(values.pop("token_body", "form")),
            revocation_body=_body(values.pop("revocation_body", "form")),
            request_headers={
                str(k): str(v) for k, v in (values.pop("request_headers", None) or {}).items()
            },
            token_paths=tuple(str(p) for p in values.pop("token_paths", None) or ("",)),
            metadata=metadata,
            callback_params=tuple(str(p) for p in values.pop("callback_params", None) or ()),
            permanent_errors=frozenset(str(c) for c in errors.get("permanent") or ()),
            transient_errors=frozenset(str(c) for c in errors.get("transient") or ()),
            ok_field=str(values.pop("ok_field", "") or ""),
            introspection_path=str(values.pop("introspection_path", "") or ""),
            expired_token_codes=tuple(str(c) for c in values.pop("expired_token_codes", ()) or ()),
        )

    def is_permanent(self, error: str, rfc_permanent: frozenset[str]) -> bool:
        """Whether ``error`` from the token endpoint means the grant is dead."""
        if error in self.transient_errors:
            return False
        return error in rfc_permanent or error in self.permanent_errors

    def token_set(self, answer: Mapping[str, Any]) -> Mapping[str, Any]:
        """The part of a token answer that holds the access token (first path that has one)."""
        for path in self.token_paths:
            found = dig(answer, path) if path else answer
            if isinstance(found, Mapping) and found.get("access_token"):
                return found
        return answer

    def answer_ok(self, answer: object) -> bool:
        """Whether a 200 answer is a success (always, unless ``ok_field`` says otherwise)."""
        if not self.ok_field:
            return True
        return isinstance(answer, Mapping) and answer.get(self.ok_field) is True

    def metadata_of(self, answer: Mapping[str, Any], claims: Mapping[str, Any]) -> dict[str, str]:
        """The non-secret metadata named by ``metadata``, read from a token answer and its claims."""
        out: dict[str, str] = {}
        for name, path in self.metadata.items():
            source, _, rest = path.partition(".")
            value = dig(claims, rest) if source == "id_token" else dig(answer, path)
            if isinstance(value, str | int | float | bool) and str(value):
                out[name] = str(value)[:METADATA_MAX_CHARS]
        return out

    def callback_metadata(self, query: Mapping[str, str]) -> dict[str, str]:
        """The callback query parameters this provider adds, kept as metadata."""
        return {
            name: query[name]
            for name in self.callback_params
            if _CALLBACK_VALUE.match(query.get(name) or "")
        }


def _body(value: object) -> Body:
    if value == "form" or value == "json":
        return value
    raise ValueError(f"a request body is form or json, not {value!r}")


def dig(data: object, path: str) -> object:
    """``data["a"]["b"]`` for ``path`` ``"a.b"``; None when any step is missing."""
    for step in path.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(step)
    return data
