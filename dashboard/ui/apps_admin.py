"""Admin (management key and an admin role): create, edit defaults, delete outbound apps.

The client secret goes in a password field inside a form that clears on submit: it is sent
once and never shown again (the service never returns it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from dashboard.app_listing import AppListing
from dashboard.authorization_url import split_scopes
from dashboard.descope import (
    CatalogTemplate,
    DashboardError,
    DescopeClient,
    OutboundApp,
    Secret,
    create_app,
    create_by_template,
    delete_app,
    load_app,
    update_app,
    with_defaults,
)
from dashboard.frame.keeper import current_client
from dashboard.frame.widgets import literal
from dashboard.inventory.cache import forget_inventories
from dashboard.inventory.collect import InventoryQuery, collect_inventory
from dashboard.ui.apps_notice import notify

DELETE_KEY = "apps__delete"
VARIABLES_HELP = (
    "Only for templates whose endpoints have placeholders; empty keeps each default."
    " **Salesforce**: instance=login (default, production), instance=test (a sandbox, or use"
    " the Salesforce sandbox template) or your My Domain, e.g. instance=acme.my for"
    " acme.my.salesforce.com. **Microsoft**: tenant=common (default, any account); a"
    " single-tenant app registration needs its directory (tenant) id or domain, e.g."
    " tenant=contoso.onmicrosoft.com, or sign-in fails with AADSTS50194."
    " **Zendesk**: subdomain=acme for acme.zendesk.com (required)."
)
ADMIN_ERROR_KEY = "apps__admin_error"


def _variables(raw: str) -> dict[str, str]:
    """``name=value`` pairs, comma-separated."""
    pairs = (part.split("=", 1) for part in raw.split(",") if "=" in part)
    return {k.strip(): v.strip() for k, v in pairs if k.strip()}


def _field(name: str) -> str:
    """A create form's field from session state, stripped."""
    return str(st.session_state.get(f"apps__{name}") or "").strip()


def _take_secret(name: str) -> Secret | None:
    """The typed client secret, cleared from the form at once (it is never shown again)."""
    value = str(st.session_state.get(f"apps__{name}") or "")
    st.session_state[f"apps__{name}"] = ""
    return Secret(value) if value else None


def _create(form: str, create: Callable[[DescopeClient], OutboundApp]) -> None:
    """Run a create; its outcome as the page notice, or its sentence under the form."""
    st.session_state.pop(ADMIN_ERROR_KEY, None)
    try:
        app = create(current_client())
    except DashboardError as exc:
        st.session_state[ADMIN_ERROR_KEY] = (form, exc.sentence)
        return
    forget_inventories()
    notify("success", f"Created the app {literal(app.name)} ({literal(app.id)}).")


def _show_error(form: str) -> None:
    failed = st.session_state.get(ADMIN_ERROR_KEY)
    if failed and failed[0] == form:
        st.error(failed[1], icon=":material/error:")


def _create_from_template() -> None:
    secret = _take_secret("template_secret")
    name = _field("template_name")
    _create(
        "template",
        lambda client: create_by_template(
            client,
            _field("template_id"),
            app_id=_field("template_app_id"),
            client_id=_field("template_client_id"),
            client_secret=secret,
            overrides={"name": name} if name else None,
            base_url=_field("template_base_url"),
            variables=_variables(_field("template_variables")),
        ),
    )


def _template_form(catalog: Sequence[CatalogTemplate]) -> None:
    by_id = {t.id: t for t in catalog}
    with st.form("apps__template_form", clear_on_submit=True):
        st.selectbox(
            "Template", list(by_id), format_func=lambda i: by_id[i].name, key="apps__template_id"
        )
        st.text_input("App id (optional)", key="apps__template_app_id")
        st.text_input("Name (optional: the template's name)", key="apps__template_name")
        st.text_input("Client id", key="apps__template_client_id")
        st.text_input("Client secret", type="password", key="apps__template_secret")
        st.text_input(
            "Provider base URL (templates with relative endpoints, e.g. the demo provider)",
            key="apps__template_base_url",
        )
        st.text_input(
            "Template variables (name=value, comma-separated)",
            key="apps__template_variables",
            placeholder="instance=test",
            help=VARIABLES_HELP,
        )
        st.form_submit_button(
            "Create app",
            type="primary",
            key="apps__template_create",
            on_click=_create_from_template,
        )
    _show_error("template")


def _create_custom() -> None:
    secret = _take_secret("custom_secret")
    if not _field("custom_name"):
        st.session_state[ADMIN_ERROR_KEY] = ("custom", "Give the app a name.")
        return
    draft = OutboundApp(
        id=_field("custom_id"),
        name=_field("custom_name"),
        description=_field("custom_description"),
        logo=_field("custom_logo"),
        client_id=_field("custom_client_id"),
        discovery_url=_field("custom_discovery"),
        authorization_url=_field("custom_authorization"),
        token_url=_field("custom_token"),
        revocation_url=_field("custom_revocation"),
        default_scopes=split_scopes(_field("custom_scopes")),
        default_redirect_url=_field("custom_redirect"),
        pkce=bool(st.session_state.get("apps__custom_pkce", True)),
    )
    _create("custom", lambda client: create_app(client, draft, secret))


def _custom_form() -> None:
    with st.form("apps__custom_form", clear_on_submit=True):
        st.text_input("Name", key="apps__custom_name")
        st.text_input("App id (optional)", key="apps__custom_id")
        st.text_input("Description", key="apps__custom_description")
        st.text_input("Logo URL (https or data:image)", key="apps__custom_logo")
        st.text_input("Client id", key="apps__custom_client_id")
        st.text_input("Client secret", type="password", key="apps__custom_secret")
        st.text_input("Discovery URL (optional)", key="apps__custom_discovery")
        st.text_input("Authorization URL", key="apps__custom_authorization")
        st.text_input("Token URL", key="apps__custom_token")
        st.text_input("Revocation URL (optional)", key="apps__custom_revocation")
        st.text_input("Default scopes (space-separated)", key="apps__custom_scopes")
        st.text_input("Default redirect URL (optional)", key="apps__custom_redirect")
        st.checkbox("Use PKCE", value=True, key="apps__custom_pkce")
        st.form_submit_button(
            "Create app", type="primary", key="apps__custom_create", on_click=_create_custom
        )
    _show_error("custom")


def _edit_form(listings: Sequence[AppListing]) -> None:
    apps = {item.app.id: item.app for item in listings}
    if not apps:
        st.caption("No app to edit yet.")
        return
    app_id = st.selectbox(
        "App", list(apps), format_func=lambda i: apps[i].name, key="apps__edit_app"
    )
    app = apps[app_id]
    with st.form(f"apps__edit_form__{app_id}"):
        scopes = st.text_input(
            "Default scopes (space-separated)",
            value=" ".join(app.default_scopes),
            key=f"apps__edit_scopes__{app_id}",
        )
        redirect = st.text_input(
            "Default redirect URL",
            value=app.default_redirect_url,
            key=f"apps__edit_redirect__{app_id}",
        )
        submitted = st.form_submit_button("Save", type="primary", key="apps__edit_save")
    if not submitted:
        return
    client = current_client()
    try:
        fresh = load_app(client, app_id)
        update_app(client, with_defaults(fresh, split_scopes(scopes), redirect))
    except DashboardError as exc:
        st.error(exc.sentence, icon=":material/error:")
        return
    forget_inventories()
    notify("success", f"Saved the defaults of {literal(app.name)}.")
    st.rerun()


def tokens_of_app(app_id: str) -> tuple[int, int]:
    """How many stored tokens belong to the app, and of how many users (the delete's impact)."""
    inventory = collect_inventory(current_client(), InventoryQuery(app_id=app_id))
    users = {c.token.user_id for c in inventory.connections if c.token.user_id}
    return len(inventory.connections), len(users)


def _delete(app_id: str, app_name: str) -> None:
    st.session_state.pop(DELETE_KEY, None)
    try:
        delete_app(current_client(), app_id)
    except DashboardError as exc:
        notify("error", exc.sentence)
        return
    forget_inventories()
    notify("success", f"Deleted the app {literal(app_name)} and its tokens.")


def _ask_delete(app_id: str) -> None:
    st.session_state[DELETE_KEY] = app_id


def _cancel_delete() -> None:
    st.session_state.pop(DELETE_KEY, None)


@st.dialog("Delete this app?")
def _confirm_delete(app: OutboundApp) -> None:
    if st.session_state.get(DELETE_KEY) != app.id:
        st.rerun()  # a button's callback answered; the dialog is a fragment
    try:
        tokens, users = tokens_of_app(app.id)
    except DashboardError as exc:
        st.warning(f"The impact could not be counted: {exc.sentence}")
        tokens, users = -1, 0
    if tokens >= 0:
        noun = "token" if tokens == 1 else "tokens"
        st.markdown(
            f"Deleting **{literal(app.name)}** also deletes **{tokens} stored {noun}**"
            f" ({users} {'user' if users == 1 else 'users'} lose the connection)."
        )
    with st.container(horizontal=True):
        st.button(
            "Delete app",
            type="primary",
            key="apps__delete_confirm",
            on_click=_delete,
            args=(app.id, app.name),
        )
        st.button("Cancel", key="apps__delete_cancel", on_click=_cancel_delete)


def _delete_section(listings: Sequence[AppListing]) -> None:
    apps = {item.app.id: item.app for item in listings}
    if not apps:
        st.caption("No app to delete.")
        return
    app_id = st.selectbox(
        "App to delete", list(apps), format_func=lambda i: apps[i].name, key="apps__delete_app"
    )
    st.button("Delete…", key="apps__delete_ask", on_click=_ask_delete, args=(app_id,))
    wanted = st.session_state.get(DELETE_KEY)
    if wanted in apps:
        _confirm_delete(apps[wanted])


def render_admin(catalog: Sequence[CatalogTemplate] | None, listings: Sequence[AppListing]) -> None:
    """The admin section: create (template or custom), edit defaults, delete."""
    labels = ["Create from a template", "Create a custom OAuth app", "Edit defaults", "Delete"]
    if not catalog:
        labels = labels[1:]
    tabs = dict(zip(labels, st.tabs(labels), strict=True))
    if catalog:
        with tabs["Create from a template"]:
            _template_form(catalog)
    with tabs["Create a custom OAuth app"]:
        _custom_form()
    with tabs["Edit defaults"]:
        _edit_form(listings)
    with tabs["Delete"]:
        _delete_section(listings)
