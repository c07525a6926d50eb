"""Connect (both Descope paths, one handler) and the browser's OAuth callback."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.context import broker_of
from broker.identity.auth import RefreshUser
from broker.outbound.connect import complete_callback, start_connect
from broker.outbound.wire import ConnectRequest

router = APIRouter(tags=["outbound connect"])


@router.post("/v1/outbound/oauth/connect")
@router.post("/v1/mgmt/outbound/app/connect")
def connect(body: ConnectRequest, request: Request, caller: RefreshUser) -> dict[str, str]:
    """Start a connect for the signed-in user; answers ``{url}`` (the provider's consent page)."""
    return {"url": start_connect(broker_of(request), caller, body)}


@router.get(
    "/v1/outbound/oauth/callback",
    response_model=None,
    response_class=HTMLResponse,
    responses={302: {"description": "On to the connect's redirectUrl, outcome in the query"}},
)
def callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    """The provider redirects here; the browser goes on to the connect's redirectUrl.

    The parameters are RFC 6749 §4.1.2's; they are declared for the OpenAPI document and read
    from the whole query (a provider may add its own).
    """
    result = complete_callback(broker_of(request), dict(request.query_params))
    if result.redirect_url:
        return RedirectResponse(result.redirect_url, status_code=302)
    return HTMLResponse(result.error_page or "", status_code=400)
