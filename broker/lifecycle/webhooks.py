"""Signed webhook delivery of lifecycle events, with retries and idempotency ids.

Each POST carries the event JSON (``events.event_to_wire``) and the headers::

    Outbound-Webhook-Id: EV…             the event id: receivers drop repeats (idempotency)
    Outbound-Webhook-Timestamp: 1764340000
    Outbound-Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in constant
time, and rejects old timestamps (replays). A delivery that fails (network error or a non-2xx
answer) is retried with exponential backoff (1 s, 2 s, 4 s… by default) up to
``webhook_max_attempts``, then marked ``failed``. Deliveries run in the scheduler's leader, so
one broker process sends each, whatever the number of workers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import httpx
from sqlalchemy import select

from broker.context import Broker
from broker.crypto import Secret
from broker.errors import DescopeError
from broker.lifecycle import metrics
from broker.lifecycle.events import event_to_wire
from broker.providers.url_policy import guarded_client
from broker.store.db import now_s
from broker.store.lifecycle import LifecycleEventRow, WebhookDeliveryRow

log = logging.getLogger("broker.webhooks")

ID_HEADER = "Outbound-Webhook-Id"
TIMESTAMP_HEADER = "Outbound-Webhook-Timestamp"
SIGNATURE_HEADER = "Outbound-Webhook-Signature"


def signature(secret: Secret, timestamp: int, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.reveal().encode(), message, hashlib.sha256).hexdigest()


def signed_request(secret: Secret, event: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery of ``event`` (always signed)."""
    body = json.dumps(event, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(now_s())
    return body, {
        "Content-Type": "application/json",
        ID_HEADER: str(event["id"]),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def _post(http: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> str:
    """'' when the receiver took it (2xx), else a short reason."""
    try:
        response = http.post(url, content=body, headers=headers)
    except (httpx.HTTPError, DescopeError) as exc:  # DescopeError: the URL guard refused it
        return type(exc).__name__
    return "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


def deliver_due(broker: Broker, limit: int = 100) -> int:
    """Send the deliveries that are due; answers how many were delivered."""
    cfg = broker.settings.lifecycle
    now = now_s()
    with broker.db.session() as s:
        due = s.execute(
            select(WebhookDeliveryRow, LifecycleEventRow)
            .join(LifecycleEventRow, LifecycleEventRow.seq == WebhookDeliveryRow.event_seq)
            .where(WebhookDeliveryRow.state == "pending", WebhookDeliveryRow.next_attempt_at <= now)
            .order_by(WebhookDeliveryRow.id)
            .limit(limit)
        ).all()
        work = [(d.id, d.url, event_to_wire(e)) for d, e in due]
    delivered = 0
    if not work or cfg.webhook_secret is None:  # settings refuse URLs without a secret
        return 0
    with guarded_client(broker.settings) as http:
        for delivery_id, url, event in work:
            body, headers = signed_request(cfg.webhook_secret, event)
            reason = _post(http, url, body, headers)
            delivered += _settle(broker, delivery_id, reason)
    return delivered


def _settle(broker: Broker, delivery_id: int, reason: str) -> int:
    cfg = broker.settings.lifecycle
    with broker.db.session() as s:
        row = s.get(WebhookDeliveryRow, delivery_id)
        if row is None:
            return 0
        row.attempts += 1
        if not reason:
            row.state, row.delivered_at, row.last_error = "delivered", now_s(), ""
            metrics.WEBHOOKS.labels(result="delivered").inc()
            return 1
        row.last_error = reason
        if row.attempts >= cfg.webhook_max_attempts:
            row.state = "failed"
            log.warning("webhook delivery gave up", extra={"attempts": row.attempts})
        else:
            row.next_attempt_at = now_s() + cfg.webhook_backoff_s * 2 ** (row.attempts - 1)
        metrics.WEBHOOKS.labels(result="failed" if row.state == "failed" else "retry").inc()
        return 0
