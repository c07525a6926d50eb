"""Actions on one token, each confirmed first and reported in one sentence.

Buttons only ask (``on_click`` stores the pending action); the confirmation's button performs it
in its ``on_click`` callback, so AppTest and the browser drive the same code (streamlit.md §1.7).
The outcome is kept in session state and shown above the actions on the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import streamlit as st

from dashboard.descope import (
    NOT_CONNECTED,
    DashboardError,
    ManagedToken,
    NotAllowed,
    NotFound,
    call_url,
    delete_token,
    delete_user_tokens,
    latest_tenant_token,
    latest_user_token,
    tenant_token_by_scopes,
    user_token_by_scopes,
)
from dashboard.frame.keeper import current_client
from dashboard.frame.widgets import literal
from dashboard.inventory.cache import SHARED, Change, removing, replacing
from dashboard.inventory.records import Connection
from dashboard.inventory.trial import TrialRequest, looks_expired
from dashboard.ui.failures import UNEXPECTED

Action = Literal["refresh", "try", "delete", "disconnect"]
Level = Literal["success", "warning", "error"]

PENDING_KEY = "tokens__pending"
OUTCOME_KEY = "tokens__outcome"
SELECTED_KEY = "tokens__selected"
TABLE_GENERATION_KEY = "tokens__table_generation"
SCOPES_KEY = "tokens__check_scopes"
PREVIEW_CHARS = 400

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What an action did, in one sentence, with a short body preview for "try the token"."""

    level: Level
    sentence: str
    preview: str = ""


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "no expiry"


def _fetch(connection: Connection, *, force_refresh: bool = False) -> ManagedToken:
    """The token now, with its secrets, by the owner it belongs to."""
    token, client = connection.token, current_client()
    if token.is_tenant_token:
        return latest_tenant_token(
            client, token.app_id, token.tenant_id, force_refresh=force_refresh
        )
    return latest_user_token(
        client,
        token.app_id,
        token.user_id,
        tenant_id=token.tenant_id or None,
        force_refresh=force_refresh,
    )


def fetch_secret_token(connection: Connection) -> ManagedToken:
    """The token with its access token, for an explicit reveal (never cached)."""
    return _fetch(connection)


def _refresh(connection: Connection, _: TrialRequest | None) -> Outcome:
    fresh = _fetch(connection, force_refresh=True)
    SHARED.update_all(
        replacing(
            Connection(
                token=fresh.without_secrets(),
                user_name=connection.user_name,
                user_email=connection.user_email,
                user_login_id=connection.user_login_id,
                tenant_name=connection.tenant_name,
            )
        )
    )
    before, after = connection.token.access_token_expiry, fresh.access_token_expiry
    if fresh.last_refresh_error:
        # The broker keeps a still-valid token when the provider fails transiently.
        return Outcome(
            "warning",
            f"The provider did not refresh it ({literal(fresh.last_refresh_error[:120])});"
            f" the current access token stays valid until {_when(after)}.",
        )
    return Outcome(
        "success",
        f"Refreshed: the access token now expires {_when(after)} (before: {_when(before)}).",
    )


def _call(trial: TrialRequest, token: ManagedToken) -> tuple[int, str]:
    return call_url(
        trial.method, trial.url, token.access_token, headers=trial.headers, body=trial.body
    )


def _try(connection: Connection, trial: TrialRequest | None) -> Outcome:
    if trial is None:
        return Outcome("warning", "The catalog names no test endpoint for this app.")
    token = _fetch(connection)
    status, body = _call(trial, token)
    after = ""
    if looks_expired(status, body, trial.expired_codes) and token.has_refresh_token:
        # The provider's own session timeout ended it early (Salesforce): refresh once, retry.
        token = _fetch(connection, force_refresh=True)
        status, body = _call(trial, token)
        after = " after a refresh (the first answer said the token was no longer valid)"
    ok = 200 <= status < 300 and not looks_expired(status, body, trial.expired_codes)
    level: Level = "success" if ok else "warning"
    sentence = f"{trial.method} {trial.url} answered HTTP {status}{after}."
    return Outcome(level, sentence, body[:PREVIEW_CHARS])


def clear_selection() -> None:
    """No token is selected any more (its detail closes)."""
    st.session_state.pop(SELECTED_KEY, None)
    # A new table key clears the table's row selection, which would now point at another row.
    st.session_state[TABLE_GENERATION_KEY] = st.session_state.get(TABLE_GENERATION_KEY, 0) + 1


def _forget(change: Change) -> None:
    SHARED.update_all(change)
    clear_selection()


def _delete(connection: Connection, trial: TrialRequest | None) -> Outcome:
    if not connection.token.fetched:  # a refused fetch named no token id: delete by owner
        if connection.token.is_tenant_token:
            raise NotAllowed(UNKNOWN_TENANT_TOKEN)
        return _disconnect(connection, trial)
    token_id = connection.token.id
    outcome = delete_token(current_client(), token_id)
    _forget(removing(lambda c: c.token.id != token_id))
    return Outcome("success", outcome.sentence)


def _disconnect(connection: Connection, _: TrialRequest | None) -> Outcome:
    app_id, user_id = connection.token.app_id, connection.token.user_id
    outcome = delete_user_tokens(current_client(), app_id=app_id, user_id=user_id)
    _forget(removing(lambda c: not (c.token.app_id == app_id and c.token.user_id == user_id)))
    return Outcome(
        "success",
        f"Disconnected {literal(connection.owner_label)} from {literal(app_id)}."
        f" {outcome.sentence}",
    )


UNKNOWN_TENANT_TOKEN = (
    "The service did not name this tenant token (its fetch was refused), so it cannot be deleted"
    " from here; connecting the tenant again replaces it."
)
_PERFORM = {"refresh": _refresh, "try": _try, "delete": _delete, "disconnect": _disconnect}


def ask(action: Action, token_id: str) -> None:
    """Callback: remember which action awaits confirmation."""
    st.session_state[PENDING_KEY] = (action, token_id)
    st.session_state.pop(OUTCOME_KEY, None)


def cancel() -> None:
    """Callback: drop the pending action."""
    st.session_state.pop(PENDING_KEY, None)


def perform(action: Action, connection: Connection, trial: TrialRequest | None = None) -> None:
    """Callback: run a confirmed action and keep its one-sentence outcome."""
    st.session_state.pop(PENDING_KEY, None)
    try:
        outcome = _PERFORM[action](connection, trial)
    except DashboardError as exc:
        outcome = Outcome("error", exc.sentence)
    except Exception:
        log.exception("token action %s failed", action)
        outcome = Outcome("error", UNEXPECTED)
    st.session_state[OUTCOME_KEY] = outcome


def check_scopes(connection: Connection) -> None:
    """Callback: does a token of this owner and app hold every scope typed in?"""
    wanted = [s for s in str(st.session_state.get(SCOPES_KEY, "")).replace(",", " ").split() if s]
    token, client = connection.token, current_client()
    if not wanted:
        st.session_state[OUTCOME_KEY] = Outcome("warning", "Type one or more scopes to look for.")
        return
    listed = literal(", ".join(wanted))
    try:
        if token.is_tenant_token:
            found = tenant_token_by_scopes(client, token.app_id, token.tenant_id, wanted)
        else:
            found = user_token_by_scopes(
                client, token.app_id, token.user_id, wanted, tenant_id=token.tenant_id or None
            )
    except NotFound as exc:
        if exc.sentence != NOT_CONNECTED:
            st.session_state[OUTCOME_KEY] = Outcome("error", exc.sentence)
            return
        st.session_state[OUTCOME_KEY] = Outcome(
            "warning",
            f"No: no token of {literal(connection.owner_label)} for {literal(token.app_id)}"
            f" holds {listed}.",
        )
        return
    except DashboardError as exc:
        st.session_state[OUTCOME_KEY] = Outcome("error", exc.sentence)
        return
    st.session_state[OUTCOME_KEY] = Outcome("success", f"Yes: token {found.id} holds {listed}.")


_QUESTIONS = {
    "refresh": "Refresh {owner}'s {app} token at the provider now?",
    "try": "Call {url} with {owner}'s {app} access token?",
    "delete": "Delete token {token_id} of {owner} for {app} (revoking it at the provider)?",
    "disconnect": "Disconnect {owner} from {app}: delete every token they hold for it?",
}


def render_outcome() -> None:
    """Show the last action's outcome, if any."""
    outcome = st.session_state.get(OUTCOME_KEY)
    if not isinstance(outcome, Outcome):
        return
    show = {"success": st.success, "warning": st.warning, "error": st.error}[outcome.level]
    show(outcome.sentence)
    if outcome.preview:
        st.caption("Response body (first characters)")
        st.code(outcome.preview, language="json")


def render_actions(connection: Connection, trial: TrialRequest | None) -> None:
    """The action buttons of one token, the pending confirmation, and the scope check."""
    token = connection.token
    with st.container(horizontal=True):
        st.button(
            "Force refresh", key="tokens__ask_refresh", on_click=ask, args=("refresh", token.id)
        )
        st.button(
            "Try the token",
            key="tokens__ask_try",
            on_click=ask,
            args=("try", token.id),
            disabled=trial is None,
            help=None if trial else "The catalog names no test endpoint for this app.",
        )
        st.button("Delete token", key="tokens__ask_delete", on_click=ask, args=("delete", token.id))
        if not token.is_tenant_token:
            st.button(
                "Disconnect user from app",
                key="tokens__ask_disconnect",
                on_click=ask,
                args=("disconnect", token.id),
            )
    pending = st.session_state.get(PENDING_KEY)
    if isinstance(pending, tuple) and pending[1] == token.id:
        action: Action = pending[0]
        with st.container(border=True, key="tokens__confirm_box"):
            st.write(
                _QUESTIONS[action].format(
                    owner=literal(connection.owner_label),
                    app=literal(token.app_id),
                    token_id=literal(token.id),
                    url=literal(f"{trial.method} {trial.url}" if trial else ""),
                )
            )
            with st.container(horizontal=True):
                st.button(
                    "Confirm",
                    key="tokens__confirm",
                    type="primary",
                    on_click=perform,
                    args=(action, connection, trial),
                )
                st.button("Cancel", key="tokens__cancel", on_click=cancel)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input(
            "Does a token with these scopes exist?",
            key=SCOPES_KEY,
            placeholder="calendar.read email",
        )
        st.button("Check scopes", key="tokens__check", on_click=check_scopes, args=(connection,))
