"""Alembic environment: runs on the connection that ``loom.store.migrate`` passes in.

No alembic.ini is needed; ``migrate.alembic_config`` builds the Config in code.
"""

from __future__ import annotations

from alembic import context

from loom.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
