"""PyTorch modules: weights in safetensors plus the class's import path and constructor
arguments; TorchScript when asked (``torchscript=True``) or when the class can't be
imported by path (defined in ``__main__`` or inside a function).

Loading imports the class from the environment (the user's own code, as for
any import), checks that it is a ``torch.nn.Module``, builds it with the
stored ``init_kwargs`` and fills in the weights: no pickle is involved.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from loom.errors import ValidationError, warn
from loom.registry.flavors import require

NAME = "pytorch"
EXTRA = "torch"
PACKAGES = ("torch", "safetensors", "numpy")
WEIGHTS = "model.safetensors"
SCRIPT = "model.pt"


def matches(model: Any) -> bool:
    torch = sys.modules.get("torch")  # a torch module exists only if torch is imported
    return torch is not None and isinstance(model, torch.nn.Module)


def save(model: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    torch = _torch()
    init_kwargs = dict(options.get("init_kwargs") or {})
    path = None if isinstance(model, torch.jit.ScriptModule) else import_path(type(model))
    if options.get("torchscript") or path is None:
        if path is None and not isinstance(model, torch.jit.ScriptModule):
            warn(
                f"{type(model).__qualname__} can't be imported by path (it is defined in "
                "__main__ or inside a function), so it is saved as TorchScript.",
                hint="Define the class in a module to save safetensors weights and its path.",
            )
        return _save_script(torch, model, folder)
    _check_kwargs(type(model), init_kwargs)
    st = require("safetensors.torch", NAME, EXTRA, "safetensors")
    st.save_model(model, str(folder / WEIGHTS))
    return {"format": "safetensors", "file": WEIGHTS, "class": path, "init_kwargs": init_kwargs}


def load(folder: Path, options: dict[str, Any], trusted: bool) -> Any:
    torch = _torch()
    if options.get("format") == "torchscript":
        with _quiet():
            return torch.jit.load(str(folder / options.get("file", SCRIPT)), map_location="cpu")
    cls = _resolve(options.get("class"), torch)
    model = cls(**dict(options.get("init_kwargs") or {}))
    st = require("safetensors.torch", NAME, EXTRA, "safetensors")
    st.load_model(model, folder / options.get("file", WEIGHTS), strict=True, device="cpu")
    return model.eval()


def predict(raw: Any, data: Any) -> Any:
    torch = _torch()
    if not isinstance(data, torch.Tensor):
        import numpy as np

        values = data.to_numpy() if hasattr(data, "to_numpy") else data
        data = torch.as_tensor(np.asarray(values))
    param = next(raw.parameters(), None)
    if param is not None:
        data = data.to(param.device)
    training = raw.training
    raw.eval()  # dropout and batch norm in inference mode, then as the caller had it
    try:
        with torch.no_grad():
            out = raw(data)
    finally:
        raw.train(training)
    return _numpy(torch, out)


def import_path(cls: type) -> str | None:
    """``module:QualName`` if importing it gives back ``cls``, else None."""
    module, qualname = cls.__module__, cls.__qualname__
    if module == "__main__" or "<locals>" in qualname:
        return None
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qualname}" if obj is cls else None


def _resolve(path: object, torch: Any) -> type:
    if not isinstance(path, str) or ":" not in path:
        raise ValidationError(f"The PyTorch package names no class to build (got {path!r}).")
    module, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except ImportError as exc:
        raise ValidationError(
            f"Cannot import {module!r}, which defines the model's class {qualname}: {exc}.",
            hint="Load the model where that module is importable (its project on sys.path), "
            "or log it with code_paths=[...] or torchscript=True.",
            module=module,
        ) from None
    except AttributeError:
        raise ValidationError(
            f"Module {module!r} has no class {qualname}: the code changed since the model "
            "was logged.",
            hint="Check out the commit the model was logged from (see its run's git tags).",
        ) from None
    if not (isinstance(obj, type) and issubclass(obj, torch.nn.Module)):
        raise ValidationError(f"{path} is not a torch.nn.Module class; refusing to call it.")
    return obj


def _check_kwargs(cls: type, init_kwargs: dict[str, Any]) -> None:
    try:
        json.dumps(init_kwargs)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"init_kwargs must be plain values (numbers, strings, lists, dicts): {exc}.",
            hint="Pass the constructor arguments that rebuild the module, e.g. {'hidden': 64}.",
        ) from None
    try:
        inspect.signature(cls).bind(**init_kwargs)
    except TypeError as exc:
        raise ValidationError(
            f"{cls.__qualname__}(**init_kwargs) can't be called: {exc}.",
            hint="Pass init_kwargs= with the constructor arguments that rebuild the module.",
        ) from None
    except ValueError:
        pass  # no signature to check (a C extension class)


def _save_script(torch: Any, model: Any, folder: Path) -> dict[str, Any]:
    scripted = model
    try:
        if not isinstance(model, torch.jit.ScriptModule):
            with _quiet():
                scripted = torch.jit.script(model)
    except Exception as exc:  # torch raises many kinds of errors while compiling
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationError(
            f"Cannot compile {type(model).__qualname__} to TorchScript: {first}",
            hint="Define the class in an importable module (weights are then saved with "
            "safetensors), or pass torch.jit.trace(model, example) as the model.",
        ) from None
    with _quiet():
        torch.jit.save(scripted, str(folder / SCRIPT))
    return {"format": "torchscript", "file": SCRIPT}


def _numpy(torch: Any, out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out.detach().cpu().numpy()
    if isinstance(out, tuple | list):
        return type(out)(_numpy(torch, o) for o in out)
    if isinstance(out, dict):
        return {k: _numpy(torch, v) for k, v in out.items()}
    return out


@contextmanager
def _quiet() -> Iterator[None]:
    """Recent torch calls TorchScript deprecated; the user asked for it (or their class can't
    be imported by path and Loom chose it), so that DeprecationWarning is noise here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
        yield


def _torch() -> Any:
    return require("torch", NAME, None, "torch")
