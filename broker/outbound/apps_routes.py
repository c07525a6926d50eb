"""Descope management endpoints for outbound apps (reference §3.2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from broker.context import broker_of
from broker.identity.auth import ManagementAuth, ManagementOrUser
from broker.outbound import apps
from broker.outbound.wire import AppFields, AppIdRequest, ByTemplateRequest, UpdateAppRequest

router = APIRouter(tags=["outbound apps"])


@router.post("/v1/mgmt/outbound/app/create")
def create_app(body: AppFields, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Create an app from the flat body (clientSecret included, never returned)."""
    return {"app": apps.create_app(broker_of(request), body)}


@router.post("/v1/mgmt/outbound/app/create/bytemplate")
def create_by_template(
    body: ByTemplateRequest, request: Request, _: ManagementAuth
) -> dict[str, Any]:
    """Create an app from a catalog template, with overrides."""
    return {"app": apps.create_by_template(broker_of(request), body)}


@router.post("/v1/mgmt/outbound/app/update")
def update_app(body: UpdateAppRequest, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Replace an app's fields (``{app:{…}}``)."""
    return {"app": apps.update_app(broker_of(request), body.app)}


@router.post("/v1/mgmt/outbound/app/delete")
def delete_app(body: AppIdRequest, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Delete an app and its tokens."""
    apps.delete_app(broker_of(request), body.id)
    return {}


@router.get("/v1/mgmt/outbound/app/{app_id}")
def load_app(app_id: str, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """One app."""
    return {"app": apps.load_app(broker_of(request), app_id)}


@router.get("/v1/mgmt/outbound/apps")
def list_apps(request: Request, _: ManagementOrUser) -> dict[str, Any]:
    """Every app (a management key, or a user's refresh JWT as Descope's widget sends)."""
    return {"apps": apps.list_apps(broker_of(request))}
