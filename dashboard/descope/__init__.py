"""The dashboard's Descope client: one object per tab, the calls it makes, models and errors.

Import from here, never from the modules inside (``__all__`` is the public surface):

* ``DescopeClient`` (``client.py``) owns the pooled ``Transport``, the tab's ``Session`` (through
  a ``SessionStore``) and refresh-on-401; the UI never handles a JWT or the transport.
* Calls are functions taking the client: sign-in (``auth``), outbound apps and connect
  (``outbound``), the provider catalog (``catalog``), managed tokens (``tokens``), connect flows and reconnect links
  (``connect_flows``), token history (``events``), access keys and agent calls
  (``access_keys``), users and tenants (``management``).
* Models are frozen dataclasses parsed at the edge (``models``, and beside their calls);
  ``errors`` opens with the exception tree; ``Secret`` masks every token and key.

Only ``transport.py`` imports httpx. Nothing here imports Streamlit or the rest of ``dashboard``.
"""

from __future__ import annotations

from dashboard.descope.access_keys import (
    AccessKey,
    AppAgentCalls,
    agent_calls,
    create_access_key,
    delete_access_key,
    user_access_keys,
)
from dashboard.descope.auth import (
    otp_start,
    otp_verify,
    password_sign_in,
    password_sign_up,
    read_outbox,
)
from dashboard.descope.catalog import (
    CatalogTemplate,
    KnownScope,
    load_catalog,
)
from dashboard.descope.client import (
    DescopeClient,
    MemorySessions,
    SessionStore,
)
from dashboard.descope.connect_flows import (
    FlowAnswer,
    FlowStatus,
    ReconnectLink,
    confirm_flow,
    create_reconnect_link,
    flow_status,
    start_reconnect,
)
from dashboard.descope.errors import (
    AlreadyExists,
    ApiError,
    BadRequest,
    ConfigurationError,
    DashboardError,
    EmailNotConfigured,
    EmailNotSent,
    NotAllowed,
    NotFound,
    ServerError,
    SessionExpired,
    Throttled,
    Unauthorized,
    UnknownUser,
    Unreachable,
    WrongCode,
    WrongPassword,
)
from dashboard.descope.events import (
    TokenEvent,
    last_refreshed,
    record_reveal,
    token_history,
    was_deleted,
)
from dashboard.descope.fetch_errors import (
    EXPIRED_FOR_GOOD,
    NEEDS_RECONNECT,
    NOT_CONNECTED,
    PROVIDER_UNAVAILABLE,
    ProviderUnavailable,
    TokenRefused,
    fetch_error,
)
from dashboard.descope.keys import (
    KeySet,
)
from dashboard.descope.management import (
    USER_PAGE_SIZE,
    Tenant,
    UserPage,
    list_tenants,
    search_users,
)
from dashboard.descope.models import (
    AuthResult,
    OtpStarted,
    OutboxMessage,
    User,
    UserTenant,
)
from dashboard.descope.outbound import (
    APP_GONE,
    CONNECT_REFUSED,
    NAME_TAKEN,
    REDIRECT_NOT_ALLOWED,
    TOKEN_REFUSED,
    ConnectRequest,
    OutboundApp,
    connect,
    create_app,
    create_by_template,
    delete_app,
    list_apps,
    load_app,
    update_app,
    with_defaults,
)
from dashboard.descope.parsing import (
    mapping,
    number,
    text,
    texts,
    timestamp,
)
from dashboard.descope.secret import (
    Secret,
)
from dashboard.descope.session import (
    Session,
)
from dashboard.descope.tokens import (
    DeleteOutcome,
    ManagedToken,
    Revocation,
    apps_with_user_token,
    delete_token,
    delete_user_tokens,
    latest_tenant_token,
    latest_user_token,
    tenant_token_by_scopes,
    user_token_by_scopes,
)
from dashboard.descope.transport import (
    Transport,
    call_url,
    shared_transport,
)

__all__ = [
    "APP_GONE",
    "CONNECT_REFUSED",
    "EXPIRED_FOR_GOOD",
    "NAME_TAKEN",
    "NEEDS_RECONNECT",
    "NOT_CONNECTED",
    "PROVIDER_UNAVAILABLE",
    "REDIRECT_NOT_ALLOWED",
    "TOKEN_REFUSED",
    "USER_PAGE_SIZE",
    "AccessKey",
    "AlreadyExists",
    "ApiError",
    "AppAgentCalls",
    "AuthResult",
    "BadRequest",
    "CatalogTemplate",
    "ConfigurationError",
    "ConnectRequest",
    "DashboardError",
    "DeleteOutcome",
    "DescopeClient",
    "EmailNotConfigured",
    "EmailNotSent",
    "FlowAnswer",
    "FlowStatus",
    "KeySet",
    "KnownScope",
    "ManagedToken",
    "MemorySessions",
    "NotAllowed",
    "NotFound",
    "OtpStarted",
    "OutboundApp",
    "OutboxMessage",
    "ProviderUnavailable",
    "ReconnectLink",
    "Revocation",
    "Secret",
    "ServerError",
    "Session",
    "SessionExpired",
    "SessionStore",
    "Tenant",
    "Throttled",
    "TokenEvent",
    "TokenRefused",
    "Transport",
    "Unauthorized",
    "UnknownUser",
    "Unreachable",
    "User",
    "UserPage",
    "UserTenant",
    "WrongCode",
    "WrongPassword",
    "agent_calls",
    "apps_with_user_token",
    "call_url",
    "confirm_flow",
    "connect",
    "create_access_key",
    "create_app",
    "create_by_template",
    "create_reconnect_link",
    "delete_access_key",
    "delete_app",
    "delete_token",
    "delete_user_tokens",
    "fetch_error",
    "flow_status",
    "last_refreshed",
    "latest_tenant_token",
    "latest_user_token",
    "list_apps",
    "list_tenants",
    "load_app",
    "load_catalog",
    "mapping",
    "number",
    "otp_start",
    "otp_verify",
    "password_sign_in",
    "password_sign_up",
    "read_outbox",
    "record_reveal",
    "search_users",
    "shared_transport",
    "start_reconnect",
    "tenant_token_by_scopes",
    "text",
    "texts",
    "timestamp",
    "token_history",
    "update_app",
    "user_access_keys",
    "user_token_by_scopes",
    "was_deleted",
    "with_defaults",
]
