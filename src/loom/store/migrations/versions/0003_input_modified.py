"""inputs.modified: the run read a tracked path whose content differed from its pointer.

Existing inputs were recorded before Loom could tell, so they read ``false``.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a constant default: PostgreSQL adds the column without rewriting the table, and
    # SQLite's ADD COLUMN needs no table copy either
    op.add_column(
        "inputs",
        sa.Column("modified", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("inputs") as batch:
        batch.drop_column("modified")
