"""The files Descope hosts for its widgets, served for the local project (Descope's own paths).

Descope's outbound-applications widget reads, from ``<base-url>/pages/<projectId>/v2-beta/``
(before trying Descope's static hosts):

* ``config.json``: ``componentsVersion`` (the ``@descope/web-components-ui`` release it loads its
  UI components from, via its ``base-cdn-url`` or Descope's CDNs) and ``flows`` (the flow ids
  the flow web component may start, with their versions);
* ``theme.json`` (the default ``style-id``): ``{light, dark}``, each ``{globals, components}``
  as CSS, made by web-components-ui's ``themeToStyle(defaultTheme | darkTheme)``;
* ``outbound-applications-widget/<widgetId>/root.html``: the widget's template, here a
  ``descope-outbound-apps`` list whose buttons start the two outbound flows (flows.py).

``GET /v1/mgmt/widget/components-state`` answers ``{componentsState: {}}``: no component is
hidden by a condition. The files are data (broker/outbound/widget/), the same for every widget
id; another project id is 404, as Descope's static host answers for an unknown project.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from broker.context import broker_of
from broker.errors import NotFound
from broker.identity.auth import RefreshUser
from broker.outbound.flows import FLOW_IDS

router = APIRouter(tags=["widgets"])

COMPONENTS_VERSION = "3.14.1"  # @descope/web-components-ui, the release theme.json was made from
WIDGET_PATH = "outbound-applications-widget"
# Descope's static host lets browsers cache these; a short life keeps local edits visible.
_CACHE = {"Cache-Control": "public, max-age=60"}


@cache
def _asset(name: str) -> str:
    return resources.files("broker.outbound").joinpath("widget", name).read_text("utf-8")


def project_config() -> dict[str, Any]:
    """``config.json``: the UI components release and the flows this broker runs."""
    return {
        "componentsVersion": COMPONENTS_VERSION,
        "flows": {flow_id: {"version": 1} for flow_id in FLOW_IDS},
    }


def _own_project(request: Request, project_id: str) -> None:
    if project_id != broker_of(request).project_id:
        raise NotFound(f"No hosted pages for project {project_id!r}")


@router.get("/pages/{project_id}/v2-beta/config.json")
def config_json(project_id: str, request: Request) -> JSONResponse:
    """The project configuration the widget and the flow web component read."""
    _own_project(request, project_id)
    return JSONResponse(project_config(), headers=_CACHE)


@router.get("/pages/{project_id}/v2-beta/theme.json")
def theme_json(project_id: str, request: Request) -> JSONResponse:
    """The default style: light and dark, globals and per-component CSS."""
    _own_project(request, project_id)
    return JSONResponse(json.loads(_asset("theme.json")), headers=_CACHE)


@router.get(
    f"/pages/{{project_id}}/v2-beta/{WIDGET_PATH}/{{widget_id}}/root.html",
    response_class=HTMLResponse,
)
def widget_root(project_id: str, widget_id: str, request: Request) -> HTMLResponse:
    """The outbound-applications widget's template (the same for every widget id)."""
    _own_project(request, project_id)
    return HTMLResponse(_asset("root.html"), headers=_CACHE)


@router.get("/v1/mgmt/widget/components-state")
def components_state(_: RefreshUser) -> dict[str, Any]:
    """Which widget components a condition hides: none here."""
    return {"componentsState": {}}
