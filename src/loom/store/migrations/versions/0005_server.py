"""What the team server needs: users, API tokens and permissions; MLflow dataset inputs;
the files and params of logged models that an MLflow client uploads one by one.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NAME = 500  # schema.NAME_LEN: migrations are frozen, so the numbers are written out
_KEY = 250
_PARAM = 6000
_PATH = 1000


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(_KEY), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user",
            sa.String(_KEY),
            sa.ForeignKey("users.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(_KEY), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("user", "name", name="ux_api_tokens_user_name"),
    )
    op.create_table(
        "permissions",
        sa.Column(
            "user",
            sa.String(_KEY),
            sa.ForeignKey("users.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(16), primary_key=True),  # "experiment" | "model"
        sa.Column("resource", sa.String(_NAME), primary_key=True),  # experiment id, model name
        sa.Column("level", sa.String(16), nullable=False),  # READ | EDIT | MANAGE | NO_PERMISSIONS
    )
    op.create_table(
        "run_datasets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.String(32),
            sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(_NAME), nullable=False),
        sa.Column("digest", sa.String(36), nullable=False),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("schema", sa.Text, nullable=True),
        sa.Column("profile", sa.Text, nullable=True),
        sa.Column("context", sa.String(_KEY), nullable=True),  # the mlflow.data.context tag
        sa.Column("tags", sa.Text, nullable=True),  # the input's other tags, as JSON
    )
    op.create_index("ix_run_datasets_run", "run_datasets", ["run_id"])
    op.create_table(
        "logged_model_files",
        sa.Column(
            "model_id",
            sa.String(64),
            sa.ForeignKey("logged_models.model_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("path", sa.String(_PATH), primary_key=True),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "logged_model_params",
        sa.Column(
            "model_id",
            sa.String(64),
            sa.ForeignKey("logged_models.model_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(_KEY), primary_key=True),
        sa.Column("value", sa.String(_PARAM), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "logged_model_params",
        "logged_model_files",
        "run_datasets",
        "permissions",
        "api_tokens",
        "users",
    ):
        op.drop_table(table)
