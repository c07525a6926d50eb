"""owner_sort: the tokens page's order kept on each token row, indexed

Revision ID: 0008_owner_sort
Revises: 0007_agents_mcp
Create Date: 2026-11-30 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_owner_sort"
down_revision = "0007_agents_mcp"
branch_labels = None
depends_on = None

OWNER_SORT = sa.String(256).with_variant(sa.String(256, collation="C"), "postgresql")
BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("outbound_tokens") as batch:
        batch.add_column(sa.Column("owner_sort", OWNER_SORT, nullable=False, server_default=""))
    op.create_index(
        "ix_outbound_tokens_owner_sort", "outbound_tokens", ["owner_sort", "app_id", "id"]
    )
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """Every existing token's key, as ``broker.store.owners`` makes it (in Python: its
    lower-casing is Unicode's, which SQLite's ``lower`` is not)."""
    rows = conn.execute(
        sa.text(
            "SELECT t.id, t.user_id, t.tenant_id, u.name, u.email, n.name,"
            " (SELECT l.login_id FROM login_ids l WHERE l.user_id = t.user_id"
            " ORDER BY l.position LIMIT 1)"
            " FROM outbound_tokens t"
            " LEFT JOIN users u ON u.id = t.user_id"
            " LEFT JOIN tenants n ON n.id = t.tenant_id"
        )
    ).all()
    keys = []
    for token_id, user_id, tenant_id, name, email, tenant_name, login in rows:
        if user_id:
            label = name or email or login or user_id
        else:
            label = f"Tenant {tenant_name or tenant_id}"
        keys.append({"id": token_id, "key": label.lower()[:256]})
    statement = sa.text("UPDATE outbound_tokens SET owner_sort = :key WHERE id = :id")
    for start in range(0, len(keys), BATCH):
        conn.execute(statement, keys[start : start + BATCH])


def downgrade() -> None:
    op.drop_index("ix_outbound_tokens_owner_sort", table_name="outbound_tokens")
    with op.batch_alter_table("outbound_tokens") as batch:
        batch.drop_column("owner_sort")
