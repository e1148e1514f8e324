"""What a new model version's files are, found from its ``source`` in the store's rows.

MLflow read whatever a crafted source named: local paths, ``..`` and encoded
forms of it, another run's artifacts (CVE-2023-1177, CVE-2023-2780,
CVE-2024-0520). Here the source is never opened as a path or a URL: it must be
one of these forms, each mapped onto rows this server keeps, and the caller must
be allowed to read what it names.

    models:/m-<id>                                     a logged model's tree
    mlflow-artifacts:/<exp>/models/m-<id>/artifacts    the same, as its artifact location
    runs:/<run_id>/<path>                              the run's artifacts under <path>
    mlflow-artifacts:/<exp>/<run_id>/artifacts/<path>  the same, as the run's artifact URI
    models:/<name>/<version>, models:/<name>@<alias>   another version's files (a copy)

Anything else is INVALID_PARAMETER_VALUE.

>>> parse("runs:/0123456789abcdef0123456789abcdef/model")
RunFiles(run_id='0123456789abcdef0123456789abcdef', path='model', experiment_id=None)
>>> parse("mlflow-artifacts:/1/models/m-0123456789abcdef0123456789abcdef/artifacts").model_id
'm-0123456789abcdef0123456789abcdef'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loom import paths
from loom.entities import ModelVersion
from loom.errors import ConflictError, ValidationError
from loom.objects.tree import Tree, TreeEntry
from loom.registry import uri as uris
from loom.server.mlflow.registry_lookup import active_model, active_version
from loom.server.routing import READ, Access, Ctx, Msg

FORMS = (
    "models:/m-<model id>, runs:/<run id>/<path>, "
    "mlflow-artifacts:/<experiment id>/<run id>/artifacts/<path>, "
    "mlflow-artifacts:/<experiment id>/models/<model id>/artifacts, "
    "models:/<name>/<version> or models:/<name>@<alias>"
)
HINT = f"Register the files of a run or a logged model on this server: {FORMS}."
ARTIFACTS_SCHEME = "mlflow-artifacts:/"
_RUN_ID = re.compile(r"[0-9a-f]{32}")
_EXPERIMENT_ID = re.compile(r"[0-9]{1,19}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_COPY_DEPTH = 10  # a version copied from a copy …: how far a download URI follows


@dataclass(frozen=True)
class RunFiles:
    run_id: str
    path: str
    experiment_id: str | None = None  # as the source said it; checked against the run's


@dataclass(frozen=True)
class ModelFiles:
    model_id: str
    experiment_id: str | None = None


@dataclass(frozen=True)
class VersionFiles:
    uri: uris.VersionURI | uris.AliasURI | uris.LatestURI


Ref = RunFiles | ModelFiles | VersionFiles


@dataclass(frozen=True)
class Resolved:
    """A version's files: its tree, and the run and logged model it came from."""

    source: str
    tree: str
    run_id: str | None
    model_id: str | None
    flavor: str | None = None


def invalid(source: object, why: str) -> ValidationError:
    shown = repr(source) if len(repr(source)) <= 200 else repr(source)[:197] + "..."
    return ValidationError(f"Invalid model version source {shown}: {why}.", hint=HINT)


def parse(source: object) -> Ref:
    """The form of ``source``; ValidationError for anything that is not one of FORMS."""
    if not isinstance(source, str) or not source:
        raise invalid(source, "it must be a non-empty string")
    if len(source) > 1000:
        raise invalid(source, "it is longer than 1000 characters")
    # no decoding ever happens here, so an encoded '..' could only mislead a reader
    bad = next((c for c in "%\\?#" if c in source), None)
    if bad is not None or _CONTROL.search(source):
        raise invalid(source, f"it contains {bad or 'a control character'!r}")
    if source.startswith(ARTIFACTS_SCHEME):
        return _proxy_path(source, source.removeprefix(ARTIFACTS_SCHEME))
    if source.startswith(("runs:/", "models:/")):
        try:
            parsed = uris.parse(source)
        except ValidationError as exc:  # it names the forms of model URIs: ours are fewer
            raise ValidationError(exc.message, hint=HINT) from None
        if isinstance(parsed, uris.RunsURI):
            if not _RUN_ID.fullmatch(parsed.run_id):
                raise invalid(source, "it must name the run by its full 32-digit id")
            return RunFiles(parsed.run_id, parsed.path)
        if isinstance(parsed, uris.LoggedModelURI):
            return ModelFiles(parsed.model_id)
        return VersionFiles(parsed)
    raise invalid(source, "this server only registers files it keeps itself")


def _proxy_path(source: str, rest: str) -> Ref:
    """``<exp>/<run>/artifacts/<path>`` or ``<exp>/models/<model id>/artifacts``."""
    why = paths.problem(rest)
    if why is not None:
        raise invalid(source, f"its path is not valid: {why}")
    parts = rest.split("/")
    if not _EXPERIMENT_ID.fullmatch(parts[0]):
        raise invalid(source, "it must start with an experiment id")
    if len(parts) == 4 and parts[1] == "models" and parts[3] == "artifacts":
        if not uris.MODEL_ID.fullmatch(parts[2]):
            raise invalid(source, f"{parts[2]!r} is not a logged model id")
        return ModelFiles(parts[2], parts[0])
    if len(parts) >= 4 and _RUN_ID.fullmatch(parts[1]) and parts[2] == "artifacts":
        return RunFiles(parts[1], "/".join(parts[3:]), parts[0])
    raise invalid(
        source,
        "it must be <experiment>/<run>/artifacts/<path> or <experiment>/models/<id>/artifacts",
    )


def resolve(ctx: Ctx, source: str, run_id: str | None, model_id: str | None) -> Resolved:
    """The files ``source`` names, after checking that the caller may read them and that
    ``run_id`` and ``model_id``, where given, agree with it."""
    ref = parse(source)
    if isinstance(ref, RunFiles):
        if model_id:
            raise invalid(source, f"it names a run's files, not the logged model {model_id}")
        _same("run_id", run_id, ref.run_id, source)
        return Resolved(source, run_tree(ctx, ref, source), ref.run_id, None)
    if isinstance(ref, ModelFiles):
        _same("model_id", model_id, ref.model_id, source)
        lm = ctx.store.get_logged_model(ref.model_id)
        _readable(ctx, lm.experiment_id, ref.experiment_id, source)
        tree = _finalized_tree(ctx, lm.model_id)
        _same("run_id", run_id, lm.run_id, source)
        return Resolved(source, tree, lm.run_id, lm.model_id, lm.flavor)
    mv = source_version(ctx, ref)
    _same("run_id", run_id, mv.run_id, source)
    _same("model_id", model_id, mv.model_id, source)
    copied = f"models:/{mv.name}/{mv.version}"
    return Resolved(copied, mv.tree, mv.run_id, mv.model_id, mv.flavor)


def _finalized_tree(ctx: Ctx, model_id: str) -> str:
    """The logged model's tree, fixed when its upload was finalized (404 if deleted)."""
    from loom.server.mlflow import logged_models

    try:
        return logged_models.logged_model_tree(ctx, model_id)
    except ConflictError as exc:
        raise ValidationError(
            f"The logged model {model_id} is not finalized: {exc.message}",
            hint="Register it once its upload has finished (log_model returns then).",
        ) from None


def _same(field: str, given: str | None, actual: str | None, source: str) -> None:
    if given and given != actual:
        raise invalid(source, f"it does not belong to the {field} {given!r} sent with it")


def _readable(ctx: Ctx, actual: str, claimed: str | None, source: str) -> None:
    """READ on the experiment the files are in (403 otherwise), and the experiment the
    source names must be that one."""
    from loom.server import auth

    auth.require_experiments(ctx, [actual], READ)
    if claimed is not None and claimed != actual:
        raise invalid(source, f"those files are not in experiment {claimed}")


def run_tree(ctx: Ctx, ref: RunFiles, source: str) -> str:
    """The tree of what the run logged under ``ref.path``, stored so the version keeps
    those exact files (the same tree ``loom.log_model`` makes for a package)."""
    run = ctx.store.get_run(ref.run_id)
    _readable(ctx, run.experiment_id, ref.experiment_id, source)
    tree = _files_now(ctx, ref)
    if tree is None:
        raise invalid(source, f"run {ref.run_id} has no artifacts under {ref.path!r}")
    oid, _ = ctx.services.blobs.put_bytes(tree.to_bytes())
    return oid


def _files_now(ctx: Ctx, ref: RunFiles) -> Tree | None:
    prefix = ref.path + "/"
    arts = [a for a in ctx.store.list_artifacts(ref.run_id, ref.path) if a.path.startswith(prefix)]
    if not arts:
        return None
    return Tree.from_entries(TreeEntry(a.path[len(prefix) :], a.hash, a.size) for a in arts)


def source_version(ctx: Ctx, ref: VersionFiles) -> ModelVersion:
    """The active version a ``models:/NAME/…`` source names; the caller needs READ on it."""
    from loom.server import auth

    name = ref.uri.name
    auth.authorize(ctx, Access("model", READ, "name"), Msg({"name": name}))
    active_model(ctx, name)
    if isinstance(ref.uri, uris.AliasURI):
        return ctx.store.get_model_version_by_alias(name, ref.uri.alias)
    if isinstance(ref.uri, uris.LatestURI):
        return ctx.store.get_latest_version(name)
    return active_version(ctx, name, str(ref.uri.version))


def download_uri(ctx: Ctx, mv: ModelVersion) -> str:
    """Where the client downloads the version's files: the artifact proxy's URI of its
    logged model, else of its run's path."""
    from loom.server.mlflow import logged_models

    for _ in range(MAX_COPY_DEPTH):
        if mv.model_id:
            return logged_models.artifact_uri(ctx.store.get_logged_model(mv.model_id))
        try:
            ref = parse(mv.source)
        except ValidationError:
            break
        if isinstance(ref, RunFiles):
            _unchanged(ctx, ref, mv)
            run = ctx.store.get_run(ref.run_id)
            return f"{ARTIFACTS_SCHEME}{run.experiment_id}/{run.run_id}/artifacts/{ref.path}"
        if not isinstance(ref, VersionFiles) or not isinstance(ref.uri, uris.VersionURI):
            break
        mv = ctx.store.get_model_version(ref.uri.name, ref.uri.version)
    raise ValidationError(
        f"Version {mv.version} of {mv.name!r} was registered from {mv.source!r}, which the "
        "artifact proxy does not serve.",
        hint="Load it with Loom's client (loom.load_model('models:/NAME/VERSION')).",
    )


def _unchanged(ctx: Ctx, ref: RunFiles, mv: ModelVersion) -> None:
    """The proxy serves the run's files as they are now; a version's files never change.
    So if the run has logged over them since, the proxy's are not the version's."""
    now = _files_now(ctx, ref)
    if now is None or now.oid != mv.tree:
        raise ConflictError(
            f"The files of version {mv.version} of {mv.name!r} have changed in run "
            f"{ref.run_id} since it was registered: the run's {ref.path!r} is not this "
            "version any more.",
            hint="Loom's client loads the registered files: "
            f"loom.load_model('models:/{mv.name}/{mv.version}'); or register the run's "
            "files anew as another version.",
            name=mv.name,
            version=mv.version,
        )
