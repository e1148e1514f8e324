"""For each stage: run it, skip it, or restore its outs — and the one-line reason why.

A stage runs when it never ran, is ``always_changed``, or its cmd, a dep's
hash, a param's value or an out changed (or an out is missing) since
``loom.lock``. A frozen stage never runs, not even with ``--force``. A stage
that would run but whose cmd, dep hashes and params were seen before has its
outs restored from the run cache instead (or from the cache, when only its
outs are missing); nothing runs.

    >>> planner.decide("train").reason            # doctest: +SKIP
    "param train.lr changed (0.01 -> 0.02)"
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loom.pipelines import runcache
from loom.pipelines.dag import Dag
from loom.pipelines.errors import PipelineError
from loom.pipelines.lock import Entry, StageLock
from loom.pipelines.params import ParamFiles, flatten
from loom.pipelines.spec import Stage
from loom.pipelines.versions import Versions

RUN, SKIP, RESTORE = "run", "skip", "restore"


@dataclass
class Decision:
    name: str
    action: str  # RUN, SKIP or RESTORE
    reason: str
    deps: tuple[Entry, ...] = ()
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    key: str | None = None  # run cache key
    restore: tuple[Entry, ...] = ()  # the outs to place back (RESTORE)

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.name, "action": self.action, "reason": self.reason}


class Planner:
    def __init__(
        self,
        dag: Dag,
        locked: Mapping[str, StageLock],
        versions: Versions,
        params: ParamFiles,
        cache: runcache.RunCache | None,
        *,
        force: bool = False,
    ) -> None:
        self.dag = dag
        self.locked = locked
        self.versions = versions
        self.params = params
        self.cache = cache
        self.force = force

    def check(self, names: Iterable[str]) -> None:
        """Refuse, before anything runs, a param key that isn't there and a dep that
        doesn't exist when no stage that runs first makes it."""
        names = list(names)
        chosen = set(names)
        for name in names:
            stage = self.dag.stages[name]
            self.params.values(stage)
            for dep in stage.deps:
                made_by = [s for s, _ in self.dag.producers_of(dep.path)]
                if any(s in chosen for s in made_by) or self.versions.get(dep.path) is not None:
                    continue
                if made_by:
                    raise PipelineError(
                        dep.where,
                        f"stage {name!r}: the dep {dep.path} does not exist; stage "
                        f"{made_by[0]!r} makes it, and it is not part of this run.",
                        hint=f"Run `loom repro {made_by[0]}` first, or drop --downstream.",
                        path=dep.path,
                    )
                raise PipelineError(
                    dep.where,
                    f"stage {name!r}: the dep {dep.path} does not exist, and no stage makes it.",
                    hint="Create it, `loom pull` it if it is tracked, or add the stage that "
                    "writes it as an out.",
                    path=dep.path,
                )

    def decide(self, name: str, upstream_runs: str | None = None) -> Decision:
        """What to do with stage ``name`` now (its upstream has run). ``upstream_runs``
        names an upstream stage that will run first (dry-run and status only): the
        deps it writes can't be known yet."""
        stage = self.dag.stages[name]
        if stage.frozen:
            return Decision(name, SKIP, "frozen")
        params = self.params.values(stage)
        if upstream_runs is not None:
            after = (
                "forced (--force)" if self.force else f"upstream stage {upstream_runs} runs first"
            )
            return Decision(name, RUN, after, (), params)
        deps = tuple(self._dep(stage, d.path) for d in stage.deps)
        key = runcache.key(stage, deps, params)
        why = self._why(stage, deps, params)
        if why is None:
            return Decision(name, SKIP, "up to date", deps, params, key)
        decision = Decision(name, RUN, why, deps, params, key)
        if self.force or stage.always_changed or not stage.outs or runcache.persists(stage):
            return decision
        return self._restorable(stage, decision)

    def _dep(self, stage: Stage, path: str) -> Entry:
        found = self.versions.get(path)
        if found is None:
            dep = next(d for d in stage.deps if d.path == path)
            raise PipelineError(
                dep.where,
                f"stage {stage.name!r}: the dep {path} does not exist.",
                hint="The stage that writes it did not; check its cmd and outs.",
                path=path,
            )
        return found

    def _why(self, stage: Stage, deps: tuple[Entry, ...], params) -> str | None:
        if self.force:
            return "forced (--force)"
        old = self.locked.get(stage.name)
        if old is None:
            return "never ran (no entry in loom.lock)"
        if stage.always_changed:
            return "always_changed"
        if old.cmd != stage.cmd:
            return "cmd changed"
        if old.wdir != stage.wdir:
            return "wdir changed"
        return _deps_changed(old, deps) or _params_changed(old, params) or self._outs(stage, old)

    def _outs(self, stage: Stage, old: StageLock) -> str | None:
        before = {o.path: o for o in old.outs}
        for out in stage.outs:
            locked = before.get(out.path)
            if locked is None:
                return f"out {out.path} added"
            now = self.versions.get(out.path)
            if now is None:
                return f"out {out.path} missing"
            if not now.same(locked):
                return f"out {out.path} changed"
        gone = before.keys() - {o.path for o in stage.outs}
        return f"out {sorted(gone)[0]} removed" if gone else None

    def _restorable(self, stage: Stage, decision: Decision) -> Decision:
        """The run cache's outs for this key, or the lock's when only outs differ."""
        assert self.cache is not None and decision.key is not None
        outs = self.cache.lookup(decision.key, [o.path for o in stage.outs])
        if outs is not None:
            decision.action, decision.restore = RESTORE, tuple(outs)
            decision.reason += "; outs restored from the run cache"
            return decision
        old = self.locked.get(stage.name)
        if old is not None and decision.reason.startswith("out "):
            outs = self.cache.available(list(old.outs))
            if outs is not None:
                decision.action, decision.restore = RESTORE, tuple(outs)
                decision.reason += "; restored from the cache"
        return decision


def _deps_changed(old: StageLock, deps: tuple[Entry, ...]) -> str | None:
    before = {d.path: d for d in old.deps}
    changed = [d.path for d in deps if d.path in before and not d.same(before[d.path])]
    added = [d.path for d in deps if d.path not in before]
    removed = sorted(before.keys() - {d.path for d in deps})
    for what, paths in (("changed", changed), ("added", added), ("removed", removed)):
        if paths:
            more = f" (and {len(paths) - 1} more)" if len(paths) > 1 else ""
            return f"dep {paths[0]} {what}{more}"
    return None


def _params_changed(old: StageLock, params: dict[str, dict[str, Any]]) -> str | None:
    before = {(f, k): v for f, values in old.params.items() for k, v in flatten(values).items()}
    now = {(f, k): v for f, values in params.items() for k, v in flatten(values).items()}
    for (file, key), value in now.items():
        if (file, key) not in before:
            return f"param {key} added"
        if before[(file, key)] != value or type(before[(file, key)]) is not type(value):
            return f"param {key} changed ({_short(before[(file, key)])} -> {_short(value)})"
    gone = sorted(before.keys() - now.keys())
    return f"param {gone[0][1]} removed" if gone else None


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
