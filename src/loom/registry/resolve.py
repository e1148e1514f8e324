"""From a model URI to the package's tree: which files, from which run, version or model.

A ``runs:/`` URI's tree is made from the run's artifact rows under the path
(the same rows, so the same hash, as when ``log_model`` stored it); the other
forms name a stored tree object, read verified.
"""

from __future__ import annotations

from dataclasses import dataclass

from loom.entities import ModelVersion
from loom.errors import CorruptObjectError, NotFoundError, PackageError
from loom.objects.hashing import hash_bytes
from loom.objects.tree import Tree, TreeEntry
from loom.registry import uri as uris
from loom.registry.materialize import read_object
from loom.registry.package import FILE, PackageMeta
from loom.tracking.client import Client


@dataclass(frozen=True)
class Source:
    """A resolved model URI: its package tree and where it came from."""

    uri: str
    tree: Tree
    tree_oid: str
    run_id: str | None
    model_id: str | None = None
    flavor: str | None = None
    version: ModelVersion | None = None
    alias: str | None = None


def resolve(client: Client, uri: str | uris.ModelURI) -> Source:
    parsed = uris.parse(uri) if isinstance(uri, str) else uri
    text = str(uri)
    match parsed:
        case uris.RunsURI(run_ref, path):
            run_id = client.resolve_run_id(run_ref)
            tree = run_tree(client, run_id, path, text)
            return Source(text, tree, tree.oid, run_id)
        case uris.LoggedModelURI(model_id):
            lm = client.get_logged_model(model_id)
            tree = read_tree(client, lm.tree, lm.run_id)
            return Source(text, tree, lm.tree, lm.run_id, lm.model_id, lm.flavor)
        case uris.VersionURI(name, number):
            return _version(client, text, client.get_model_version(name, number))
        case uris.AliasURI(name, alias):
            mv = client.get_model_version_by_alias(name, alias)
            return _version(client, text, mv, alias)
        case uris.LatestURI(name):
            return _version(client, text, client.get_latest_version(name))
    raise AssertionError(f"unhandled model URI {parsed!r}")  # parse() returns only the above


def _version(client: Client, text: str, mv: ModelVersion, alias: str | None = None) -> Source:
    tree = read_tree(client, mv.tree, mv.run_id)
    return Source(text, tree, mv.tree, mv.run_id, mv.model_id, mv.flavor, mv, alias)


def run_tree(client: Client, run_id: str, path: str, text: str) -> Tree:
    """The tree of the artifacts run ``run_id`` logged under ``path``."""
    arts = [a for a in client.list_artifacts(run_id, path) if a.path.startswith(path + "/")]
    if not arts:
        raise NotFoundError(
            f"Run {run_id} has no artifacts under {path!r}, so {text} names no model.",
            hint=f"List the run's artifacts with `loom runs artifacts {run_id}`.",
            run_id=run_id,
            path=path,
        )
    tree = Tree.from_entries(TreeEntry(a.path[len(path) + 1 :], a.hash, a.size) for a in arts)
    if FILE not in tree.as_dict():
        raise PackageError(
            f"{text} is not a Loom model package: it has no {FILE}.",
            hint="Log models with loom.log_model(model, 'model'); artifacts logged with "
            "log_artifacts are plain files.",
            uri=text,
        )
    return tree


def read_tree(client: Client, oid: str, run_id: str | None) -> Tree:
    data = read_object(client.backend, oid, run_id)
    if hash_bytes(data) != oid:  # get_file verifies; this keeps the promise for any backend
        raise CorruptObjectError(f"Tree object {oid} does not match its hash.", oid=oid)
    return Tree.from_bytes(data, oid)


def read_meta(client: Client, source: Source) -> PackageMeta:
    """The package's ``loom-model.yaml``, read and validated without fetching the rest."""
    entry = source.tree.as_dict().get(FILE)
    if entry is None:
        raise PackageError(
            f"{source.uri} is not a Loom model package: it has no {FILE}.",
            hint="Its tree lacks the metadata file; log the model again with loom.log_model.",
            uri=source.uri,
        )
    data = read_object(client.backend, entry.hash, source.run_id)
    return PackageMeta.parse(data, f"{FILE} of {source.uri}")
