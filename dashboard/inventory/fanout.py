"""The inventory as Descope's public API allows it: no "list all tokens" exists (reference §5).

Search users page by page → per user (and per tenant the user belongs to) the apps they hold a
usable token for (``apps-with-user-token``) → the latest token of every (user, app) pair the
admin asks about (every app, or the one of the query). ``apps-with-user-token`` lists only apps
with a *usable* token, so a token that needs a reconnect or expired for good is found by its
fetch, whose refusal is kept as a row with its classified outcome (needs re-auth, expired,
provider unavailable) rather than lost. Tenant-level tokens: the latest token of each
(tenant, app). Every call is a task of the ``Scan``: they overlap on a bounded thread pool and
wait out 429s as ``Retry-After`` says.

Calls against Descope's cloud: ``ceil(users / 100)`` searches, then per user and per tenant
membership ``1 + apps``, then ``tenants × apps``, plus one tenant list and one app list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial

from dashboard.descope import (
    NOT_CONNECTED,
    DashboardError,
    DescopeClient,
    ManagedToken,
    NotFound,
    ProviderUnavailable,
    Tenant,
    TokenRefused,
    User,
    apps_with_user_token,
    latest_tenant_token,
    latest_user_token,
    list_apps,
    list_tenants,
    search_users,
)
from dashboard.inventory.records import Connection, Failure, InventoryQuery, Step
from dashboard.inventory.scan import Scan, Task


class FanOut:
    """The tasks of one fan-out inventory, bound to a transport, a query and a scan."""

    def __init__(
        self, client: DescopeClient, query: InventoryQuery, scan: Scan, page_size: int
    ) -> None:
        self.client = client
        self.query = query
        self.scan = scan
        self.page_size = page_size
        self.app_ids: list[str] = []

    def first_tasks(self) -> list[Task]:
        """Where the inventory starts: the apps asked about, then everything else."""
        return [self.apps]

    def apps(self) -> Iterable[Task]:
        """The apps asked about → the first user page, and the tenants when wanted."""
        try:
            found = self.scan.polite(lambda: list_apps(self.client))
        except DashboardError as exc:
            self.scan.failed(Failure(step="apps", sentence=str(exc)))
            return []
        self.app_ids = [a.id for a in found if not self.query.app_id or a.id == self.query.app_id]
        first: list[Task] = [partial(self.user_page, 0)]
        if self.query.include_tenants and not self.query.user_ids and not self.query.user_text:
            first.append(self.tenants)
        return first

    def user_page(self, page: int) -> Iterable[Task]:
        """One page of users → the other pages (from page 0) and each user's app lists."""
        try:
            found = self.scan.polite(
                lambda: search_users(
                    self.client,
                    page=page,
                    limit=self.page_size,
                    text_filter=self.query.user_text,
                    user_ids=self.query.user_ids,
                )
            )
        except DashboardError as exc:
            self.scan.failed(Failure(step="users", sentence=f"User page {page + 1}: {exc}"))
            return []
        self.scan.scanned_users(len(found.users))
        follow: list[Task] = []
        if page == 0:
            follow += [partial(self.user_page, p) for p in range(1, found.pages)]
        for user in found.users:
            follow.append(partial(self.user_apps, user, ""))
            follow += [partial(self.user_apps, user, t.tenant_id) for t in user.tenants]
        return follow

    def user_apps(self, user: User, tenant_id: str) -> Iterable[Task]:
        """What a user (in a tenant, or not) holds → one fetch per app asked about."""
        try:
            held = self.scan.polite(
                lambda: apps_with_user_token(self.client, user.user_id, tenant_id=tenant_id or None)
            )
        except DashboardError as exc:
            self.scan.failed(self._user_failure("apps", exc, user, "", tenant_id))
            return []
        return [
            partial(self.user_token, user, app_id, tenant_id, app_id in held)
            for app_id in self.app_ids
        ]

    def user_token(self, user: User, app_id: str, tenant_id: str, held: bool) -> Iterable[Task]:
        """The latest token of one (user, app) pair (no secrets), or its refused fetch's outcome."""
        owner = Connection(
            token=ManagedToken.unfetched(app_id, user.user_id, tenant_id),
            user_name=user.name,
            user_email=user.email,
            user_login_id=next(iter(user.login_ids), ""),
            tenant_name=next((t.tenant_name for t in user.tenants if t.tenant_id == tenant_id), ""),
            held=held,
        )
        return self._settle(
            owner,
            lambda: latest_user_token(
                self.client, app_id, user.user_id, tenant_id=tenant_id or None
            ),
            lambda exc: self._user_failure("token", exc, user, app_id, tenant_id),
        )

    def _settle(
        self,
        owner: Connection,
        fetch: Callable[[], ManagedToken],
        failure: Callable[[DashboardError], Failure],
    ) -> Iterable[Task]:
        """Record ``owner`` with the fetched token, or with the refusal's outcome; not connected
        is nothing, any other error a failure."""
        try:
            token = self.scan.polite(fetch)
        except (TokenRefused, ProviderUnavailable) as exc:
            self.scan.found(replace(owner, token=owner.token.refused(exc)))
            return []
        except NotFound as exc:
            if exc.sentence != NOT_CONNECTED:
                self.scan.failed(failure(exc))
            return []
        except DashboardError as exc:
            self.scan.failed(failure(exc))
            return []
        self.scan.found(replace(owner, token=token.without_secrets()))
        return []

    @staticmethod
    def _user_failure(
        step: Step, exc: DashboardError, user: User, app_id: str, tenant_id: str
    ) -> Failure:
        return Failure(
            step=step,
            sentence=str(exc),
            user_id=user.user_id,
            user_label=user.display_name,
            app_id=app_id,
            tenant_id=tenant_id,
        )

    def tenants(self) -> Iterable[Task]:
        """Tenants × apps → one tenant-token fetch per pair."""
        try:
            found = self.scan.polite(lambda: list_tenants(self.client))
        except DashboardError as exc:
            self.scan.failed(Failure(step="tenants", sentence=str(exc)))
            return []
        return [
            partial(self.tenant_token, tenant, app_id)
            for tenant in found
            for app_id in self.app_ids
        ]

    def tenant_token(self, tenant: Tenant, app_id: str) -> Iterable[Task]:
        """The latest token of one (tenant, app) pair; a tenant not connected is no failure."""
        return self._settle(
            Connection(
                token=ManagedToken.unfetched(app_id, "", tenant.id), tenant_name=tenant.name
            ),
            lambda: latest_tenant_token(self.client, app_id, tenant.id),
            lambda exc: self._tenant_failure(tenant, app_id, exc),
        )

    @staticmethod
    def _tenant_failure(tenant: Tenant, app_id: str, exc: DashboardError) -> Failure:
        return Failure(
            step="token",
            sentence=str(exc),
            user_label=f"Tenant {tenant.name or tenant.id}",
            app_id=app_id,
            tenant_id=tenant.id,
        )
