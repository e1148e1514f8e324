"""Experiments (``loom exp run / show``) and ``loom reproduce``, on the tracking store and git.

An experiment is one parent run in the pipeline's tracking experiment, tagged
``loom.exp``, whose children are the stage runs its ``loom repro`` recorded.
It holds the params the pipeline read, the metrics of its metrics files, the
data versions it read (inputs) and its ``loom.lock`` as an artifact, and names
two commits: ``loom.git.commit`` (HEAD, what a person knows) and
``loom.exp.base`` (HEAD plus the uncommitted changes, as ``git stash create``
would make it, kept by a ref under ``refs/loom/exps/``) with the ``-S`` overrides
on top — from which ``loom reproduce`` rebuilds it exactly.

Modules: ``state`` (what a pipeline's folder holds after a repro), ``tracked``
(experiment runs in the store), ``queue`` (queued experiments), ``worktree``
(temporary git worktrees sharing the cache and the store), ``run`` (one
experiment in the workspace), ``run_all`` (the queue, N at a time), ``show``,
``restore`` (a run's data versions into a worktree) and ``reproduce``.
"""

EXP_TAG = "loom.exp"
BASE_TAG = "loom.exp.base"
OVERRIDES_TAG = "loom.exp.overrides"
TARGETS_TAG = "loom.exp.targets"
ERROR_TAG = "loom.exp.error"
REPRODUCES_TAG = "loom.reproduces"
COMMIT_TAG = "loom.git.commit"
LOCK_ARTIFACT = "loom/loom.lock"
