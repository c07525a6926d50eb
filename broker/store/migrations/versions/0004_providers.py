"""providers: non-secret provider metadata on stored tokens (instance_url, team id, realmId…)

Revision ID: 0004_providers
Revises: 0003_lifecycle
Create Date: 2026-11-29 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_providers"
down_revision = "0003_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("provider_metadata", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbound_tokens", schema=None) as batch_op:
        batch_op.drop_column("provider_metadata")
