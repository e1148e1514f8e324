"""Initial tracking schema: experiments, runs, params, metrics, tags, inputs, artifacts.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_DOUBLE = sa.Float(precision=53)


def _run_fk() -> sa.Column:
    return sa.Column(
        "run_id",
        sa.String(32),
        sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
        nullable=False,
    )


def _metric_columns() -> list[sa.Column]:
    return [
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", _DOUBLE, nullable=True),
        sa.Column("is_nan", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False, server_default="0"),
    ]


def upgrade() -> None:
    experiments = op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False, unique=True),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "experiment_tags",
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.String(8000), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id"),
            nullable=False,
        ),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("user", sa.String(250), nullable=True),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
    )
    op.create_index("ix_runs_experiment_start", "runs", ["experiment_id", "start_time"])
    for table, length in (("params", 6000), ("tags", 8000)):
        op.create_table(
            table,
            _run_fk(),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.String(length), nullable=False),
            sa.PrimaryKeyConstraint("run_id", "key"),
        )
        _value_index(table)
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _run_fk(),
        *_metric_columns(),
    )
    op.create_index("ix_metrics_run_key_step", "metrics", ["run_id", "key", "step"])
    op.create_table(
        "latest_metrics", _run_fk(), *_metric_columns(), sa.PrimaryKeyConstraint("run_id", "key")
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])
    op.create_table(
        "inputs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _run_fk(),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False, server_default="file"),
        sa.Column("git_rev", sa.String(64), nullable=True),
        sa.Column("name", sa.String(250), nullable=True),
    )
    op.create_index("ix_inputs_run", "inputs", ["run_id"])
    op.create_index("ix_inputs_hash", "inputs", ["hash"])
    op.create_table(
        "artifacts",
        _run_fk(),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "path"),
    )
    op.create_index("ix_artifacts_hash", "artifacts", ["hash"])
    now = int(time.time() * 1000)
    # MLflow's convention: experiment "0" is "Default", there from the start.
    op.bulk_insert(
        experiments,
        [{"experiment_id": 0, "name": "Default", "creation_time": now, "last_update_time": now}],
    )


def _value_index(table: str) -> None:
    """Index (key, value) so ``params.p = 'x'`` filters without scanning every run.

    A PostgreSQL btree entry must stay under ~2.7 kB while values may reach
    6,000/8,000 characters, so there the index covers a prefix of the value
    and the search compiler repeats that prefix in equality filters.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            f"ix_{table}_key_value",
            table,
            ["key", sa.text("left(value, 200)")],
        )
    else:
        op.create_index(f"ix_{table}_key_value", table, ["key", "value"])


def downgrade() -> None:
    for table in (
        "artifacts",
        "inputs",
        "latest_metrics",
        "metrics",
        "tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
