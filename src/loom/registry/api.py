"""``log_model``, ``register_model``, ``load_model`` and ``set_alias``.

    >>> with loom.start_run() as run:                                     # doctest: +SKIP
    ...     info = loom.log_model(model, "model", input_example=X[:5])
    >>> mv = loom.register_model(info.model_uri, "churn", semver="1.2.0")  # doctest: +SKIP
    >>> loom.set_alias("churn", "production", mv.version)                 # doctest: +SKIP
    >>> loom.load_model("models:/churn@production").predict(X)            # doctest: +SKIP

Without ``client=``/``run_id=`` these use the fluent client and its active run
(``log_model`` starts a run if none is active, like ``log_artifact``).

A package's files are run artifacts, stored as objects once whatever else
names the same bytes (a dataset, another version); its tree object is stored
too and recorded in the cache's refs under the run, so ``loom gc`` keeps it.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loom import paths
from loom._types import StrPath
from loom.entities import AliasEvent, ModelVersion, RunOutput
from loom.errors import ConflictError, NotFoundError, PackageError, UsageError, ValidationError
from loom.errors import warn as loom_warn
from loom.objects.odb import ObjectDB
from loom.objects.tree import Tree, TreeEntry
from loom.registry import flavors, materialize
from loom.registry import uri as uris
from loom.registry.build import build
from loom.registry.package import FILE, PackageMeta
from loom.registry.pyfunc import LoadedModel, ModelMetadata
from loom.registry.resolve import Source, read_meta, resolve
from loom.registry.signature import Signature
from loom.tracking import artifact_refs, artifacts
from loom.tracking.client import Client


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` stored: load it with ``model_uri`` or ``logged_model_uri``."""

    run_id: str
    artifact_path: str
    model_id: str
    tree: str  # the package's tree hash: a registered version names it
    flavor: str
    signature: Signature | None
    requirements: tuple[str, ...]
    registered_model_version: ModelVersion | None = None

    @property
    def model_uri(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact_path}"

    @property
    def logged_model_uri(self) -> str:
        return f"models:/{self.model_id}"


def log_model(
    model: Any,
    artifact_path: str = "model",
    *,
    input_example: Any = None,
    flavor: str | None = None,
    code_paths: Iterable[StrPath] = (),
    init_kwargs: Mapping[str, Any] | None = None,
    torchscript: bool = False,
    registered_model_name: str | None = None,
    run_id: str | None = None,
    client: Client | None = None,
) -> ModelInfo:
    """Save ``model`` as a package under ``artifact_path`` of the run; return its ModelInfo.

    The flavor is detected (ONNX, PyTorch, scikit-learn, else any object with
    ``predict``) unless ``flavor=`` names it. ``input_example`` gives the
    signature; ``code_paths`` the files the model's classes live in (loading
    such a package needs ``trusted=True``: the code runs); ``init_kwargs`` the
    arguments that rebuild a torch module. With ``registered_model_name`` the
    model is also registered (a new version, or the one that holds these files).
    """
    client, run_id = _target(client, run_id)
    path = paths.check_relative(artifact_path, "artifact path")
    if client.list_artifacts(run_id, path):
        raise ConflictError(
            f"Run {run_id} already has artifacts under {path!r}.",
            hint="Log the model under another artifact_path, e.g. 'model-2'.",
            run_id=run_id,
            path=path,
        )
    experiment_id = client.get_run(run_id).experiment_id
    model_id = "m-" + uuid.uuid4().hex
    tmp = materialize.new_temp(client.backend)
    try:
        folder = tmp / materialize.PACKAGE
        folder.mkdir()
        meta = build(
            model,
            folder,
            flavor=flavor,
            input_example=input_example,
            code_paths=code_paths,
            init_kwargs=dict(init_kwargs) if init_kwargs else None,
            torchscript=torchscript,
            run_id=run_id,
            model_id=model_id,
            artifact_path=path,
        )
        # the package is recorded as a model output below, not also as a folder output
        arts, _ = artifacts.log_folder(client.backend, run_id, folder, path, output=False)
        tree = Tree.from_entries(TreeEntry(a.path[len(path) + 1 :], a.hash, a.size) for a in arts)
        _store_tree(client, tree, run_id)
        client.create_logged_model(
            experiment_id, path, tree.oid, meta.flavor, run_id=run_id, model_id=model_id
        )
        client.log_outputs(run_id, [RunOutput(path, tree.oid, tree.size, kind="model")])
        # the folder just written is the package: keep it as the load cache
        materialize.install(tmp, materialize.cache_root(client.backend) / tree.oid)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    version = None
    if registered_model_name is not None:
        version = register_model(f"models:/{model_id}", registered_model_name, client=client)
    return ModelInfo(
        run_id, path, model_id, tree.oid, meta.flavor, meta.signature, meta.requirements, version
    )


def register_model(
    model_uri: str,
    name: str,
    *,
    semver: str | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    client: Client | None = None,
) -> ModelVersion:
    """Register the package at ``model_uri`` as the next version of ``name``.

    Registering files a version of ``name`` already holds changes nothing and
    says so (a LoomWarning); that version is returned.
    """
    mv, created = register(
        model_uri, name, semver=semver, description=description, tags=tags, client=client
    )
    if not created:
        loom_warn(already_registered(mv, semver), hint=f"Load it as models:/{name}/{mv.version}.")
    return mv


def register(
    model_uri: str,
    name: str,
    *,
    semver: str | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    client: Client | None = None,
) -> tuple[ModelVersion, bool]:
    """:func:`register_model`, also saying whether a version was created (for the CLI)."""
    client = client or _fluent_client()
    parsed = uris.parse(model_uri)
    src = resolve(client, parsed)
    meta = read_meta(client, src)  # a package, with a valid loom-model.yaml
    model_id = src.model_id
    source = src.uri
    if isinstance(parsed, uris.RunsURI):
        assert src.run_id is not None
        source = str(uris.RunsURI(src.run_id, parsed.path))  # the full run id
        _store_tree(client, src.tree, src.run_id)  # a package logged file by file has none yet
        model_id = _logged_model_id(client, meta, src)
    return client.create_model_version(
        name,
        source,
        src.tree_oid,
        run_id=src.run_id,
        model_id=model_id,
        flavor=src.flavor or meta.flavor,
        semver=semver,
        description=description,
        tags=dict(tags) if tags else None,
    )


def already_registered(mv: ModelVersion, semver: str | None = None) -> str:
    text = (
        f"Version {mv.version} of model {mv.name!r} already holds these files "
        f"(tree {mv.tree[:12]}…): nothing new was registered."
    )
    if semver is not None and semver != mv.semver:
        text += f" Its semver stays {mv.semver or 'unset'}; {semver} was not applied."
    return text


def load_model(
    model_uri: str, *, trusted: bool = False, client: Client | None = None
) -> LoadedModel:
    """Load the model at any model URI (``runs:/``, ``models:/NAME/3``, ``@alias``,
    ``/latest``, ``models:/m-…``). Its files are checked against their hashes.

    ``trusted=True`` is needed for a pickle (the generic flavor), a package that
    carries code, and a scikit-learn model holding types from outside
    scikit-learn, NumPy and SciPy: loading those runs code from the package.
    """
    client = client or _fluent_client()
    src = resolve(client, model_uri)
    if FILE not in src.tree.as_dict():
        read_meta(client, src)  # raises: not a package
    folder = materialize.materialize(client.backend, src.tree, src.tree_oid, src.run_id)
    meta = PackageMeta.parse((folder / FILE).read_bytes(), f"{FILE} of {src.uri}")
    missing = [f for f in meta.files() if f not in src.tree.as_dict()]
    if missing:
        raise PackageError(
            f"{FILE} of {src.uri} names {', '.join(missing)}, which the package lacks.",
            hint="Log the model again with loom.log_model.",
            uri=src.uri,
        )
    if meta.code is not None:
        _add_code(folder / meta.code, src.uri, trusted)
    flavor = flavors.get(meta.flavor)
    raw = flavor.load(folder, meta.flavor_options, trusted)
    return LoadedModel(raw, flavor, meta, _metadata(src, meta), folder)


def set_alias(
    name: str,
    alias: str,
    version: int,
    comment: str | None = None,
    *,
    client: Client | None = None,
) -> AliasEvent:
    """Point ``alias`` of ``name`` at ``version`` (kept in the alias history)."""
    client = client or _fluent_client()
    return client.set_registered_model_alias(name, alias, version, comment=comment)


# -- internals -----------------------------------------------------------------------


def _fluent_client() -> Client:
    from loom.tracking import fluent

    return fluent.get_client()


def _target(client: Client | None, run_id: str | None) -> tuple[Client, str]:
    if run_id is not None:
        return client or _fluent_client(), run_id
    if client is not None:
        raise UsageError(
            "log_model with client= needs run_id= too.",
            hint="Pass run_id=run.run_id, or call loom.log_model inside loom.start_run().",
        )
    from loom.tracking import fluent

    return fluent.get_client(), (fluent.active_run() or fluent.start_run()).run_id


def _store_tree(client: Client, tree: Tree, run_id: str) -> None:
    """Store the tree object and ref it under the run (before any row names it)."""
    client.backend.put_bytes(tree.to_bytes())
    root = client.backend.artifact_root
    if root is not None:  # a server keeps its own objects and refs
        artifact_refs.record(ObjectDB(root), run_id, [tree.oid])


def _logged_model_id(client: Client, meta: PackageMeta, src: Source) -> str | None:
    """The LoggedModel these files are, if the package names one with this very tree."""
    if meta.model_id is None:
        return None
    try:
        lm = client.get_logged_model(meta.model_id)
    except (NotFoundError, ValidationError):
        return None
    return lm.model_id if lm.tree == src.tree_oid else None


def _add_code(code: Path, uri: str, trusted: bool) -> None:
    if not trusted:
        raise ValidationError(
            f"The model at {uri} carries code (its code_paths), which runs when it is loaded.",
            hint="If you trust where it came from, load it with trusted=True.",
            uri=uri,
        )
    if str(code) not in sys.path:
        sys.path.insert(0, str(code))


def _metadata(src: Source, meta: PackageMeta) -> ModelMetadata:
    mv = src.version
    return ModelMetadata(
        uri=src.uri,
        flavor=meta.flavor,
        tree=src.tree_oid,
        run_id=src.run_id or meta.run_id,
        model_id=src.model_id or meta.model_id,
        name=mv.name if mv else None,
        version=mv.version if mv else None,
        alias=src.alias,
        semver=mv.semver if mv else None,
        loom_version=meta.loom_version,
        python_version=meta.python_version,
        requirements=meta.requirements,
    )
