"""Write a model package: the flavor's files, the code it needs, an input example and
``loom-model.yaml``.

With an input example, the package is loaded back from the folder and run on
it: that gives the signature's outputs, and a model that can't be loaded
again is found while it is being logged, not when it is deployed.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import loom  # for __version__ only: the facade is imported before any loom module
from loom._types import StrPath
from loom.errors import LoomError, NotFoundError, ValidationError, warn
from loom.registry import flavors, signature
from loom.registry.package import CODE_DIR, EXAMPLE_FILE, FILE, PackageMeta, pin


def build(
    model: Any,
    folder: Path,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    code_paths: Iterable[StrPath] = (),
    init_kwargs: dict[str, Any] | None = None,
    torchscript: bool = False,
    run_id: str | None = None,
    model_id: str | None = None,
    artifact_path: str | None = None,
) -> PackageMeta:
    """Save ``model`` into the empty ``folder`` as a package; return its metadata."""
    fl = flavors.get(flavor) if flavor is not None else flavors.detect(model)
    if (init_kwargs or torchscript) and fl.NAME != "pytorch":
        raise ValidationError(
            f"init_kwargs and torchscript are PyTorch options; this is a {fl.NAME} model.",
            hint="Drop them, or pass flavor='pytorch' for a torch.nn.Module.",
        )
    code = _copy_code(list(code_paths), folder)
    options = fl.save(model, folder, {"init_kwargs": init_kwargs, "torchscript": torchscript})
    sig, example = None, None
    if input_example is not None:
        sig = signature.Signature(signature.infer_schema(input_example))
        outputs = _output_schema(fl, folder, options, sig, input_example)
        sig = signature.Signature(sig.inputs, outputs)
        (folder / EXAMPLE_FILE).write_text(_example_json(input_example), encoding="utf-8")
        example = EXAMPLE_FILE
    packages = list(fl.PACKAGES) + (["pandas"] if _is_frame(input_example) else [])
    meta = PackageMeta(
        flavor=fl.NAME,
        flavor_options=options,
        loom_version=loom.__version__,
        python_version=platform.python_version(),
        requirements=tuple(pin(packages)),
        signature=sig,
        input_example=example,
        code=code,
        run_id=run_id,
        model_id=model_id,
        artifact_path=artifact_path,
        created=int(time.time() * 1000),
    )
    (folder / FILE).write_text(meta.to_yaml(), encoding="utf-8")
    return meta


def _output_schema(
    fl: flavors.Flavor,
    folder: Path,
    options: dict[str, Any],
    sig: signature.Signature,
    example: Any,
) -> signature.Schema | None:
    try:
        raw = fl.load(folder, options, trusted=True)  # the files this call just wrote
        output = fl.predict(raw, sig.check(example))
    except Exception as exc:  # the user's model code may raise anything
        message = exc.message if isinstance(exc, LoomError) else f"{type(exc).__name__}: {exc}"
        warn(
            f"The model did not run on input_example ({message}); its signature has no outputs.",
            hint="Check that input_example is what predict() takes.",
        )
        return None
    try:
        return signature.infer_schema(output)
    except ValidationError:
        return None  # a dict of arrays or another output with no single tabular form


def _copy_code(code_paths: list[StrPath], folder: Path) -> str | None:
    if not code_paths:
        return None
    dest = folder / CODE_DIR
    dest.mkdir()
    for p in map(Path, code_paths):
        if not p.exists():
            raise NotFoundError(
                f"code_paths names {str(p)!r}, which does not exist.",
                hint="Name the .py files or packages the model's classes live in.",
                path=str(p),
            )
        target = dest / p.resolve().name
        if target.exists():
            raise ValidationError(
                f"code_paths names two things called {target.name!r}.",
                hint="Each file or folder lands in the package's code/ folder by its name.",
            )
        if p.is_dir():
            shutil.copytree(p, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copyfile(p, target)
    return CODE_DIR


def _example_json(example: Any) -> str:
    """The example in one of MLflow's scoring formats, ready to POST to /invocations."""
    if _is_frame(example) or isinstance(example, dict) or _is_records(example):
        frame = example if _is_frame(example) else signature.to_frame(example)
        split = json.loads(frame.to_json(orient="split", index=False, date_format="iso"))
        return json.dumps({"dataframe_split": split})
    values = example.tolist() if hasattr(example, "tolist") else example
    return json.dumps({"inputs": values})


def read_example(folder: Path, meta: PackageMeta) -> Any:
    """The input example as the model takes it (None if the package has none)."""
    if meta.input_example is None:
        return None
    data = json.loads((folder / meta.input_example).read_text(encoding="utf-8"))
    if "dataframe_split" in data:
        split = data["dataframe_split"]
        columns = {c: [row[i] for row in split["data"]] for i, c in enumerate(split["columns"])}
        values = signature.to_frame(columns)
    else:
        values = data["inputs"]
    return meta.signature.check(values) if meta.signature is not None else values


def _is_frame(x: Any) -> bool:
    return type(x).__name__ == "DataFrame" and type(x).__module__.startswith("pandas")


def _is_records(x: Any) -> bool:
    return isinstance(x, list) and bool(x) and all(isinstance(r, dict) for r in x)
