"""A new SQLite store starts as a copy of an empty one at the newest revision.

Building the schema with Alembic means importing Alembic (and SQLAlchemy's
PostgreSQL dialect with it): about 0.3 s on a workspace's first ``loom repro``
or a script's first ``loom.start_run()``. A new SQLite file is made instead
from ``empty.sqlite``, which holds exactly what the migrations build:
``tests/store/test_seed.py`` builds a store with them and compares, and
``build(TEMPLATE)`` writes the file anew after a migration is added.
The copy is linked into place only where no file is, so processes racing to
create one store never overwrite each other's; PostgreSQL stores, and a file
system without hard links, go through Alembic as before.

    >>> seed(Path("/tmp/new/loom.db"))          # doctest: +SKIP
    True
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from loom import atomic

TEMPLATE = Path(__file__).with_name("empty.sqlite")


def seed(path: Path) -> bool:
    """Create the store file ``path`` from the template, unless a file is there already."""
    if path.exists():
        return False
    try:
        return atomic.create_bytes(path, TEMPLATE.read_bytes())
    except OSError:  # no template in this install, or no hard links here: Alembic builds it
        return False


def build(path: Path) -> None:
    """Write the template: an empty store migrated to the newest revision, one file."""
    from loom.store.engine import make_engine
    from loom.store.migrate import upgrade

    path.unlink(missing_ok=True)
    scratch = path.with_name(path.name + ".build")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{scratch}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    conn = sqlite3.connect(scratch, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")  # the WAL folded in: a single file
        conn.execute(f"VACUUM INTO '{path}'")
    finally:
        conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{scratch}{suffix}").unlink(missing_ok=True)
