"""connect binding: the flow after the callback (parked grant, landing id, issuer) and
reconnect links

Revision ID: 0005_connect
Revises: 0004_providers
Create Date: 2026-11-29 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_connect"
down_revision = "0004_providers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_pending", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=24), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("landing_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("confirm", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("grant_sealed", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("granted_at", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("token_url", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("issuer", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("iss_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("reconnect_link_id", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("reported_at", sa.Float(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbound_pending_landing_digest"), ["landing_digest"], unique=True
        )

    op.create_table(
        "outbound_reconnect_links",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("link_digest", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("external_identifier", sa.String(length=256), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["outbound_apps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbound_reconnect_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbound_reconnect_links_app_id"), ["app_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbound_reconnect_links_link_digest"), ["link_digest"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_outbound_reconnect_links_token_id"), ["token_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbound_reconnect_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_reconnect_links_token_id"))
        batch_op.drop_index(batch_op.f("ix_outbound_reconnect_links_link_digest"))
        batch_op.drop_index(batch_op.f("ix_outbound_reconnect_links_app_id"))
    op.drop_table("outbound_reconnect_links")
    with op.batch_alter_table("outbound_pending", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_pending_landing_digest"))
        for column in (
            "reported_at",
            "reconnect_link_id",
            "iss_required",
            "issuer",
            "token_url",
            "outcome",
            "grant_sealed",
            "granted_at",
            "confirm",
            "landing_digest",
            "status",
        ):
            batch_op.drop_column(column)
