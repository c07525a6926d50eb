"""Access keys on the wire: Descope's management paths and the auth exchange (reference: the
official Python SDK's ``MgmtV1.access_key_*`` paths and ``EndpointsV1.exchange_auth_access_key_path``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from broker.agents import access_keys
from broker.agents.wire import (
    AccessKeyCreate,
    AccessKeyExchange,
    AccessKeyId,
    AccessKeySearch,
    AccessKeyUpdate,
)
from broker.context import broker_of
from broker.errors import Unauthorized
from broker.identity.auth import ManagementAuth, ProjectAuth
from broker.identity.throttle import client_address, throttle_of

router = APIRouter(tags=["access keys"])


@router.post("/v1/mgmt/accesskey/create")
def create(body: AccessKeyCreate, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Create a key bound to ``userId`` → ``{key, cleartext}`` (cleartext shown only now)."""
    return access_keys.create_key(
        broker_of(request),
        name=body.name,
        user_id=body.user_id,
        expire_time=body.expire_time or 0,
        app_ids=body.app_ids,
        description=body.description or "",
        custom_claims=body.custom_claims,
        custom_attributes=body.custom_attributes,
        permitted_ips=body.permitted_ips,
        created_by="management",
    )


@router.get("/v1/mgmt/accesskey")
def load(id: str, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Load one key → ``{key}``."""
    return access_keys.load_key(broker_of(request), id)


@router.post("/v1/mgmt/accesskey/search")
def search(body: AccessKeySearch, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Keys by bound user, creator and custom attributes → ``{keys}``."""
    keys = access_keys.search_keys(
        broker_of(request),
        bound_user_id=body.bound_user_id,
        creating_user=body.creating_user,
        custom_attributes=body.custom_attributes,
    )
    return {"keys": keys}


@router.post("/v1/mgmt/accesskey/update")
def update(body: AccessKeyUpdate, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Rename a key and override the given fields → ``{key}``."""
    return access_keys.update_key(
        broker_of(request),
        body.id,
        body.name,
        description=body.description,
        custom_claims=body.custom_claims,
        permitted_ips=body.permitted_ips,
        custom_attributes=body.custom_attributes,
    )


@router.post("/v1/mgmt/accesskey/deactivate")
def deactivate(body: AccessKeyId, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Deactivate a key (its sessions end now) → ``{}``."""
    access_keys.set_active(broker_of(request), body.id, False)
    return {}


@router.post("/v1/mgmt/accesskey/activate")
def activate(body: AccessKeyId, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Activate a deactivated key → ``{}``."""
    access_keys.set_active(broker_of(request), body.id, True)
    return {}


@router.post("/v1/mgmt/accesskey/delete")
def delete(body: AccessKeyId, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Delete a key for good → ``{}``."""
    access_keys.delete_key(broker_of(request), body.id)
    return {}


@router.post("/v1/mgmt/accesskey/rotate")
def rotate(body: AccessKeyId, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """A new secret for the key → ``{key, cleartext}``; the old secret stops working."""
    return access_keys.rotate_key(broker_of(request), body.id)


@router.post("/v1/auth/accesskey/exchange")
async def exchange(
    body: AccessKeyExchange, request: Request, bearer: ProjectAuth
) -> dict[str, Any]:
    """``Bearer <projectId>:<accessKey>`` → the key's user's JWTResponse (+ ``keyId``).

    Wrong keys count against the caller's address like wrong management keys (429 when over);
    a valid key is never refused, so a guesser on a shared address cannot lock its holder out.
    """
    broker = broker_of(request)
    address = client_address(request)
    throttle = throttle_of(broker)

    def run() -> dict[str, Any]:
        try:
            return access_keys.exchange(broker, bearer.management_key, address)
        except Unauthorized:
            throttle.take(throttle.management_bucket(address))
            raise

    return await run_in_threadpool(run)
