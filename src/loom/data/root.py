"""Where the workspace is: the nearest folder at or above the cwd with ``.loom/config.toml``.

Kept apart from ``loom.data.workspace`` (which loads the settings' machinery)
so that ``loom repro`` can find it before anything else loads.

    >>> find_root("/work/project/src")          # doctest: +SKIP
    '/work/project'
"""

from __future__ import annotations

import os

LOOM_DIR = ".loom"


def find_root(start: str | os.PathLike[str] | None = None) -> str | None:
    """The workspace's root folder (symlinks resolved), or None outside one or when the
    cwd is gone."""
    try:
        here = os.path.realpath(start or os.getcwd(), strict=False)
    except FileNotFoundError:
        return None
    while True:
        if os.path.isfile(os.path.join(here, LOOM_DIR, "config.toml")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
