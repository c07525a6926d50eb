"""How a refresh ended, and what the engine does next (pure functions, tested with a fixed clock).

* ``success`` — a new pair was stored.
* ``transient`` — network failure, timeout, 5xx, 429, an unreadable answer: keep the grant,
  back off, try again. An *ambiguous* one (the request may have reached the provider: read
  timeout, reset connection, 502/504 from a gateway) is retried at once, with the same refresh
  token, so the retry lands inside the replay tolerance that rotating providers grant (Auth0's
  reuse interval, Okta's grace period); a strict provider answers ``invalid_grant`` and the
  token is then marked ``needs_reauth`` — nothing the broker held was thrown away.
* ``permanent`` — ``invalid_grant``, ``invalid_client``, ``unauthorized_client``,
  ``invalid_scope``, ``unsupported_grant_type``, ``invalid_request`` (RFC 6749 §5.2): only a
  new connect heals it; the provider is never called again for this grant.
* ``configuration`` — the broker cannot make the call at all (the URL guard refuses the token
  endpoint, the app has no token URL): an operator must fix the app; backed off like transient.
"""

from __future__ import annotations

import random
from typing import Literal

from broker.providers.oauth_client import ProviderError

Outcome = Literal["success", "transient", "permanent", "configuration"]

_CONFIGURATION_ERRORS = frozenset({"url_refused", "no_token_url"})
# httpx errors raised after the request may have been sent (the answer was lost).
_AMBIGUOUS_NETWORK = frozenset(
    {"ReadTimeout", "WriteTimeout", "ReadError", "WriteError", "RemoteProtocolError"}
)
_AMBIGUOUS_STATUS = ("HTTP 502", "HTTP 504")


def classify(exc: ProviderError) -> Outcome:
    """The outcome class of a failed refresh."""
    if exc.permanent:
        return "permanent"
    if exc.error in _CONFIGURATION_ERRORS:
        return "configuration"
    return "transient"


def is_ambiguous(exc: ProviderError) -> bool:
    """Whether the provider may have processed the request whose answer we did not get."""
    if exc.permanent or exc.error != "temporarily_unavailable":
        return False
    return exc.description in _AMBIGUOUS_NETWORK or exc.description.endswith(_AMBIGUOUS_STATUS)


def backoff_s(
    failures: int, base_s: float, max_s: float, rng: random.Random | None = None
) -> float:
    """Delay before the next attempt after ``failures`` consecutive failures (first: none)."""
    if failures <= 1:
        return 0.0
    delay: float = min(max_s, base_s * float(2 ** min(failures - 2, 20)))
    jitter: float = (rng or random).uniform(0.8, 1.2)
    return min(max_s, delay * jitter)
