"""Run outputs, logged models and the model registry (models, versions, alias events).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_NAME = 500  # schema.NAME_LEN: migrations are frozen, so the numbers are written out
_KEY = 250
_TAG = 8000
_TEXT = 5000


def _times() -> list[sa.Column]:
    return [
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
    ]


def _model_fk(**kw: object) -> sa.Column:
    fk = sa.ForeignKey("registered_models.name", ondelete="CASCADE", onupdate="CASCADE")
    return sa.Column("name", sa.String(_NAME), fk, nullable=False, **kw)  # type: ignore[arg-type]


def upgrade() -> None:
    op.create_table(
        "outputs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.String(32),
            sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False, server_default="file"),
    )
    op.create_index("ix_outputs_run", "outputs", ["run_id"])
    op.create_index("ix_outputs_hash", "outputs", ["hash"])

    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id"),
            nullable=False,
        ),
        sa.Column(
            "run_id",
            sa.String(32),
            sa.ForeignKey("runs.run_id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("name", sa.String(_KEY), nullable=False),
        sa.Column("tree", sa.String(128), nullable=False),
        sa.Column("flavor", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False, server_default="READY"),
        *_times(),
    )
    op.create_index("ix_logged_models_run", "logged_models", ["run_id"])
    op.create_table(
        "logged_model_tags",
        sa.Column(
            "model_id",
            sa.String(64),
            sa.ForeignKey("logged_models.model_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(_KEY), primary_key=True),
        sa.Column("value", sa.String(_TAG), nullable=False),
    )

    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(_NAME), primary_key=True),
        *_times(),
        sa.Column("description", sa.String(_TEXT), nullable=True),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
        sa.Column("next_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_table(
        "registered_model_tags",
        _model_fk(primary_key=True),
        sa.Column("key", sa.String(_KEY), primary_key=True),
        sa.Column("value", sa.String(_TAG), nullable=False),
    )
    op.create_table(
        "model_versions",
        _model_fk(primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("tree", sa.String(128), nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("model_id", sa.String(64), nullable=True),
        sa.Column("flavor", sa.String(64), nullable=True),
        sa.Column("semver", sa.String(64), nullable=True),
        sa.Column("description", sa.String(_TEXT), nullable=True),
        sa.Column("user", sa.String(_KEY), nullable=True),
        sa.Column("status", sa.String(32), nullable=False, server_default="READY"),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
        *_times(),
    )
    op.create_index("ix_model_versions_tree", "model_versions", ["name", "tree"])
    op.create_index("ix_model_versions_run", "model_versions", ["run_id"])
    # NULLs are distinct in a unique index on both backends: versions without semver pass
    op.create_index("ux_model_versions_semver", "model_versions", ["name", "semver"], unique=True)
    op.create_table(
        "model_version_tags",
        sa.Column("name", sa.String(_NAME), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(_KEY), primary_key=True),
        sa.Column("value", sa.String(_TAG), nullable=False),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
    )
    op.create_table(
        "alias_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _model_fk(),
        sa.Column("alias", sa.String(_KEY), nullable=False),
        sa.Column("from_version", sa.Integer, nullable=True),
        sa.Column("to_version", sa.Integer, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("user", sa.String(_KEY), nullable=True),
        sa.Column("comment", sa.String(_TEXT), nullable=True),
    )
    op.create_index("ix_alias_events_alias_time", "alias_events", ["name", "alias", "time", "id"])


def downgrade() -> None:
    for table in (
        "alias_events",
        "model_version_tags",
        "model_versions",
        "registered_model_tags",
        "registered_models",
        "logged_model_tags",
        "logged_models",
        "outputs",
    ):
        op.drop_table(table)
