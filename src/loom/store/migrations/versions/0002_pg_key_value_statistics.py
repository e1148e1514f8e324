"""PostgreSQL: extended statistics on (key, value), so search plans see real row counts.

The planner assumes ``key = 'p0'`` and ``value = '0.01'`` are independent and
underestimates their conjunction a hundredfold; it then starts from the filter
and sorts every match instead of walking the sort index (85 ms vs 30 ms at
20,000 runs, growing with the store). MCV statistics on the pair fix the
estimate. SQLite has no such statistics and needs none (its plan is forced).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_STATS = {
    "params": "key, left(value, 200)",
    "tags": "key, left(value, 200)",
    "latest_metrics": "key, value",
}


def _pg_with_expression_stats() -> bool:
    bind = op.get_bind()
    version = bind.dialect.server_version_info or (0,)
    return bind.dialect.name == "postgresql" and version >= (14,)


def upgrade() -> None:
    if not _pg_with_expression_stats():
        return
    for table, columns in _STATS.items():
        op.execute(
            f"CREATE STATISTICS st_{table}_key_value (mcv, dependencies) ON {columns} FROM {table}"
        )


def downgrade() -> None:
    if not _pg_with_expression_stats():
        return
    for table in _STATS:
        op.execute(f"DROP STATISTICS IF EXISTS st_{table}_key_value")
