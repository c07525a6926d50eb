"""The running provider as routes see it: configuration plus the authorization server's parts."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from fastapi import Request

from broker.demo_provider.server import AcmeAuthorizationServer


class AnsweredRequests:
    """Authorization requests already answered (client id + state), so a form posted again
    after Back gets a page that says what happened instead of a second code the client refuses."""

    def __init__(self, limit: int = 10_000) -> None:
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def seen(self, client_id: str, state: str) -> bool:
        """Whether this request was answered already (one without state never counts)."""
        with self._lock:
            return bool(state) and (client_id, state) in self._seen

    def mark(self, client_id: str, state: str) -> None:
        """Note the request as answered (approved or denied)."""
        if not state:
            return
        with self._lock:
            self._seen[(client_id, state)] = None
            while len(self._seen) > self._limit:
                self._seen.popitem(last=False)


@dataclass(frozen=True)
class DemoProvider:
    """One provider instance: its issuer URL, consent mode, admin guard and server."""

    issuer: str
    auto_approve: bool
    server: AcmeAuthorizationServer
    admin_secret: str | None = None
    answered: AnsweredRequests = field(default_factory=AnsweredRequests)


def provider_of(request: Request) -> DemoProvider:
    """The provider serving this request."""
    provider: DemoProvider = request.app.state.provider
    return provider
