"""``LoadedModel``: what ``loom.load_model`` returns, the same for every flavor.

>>> model = loom.load_model("models:/churn@production")    # doctest: +SKIP
>>> model.predict(frame)                                    # doctest: +SKIP
>>> model.metadata.version, model.signature, model.raw      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loom.registry.flavors import Flavor
from loom.registry.package import PackageMeta
from loom.registry.signature import Signature


@dataclass(frozen=True)
class ModelMetadata:
    """Where a loaded model came from; name/version/alias when loaded through the registry."""

    uri: str
    flavor: str
    tree: str
    run_id: str | None = None
    model_id: str | None = None
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    semver: str | None = None
    loom_version: str | None = None
    python_version: str | None = None
    requirements: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["requirements"] = list(self.requirements)
        return out


class LoadedModel:
    """A model loaded from a package: ``predict(data)`` checks data against the signature
    (when there is one) and runs the flavor's model on it."""

    def __init__(
        self,
        raw: Any,
        flavor: Flavor,
        package: PackageMeta,
        metadata: ModelMetadata,
        path: Path,
    ) -> None:
        self.raw = raw  # the native model: an estimator, a torch module, an ONNX session …
        self.package = package
        self.metadata = metadata
        self.path = path  # the package's files (read-only cache: don't edit them)
        self._flavor = flavor

    def __repr__(self) -> str:
        return f"LoadedModel(uri={self.metadata.uri!r}, flavor={self.metadata.flavor!r})"

    @property
    def signature(self) -> Signature | None:
        return self.package.signature

    @property
    def input_example(self) -> Any:
        """The example the model was logged with, as the model takes it (None if none)."""
        from loom.registry.build import read_example

        return read_example(self.path, self.package)

    def check(self, data: Any) -> Any:
        """``data`` converted to the model's input form; ValidationError saying what's wrong."""
        return self.signature.check(data) if self.signature is not None else data

    def predict(self, data: Any) -> Any:
        return self._flavor.predict(self.raw, self.check(data))
