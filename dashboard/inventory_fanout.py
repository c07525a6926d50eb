"""The inventory as Descope's public API allows it: no "list all tokens" exists (reference §5).

Search users page by page → per user (and per tenant the user belongs to) the apps they hold a
token for → the latest token of each (user, app); and, for tenant-level tokens, the latest token
of each (tenant, app). Every call is a task of the ``Scan``, so they overlap on a thread pool.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from dashboard.descope import management, outbound, tokens
from dashboard.descope.errors import DashboardError, NotFound
from dashboard.descope.models import User
from dashboard.descope.transport import Transport
from dashboard.inventory_records import Connection, Failure, InventoryQuery
from dashboard.inventory_scan import Scan, Task


class FanOut:
    """The tasks of one fan-out inventory, bound to a transport, a query and a scan."""

    def __init__(
        self, transport: Transport, query: InventoryQuery, scan: Scan, page_size: int
    ) -> None:
        self.transport = transport
        self.query = query
        self.scan = scan
        self.page_size = page_size

    def first_tasks(self) -> list[Task]:
        """Where the inventory starts: the first user page, and the tenants when wanted."""
        first: list[Task] = [partial(self.user_page, 0)]
        if self.query.include_tenants and not self.query.user_ids and not self.query.user_text:
            first.append(self.tenants)
        return first

    def user_page(self, page: int) -> Iterable[Task]:
        """One page of users → the other pages (from page 0) and each user's app lists."""
        try:
            found = self.scan.polite(
                lambda: management.search_users(
                    self.transport,
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
        """The apps a user (in a tenant, or not) holds a token for → one fetch per app."""
        try:
            app_ids = self.scan.polite(
                lambda: tokens.apps_with_user_token(
                    self.transport, user.user_id, tenant_id=tenant_id or None
                )
            )
        except DashboardError as exc:
            self.scan.failed(
                Failure(
                    step="apps",
                    sentence=str(exc),
                    user_id=user.user_id,
                    user_label=user.display_name,
                    tenant_id=tenant_id,
                )
            )
            return []
        wanted = [a for a in app_ids if not self.query.app_id or a == self.query.app_id]
        return [partial(self.user_token, user, app_id, tenant_id) for app_id in wanted]

    def user_token(self, user: User, app_id: str, tenant_id: str) -> Iterable[Task]:
        """The latest token of one (user, app) pair, recorded without its secrets."""
        try:
            token = self.scan.polite(
                lambda: tokens.latest_user_token(
                    self.transport, app_id, user.user_id, tenant_id=tenant_id or None
                )
            )
        except DashboardError as exc:
            self.scan.failed(
                Failure(
                    step="token",
                    sentence=str(exc),
                    user_id=user.user_id,
                    user_label=user.display_name,
                    app_id=app_id,
                    tenant_id=tenant_id,
                )
            )
            return []
        tenant_name = next((t.tenant_name for t in user.tenants if t.tenant_id == tenant_id), "")
        self.scan.found(
            Connection(
                token=token.without_secrets(),
                user_name=user.name,
                user_email=user.email,
                user_login_id=next(iter(user.login_ids), ""),
                tenant_name=tenant_name,
            )
        )
        return []

    def tenants(self) -> Iterable[Task]:
        """Tenants × apps → one tenant-token fetch per pair."""
        try:
            found = self.scan.polite(lambda: management.list_tenants(self.transport))
            apps = self.scan.polite(lambda: outbound.list_apps(self.transport))
        except DashboardError as exc:
            self.scan.failed(Failure(step="tenants", sentence=str(exc)))
            return []
        wanted = [a.id for a in apps if not self.query.app_id or a.id == self.query.app_id]
        return [partial(self.tenant_token, tenant, app_id) for tenant in found for app_id in wanted]

    def tenant_token(self, tenant: management.Tenant, app_id: str) -> Iterable[Task]:
        """The latest token of one (tenant, app) pair; a tenant not connected is no failure."""
        try:
            token = self.scan.polite(
                lambda: tokens.latest_tenant_token(self.transport, app_id, tenant.id)
            )
        except NotFound as exc:
            if exc.sentence == tokens.NOT_CONNECTED:
                return []
            self._tenant_failed(tenant, app_id, exc)
            return []
        except DashboardError as exc:
            self._tenant_failed(tenant, app_id, exc)
            return []
        self.scan.found(Connection(token=token.without_secrets(), tenant_name=tenant.name))
        return []

    def _tenant_failed(self, tenant: management.Tenant, app_id: str, exc: DashboardError) -> None:
        self.scan.failed(
            Failure(
                step="token",
                sentence=str(exc),
                user_label=f"Tenant {tenant.name or tenant.id}",
                app_id=app_id,
                tenant_id=tenant.id,
            )
        )
