"""The tracking store's tables (SQLAlchemy 2 declarative).

These classes describe the schema; Alembic migrations in ``migrations/``
create it. Rows never leave ``loom.store``: the store turns them into the
plain entities of :mod:`loom.store.entities`.

NaN is stored as ``value = NULL`` with ``is_nan = true`` on every backend, so
that SQL comparisons fail for NaN the same way on SQLite and PostgreSQL (on
PostgreSQL ``'NaN' = 'NaN'`` is true and NaN sorts above every number).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

KEY_LEN = 250
PARAM_LEN = 6000
TAG_LEN = 8000
NAME_LEN = 500
RUN_ID_LEN = 32


class Base(DeclarativeBase):
    pass


class ExperimentRow(Base):
    __tablename__ = "experiments"

    experiment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_update_time: Mapped[int] = mapped_column(BigInteger)


class ExperimentTagRow(Base):
    __tablename__ = "experiment_tags"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(String(TAG_LEN))


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_experiment_start", "experiment_id", "start_time"),)

    run_id: Mapped[str] = mapped_column(String(RUN_ID_LEN), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.experiment_id"))
    name: Mapped[str] = mapped_column(String(KEY_LEN))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    user: Mapped[str | None] = mapped_column(String(KEY_LEN), nullable=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")


class ParamRow(Base):
    __tablename__ = "params"

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(String(PARAM_LEN))


class TagRow(Base):
    __tablename__ = "tags"

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(String(TAG_LEN))


class MetricRow(Base):
    """Full history: one row per logged point."""

    __tablename__ = "metrics"
    __table_args__ = (Index("ix_metrics_run_key_step", "run_id", "key", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_LEN))
    value: Mapped[float | None] = mapped_column(Float(precision=53), nullable=True)
    is_nan: Mapped[bool] = mapped_column(Boolean, default=False)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[int] = mapped_column(BigInteger, default=0)


class LatestMetricRow(Base):
    """The value search sees: highest step, then latest timestamp, then largest value."""

    __tablename__ = "latest_metrics"
    __table_args__ = (Index("ix_latest_metrics_key_value", "key", "value"),)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float(precision=53), nullable=True)
    is_nan: Mapped[bool] = mapped_column(Boolean, default=False)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[int] = mapped_column(BigInteger, default=0)


class InputRow(Base):
    __tablename__ = "inputs"
    __table_args__ = (Index("ix_inputs_run", "run_id"), Index("ix_inputs_hash", "hash"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1000))
    hash: Mapped[str] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="file")
    git_rev: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str | None] = mapped_column(String(KEY_LEN), nullable=True)
    # the workspace content differed from the path's pointer (migration 0003)
    modified: Mapped[bool] = mapped_column(Boolean, default=False)


class ArtifactRow(Base):
    __tablename__ = "artifacts"
    __table_args__ = (Index("ix_artifacts_hash", "hash"),)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    hash: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)


# -- outputs and the model registry (migration 0004) ---------------------------------
DESCRIPTION_LEN = 5000
MODEL_ID_LEN = 64
SEMVER_LEN = 64


class OutputRow(Base):
    """What a run produced, by content hash (lineage joins these to inputs' hashes)."""

    __tablename__ = "outputs"
    __table_args__ = (Index("ix_outputs_run", "run_id"), Index("ix_outputs_hash", "hash"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1000))
    hash: Mapped[str] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="file")


class LoggedModelRow(Base):
    __tablename__ = "logged_models"
    __table_args__ = (Index("ix_logged_models_run", "run_id"),)

    model_id: Mapped[str] = mapped_column(String(MODEL_ID_LEN), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.experiment_id"))
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.run_id", ondelete="SET NULL"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(KEY_LEN))
    tree: Mapped[str] = mapped_column(String(128))
    flavor: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="READY")
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_update_time: Mapped[int] = mapped_column(BigInteger)


class LoggedModelTagRow(Base):
    __tablename__ = "logged_model_tags"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(String(TAG_LEN))


class RegisteredModelRow(Base):
    __tablename__ = "registered_models"

    name: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_update_time: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_LEN), nullable=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")
    # the number the next version gets; updating it is also what serializes writers
    next_version: Mapped[int] = mapped_column(Integer, default=1)


class RegisteredModelTagRow(Base):
    __tablename__ = "registered_model_tags"

    name: Mapped[str] = mapped_column(
        ForeignKey("registered_models.name", ondelete="CASCADE", onupdate="CASCADE"),
        primary_key=True,
    )
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(String(TAG_LEN))


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    __table_args__ = (
        Index("ix_model_versions_tree", "name", "tree"),
        Index("ix_model_versions_run", "run_id"),
        Index("ux_model_versions_semver", "name", "semver", unique=True),
    )

    name: Mapped[str] = mapped_column(
        ForeignKey("registered_models.name", ondelete="CASCADE", onupdate="CASCADE"),
        primary_key=True,
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(1000))
    run_id: Mapped[str | None] = mapped_column(String(RUN_ID_LEN), nullable=True)
    model_id: Mapped[str | None] = mapped_column(String(MODEL_ID_LEN), nullable=True)
    flavor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    semver: Mapped[str | None] = mapped_column(String(SEMVER_LEN), nullable=True)
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_LEN), nullable=True)
    user: Mapped[str | None] = mapped_column(String(KEY_LEN), nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="READY")
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_update_time: Mapped[int] = mapped_column(BigInteger)


class ModelVersionTagRow(Base):
    __tablename__ = "model_version_tags"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
    )

    name: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(String(TAG_LEN))


class AliasEventRow(Base):
    """Every alias move, kept forever; the current alias is the latest event."""

    __tablename__ = "alias_events"
    __table_args__ = (Index("ix_alias_events_alias_time", "name", "alias", "time", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(
        ForeignKey("registered_models.name", ondelete="CASCADE", onupdate="CASCADE")
    )
    alias: Mapped[str] = mapped_column(String(KEY_LEN))
    from_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    to_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    time: Mapped[int] = mapped_column(BigInteger)
    user: Mapped[str | None] = mapped_column(String(KEY_LEN), nullable=True)
    comment: Mapped[str | None] = mapped_column(String(DESCRIPTION_LEN), nullable=True)


# -- the team server (migration 0005) -----------------------------------------------
class UserRow(Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    creation_time: Mapped[int] = mapped_column(BigInteger)


class ApiTokenRow(Base):
    """A token is stored as the SHA-256 of its text: it is random, so no salt is needed,
    and a lookup by hash is one index probe (argon2 is for passwords people choose)."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("user", "name", name="ux_api_tokens_user_name"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(ForeignKey("users.name", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(KEY_LEN))
    creation_time: Mapped[int] = mapped_column(BigInteger)


class PermissionRow(Base):
    __tablename__ = "permissions"

    user: Mapped[str] = mapped_column(
        ForeignKey("users.name", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # experiment | model
    resource: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))


class RunDatasetRow(Base):
    """An MLflow dataset input (name, digest, source…): MLflow's digest is not a content
    hash, so these are kept apart from the inputs lineage joins on."""

    __tablename__ = "run_datasets"
    __table_args__ = (Index("ix_run_datasets_run", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    digest: Mapped[str] = mapped_column(String(36))
    source_type: Mapped[str] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(Text)
    schema: Mapped[str | None] = mapped_column(Text, nullable=True)
    profile: Mapped[str | None] = mapped_column(Text, nullable=True)
    context: Mapped[str | None] = mapped_column(String(KEY_LEN), nullable=True)
    tags: Mapped[str | None] = mapped_column(Text, nullable=True)


class LoggedModelFileRow(Base):
    """A file an MLflow client uploaded into a logged model's artifact location."""

    __tablename__ = "logged_model_files"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    hash: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)


class LoggedModelParamRow(Base):
    __tablename__ = "logged_model_params"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(String(PARAM_LEN))
