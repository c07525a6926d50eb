"""Reusable outbound-app widgets: the Outbound App Button and the connect action.

Any page (or another Streamlit app using this package) can offer "Connect to Google" in three
calls; the outbound apps page uses exactly these::

    from dashboard.frame.widgets import ConnectAction, follow_link, outbound_app_button, watch_connect

    connect_to = ConnectAction(default_app_id="google-calendar")   # the app it connects to
    watch_connect()                         # unconditionally, once per page: the tab updates
    if outbound_app_button(app, label="Link your {name} calendar", style="secondary"):
        connect_to()                        # or connect_to(scopes=[...], tenant_id="t1")
    if pending := current_connect():
        follow_link(pending)                # the authorization URL as a link (new tab)

* ``outbound_app_button(app, label=, style=, icon=)`` draws the app's logo (only http(s) and
  ``data:image/`` URLs are drawn) and a button whose text defaults to "Connect to {name}";
  ``style`` is Streamlit's button type (primary, secondary, tertiary). It answers True when
  clicked, like ``st.button``.
* ``ConnectAction(default_app_id, redirect_url=, scopes=)`` is a callable; calling it asks the
  connect endpoint for an authorization URL with the signed-in session (or an explicit refresh
  JWT, ``token=``), remembers it as the tab's pending connect and returns it. The redirect URL
  defaults to the dashboard's landing page (``<dashboard url>/connected``).
* ``watch_connect()`` is a ``run_every`` fragment: while a connect is pending it polls the
  user's connections and reruns the whole page once they change (the OAuth redirect lands in a
  new tab and session, streamlit.md §1.8). Call it on every run of the page, not under a
  condition (streamlit.md §4 #11).

How they map to Descope's own front-end pieces (served by the broker too; README "Use
Descope's widget against the local broker"):

* ``outbound_app_button`` is the Streamlit stand-in for the Flows "Outbound App Button" (the
  ``descope-outbound-app-button`` / ``descope-outbound-apps`` components of
  ``@descope/web-components-ui``), whose click runs the ``outbound-apps-connect`` flow.
* ``ConnectAction`` is the Flows "Connect" action: the broker answers that flow's
  ``POST /v1/flow/start`` with the same connect (``start_connect``) this action reaches over
  ``/v1/outbound/oauth/connect``; the flow sends the browser back to the caller's page and resumes
  with ``/v1/flow/next``, where this action lands on the dashboard's ``/connected`` page and
  ``watch_connect`` notices the new connection. The flow's ``outbound-apps-disconnect`` twin is
  the dashboard's Disconnect (the broker revokes and deletes the user's tokens for the app in
  the same token service both reach).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import streamlit as st

from dashboard.app_listing import connect_fingerprint, initiator_sentence
from dashboard.authorization_url import with_login_hint
from dashboard.descope import (
    TOKEN_REFUSED,
    ConnectRequest,
    DashboardError,
    DescopeClient,
    OutboundApp,
    Secret,
    Unauthorized,
    connect,
    flow_status,
)
from dashboard.frame.keeper import current_client
from dashboard.frame.plain_text import (
    literal as literal,  # re-exported: the pages import it from here
)
from dashboard.frame.state import current_session, flash
from dashboard.inventory.cache import forget_inventories
from dashboard.settings import get_settings

PENDING_KEY = "widgets__pending_connect"
ENDED_KEY = "widgets__connect_ended"
ENDED_STATUSES = frozenset({"refused", "failed", "expired"})
POLL_INTERVAL = "2s"
PENDING_TTL_S = 600.0  # the broker keeps a pending authorization for 10 minutes
LANDING_PATH = "/connected"


def safe_image_url(url: str) -> str | None:
    """``url`` when it may be drawn as an image (http(s) or ``data:image/``), else None.

    ``st.image`` reads any other string as a local file path, and ``javascript:`` must never
    reach the page.
    """
    candidate = url.strip()
    lowered = candidate.lower()
    if lowered.startswith(("https://", "http://")) and " " not in candidate:
        return candidate
    if lowered.startswith("data:image/"):
        return candidate
    return None


def app_logo(logo: str, *, width: int = 40) -> None:
    """The app's logo when its URL is safe, else a neutral placeholder."""
    url = safe_image_url(logo)
    if url:
        st.image(url, width=width)
    else:
        st.markdown(":material/extension:")


def scope_chips(scopes: Sequence[str], *, color: str = "blue", empty: str = "none") -> None:
    """Scopes as chips in a row (each shown as typed)."""
    with st.container(horizontal=True, gap="small"):
        if not scopes:
            st.caption(empty)
        for scope in scopes:
            # st.badge escapes square brackets itself: escaped twice, the backslashes would show.
            label = literal(scope).replace("\\[", "[").replace("\\]", "]")
            st.badge(label, color=color)  # type: ignore[arg-type]


def outbound_app_button(
    app: OutboundApp,
    *,
    label: str = "Connect to {name}",
    style: str = "primary",
    icon: str | None = ":material/link:",
    key: str | None = None,
    show_logo: bool = True,
    disabled: bool = False,
) -> bool:
    """The Outbound App Button: logo and "Connect to {name}"; True when clicked.

    Descope's Flows counterpart: the "Outbound App Button" component, running the
    ``outbound-apps-connect`` flow (broker/outbound/flows.py).
    """
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        if show_logo:
            app_logo(app.logo, width=24)
        return st.button(
            label.replace("{name}", literal(app.name)),
            key=key or f"widgets__connect__{app.id}",
            type=style,  # type: ignore[arg-type]
            icon=icon,
            disabled=disabled,
        )


@dataclass(frozen=True)
class PendingConnect:
    """A connect this tab started: the link to follow and what to poll until it completes."""

    app_id: str
    app_name: str
    url: str
    requested: tuple[str, ...]
    redirect_url: str
    tenant_id: str
    user_id: str
    on_behalf: Secret | None
    baseline: tuple[tuple[str, ...], str]
    created_at: float

    def expired(self, now: float) -> bool:
        """Whether the broker has forgotten this authorization by now."""
        return now - self.created_at > PENDING_TTL_S


def landing_url() -> str:
    """The dashboard's landing page for OAuth redirects."""
    return get_settings().dashboard_url + LANDING_PATH


def landing_url_for(app_id: str) -> str:
    """The landing page naming the app, so that it can check the user's token for that app
    where the target does not report on the flow (Descope's cloud)."""
    return f"{landing_url()}?{urlencode({'app': app_id})}"


def current_connect() -> PendingConnect | None:
    """The tab's pending connect, if any."""
    pending = st.session_state.get(PENDING_KEY)
    return pending if isinstance(pending, PendingConnect) else None


def forget_connect() -> None:
    """Stop waiting for the tab's pending connect."""
    st.session_state.pop(PENDING_KEY, None)


def _client_for(token: Secret | None) -> DescopeClient:
    """The tab's client, or one acting as the holder of a pasted refresh JWT (verified)."""
    client = current_client()
    if token is None:
        return client
    try:
        return client.holding(token)
    except Unauthorized as exc:
        raise Unauthorized(TOKEN_REFUSED, status=401) from exc


@dataclass(frozen=True)
class ConnectAction:
    """A connect action with a default app: call it from any UI to get an authorization URL.

    Descope's Flows counterpart: the "Connect" action of ``outbound-apps-connect``; the broker
    runs both through the same connect service (broker/outbound/flows.py).
    """

    default_app_id: str
    redirect_url: str = ""
    scopes: tuple[str, ...] = ()

    def __call__(
        self,
        app_id: str | None = None,
        *,
        app_name: str = "",
        scopes: Sequence[str] | None = None,
        redirect_url: str = "",
        tenant_id: str = "",
        token: Secret | None = None,
    ) -> PendingConnect:
        """Start a connect (as the session's user, or as the holder of ``token``)."""
        app_id = app_id or self.default_app_id
        redirect = redirect_url or self.redirect_url or landing_url()
        request = ConnectRequest(
            app_id=app_id,
            redirect_url=landing_url_for(app_id) if redirect == landing_url() else redirect,
            scopes=tuple(self.scopes if scopes is None else scopes),
            tenant_id=tenant_id.strip(),
        )
        client = _client_for(token or None)
        if not client.holds_given_jwt and client.session is None:
            raise Unauthorized()
        url = connect(client, request)
        if client.session is not None:  # the provider starts on this person
            url = with_login_hint(url, client.session.user.email)
        pending = PendingConnect(
            app_id=request.app_id,
            app_name=app_name or request.app_id,
            url=url,
            requested=request.scopes,
            redirect_url=request.redirect_url,
            tenant_id=request.tenant_id,
            user_id=client.user_id,
            on_behalf=token or None,
            baseline=connect_fingerprint(client, request.app_id),
            created_at=time.time(),
        )
        st.session_state[PENDING_KEY] = pending
        return pending


def follow_link(pending: PendingConnect, *, label: str = "Open the consent page") -> None:
    """The authorization URL as a link button (it opens a new tab)."""
    st.link_button(
        label,
        pending.url,
        type="primary",
        icon=":material/open_in_new:",
        key="widgets__follow_link",
    )


def _client_of(pending: PendingConnect) -> DescopeClient | None:
    """The client the connect was started with (None once the tab has signed out)."""
    if pending.on_behalf:
        return current_client().holding(pending.on_behalf)
    return current_client() if current_session() is not None else None


def _ended_without_token(pending: PendingConnect, client: DescopeClient) -> str | None:
    """The sentence for a connect the broker says ended with nothing stored (None otherwise,
    or where the target cannot say: Descope's cloud)."""
    state = dict(parse_qsl(urlsplit(pending.url).query)).get("state", "")
    status = flow_status(client, state) if state else None
    if status is None or status.status not in ENDED_STATUSES:
        return None
    return initiator_sentence(literal(pending.app_name), status.status, status.error)


def _dismiss_ended() -> None:
    st.session_state.pop(ENDED_KEY, None)


@st.fragment(run_every=POLL_INTERVAL)
def watch_connect() -> None:
    """While a connect is pending, poll it; rerun the page once it completes or ends.

    It also shows, until dismissed, why the tab's last connect ended without a token (the
    broker's flow status: e.g. someone else finished the consent).
    """
    ended = st.session_state.get(ENDED_KEY)
    if isinstance(ended, str):
        st.error(ended, icon=":material/gpp_bad:")
        st.button("Dismiss", key="widgets__dismiss_ended", on_click=_dismiss_ended)
    pending = current_connect()
    if pending is None:
        return
    if pending.expired(time.time()):
        forget_connect()
        return
    try:
        client = _client_of(pending)
        if client is None:
            return
        ended_now = _ended_without_token(pending, client)
        now = connect_fingerprint(client, pending.app_id)
    except DashboardError as exc:
        st.caption(f":material/warning: {exc.sentence}")
        return
    if ended_now is not None:
        forget_connect()
        st.session_state[ENDED_KEY] = ended_now
        st.rerun(scope="app")
    if now != pending.baseline:
        forget_connect()
        forget_inventories()  # the tokens page shows the new connection at once
        flash(f"Connected to {literal(pending.app_name)}.", icon=":material/check_circle:")
        st.rerun(scope="app")
    st.caption(f":material/hourglass_top: Waiting for the consent at {literal(pending.app_name)}…")
