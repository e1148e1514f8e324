"""Flavor libraries load only when used, and a missing one is a DependencyError naming
what to install. Each case runs in a real subprocess whose imports of that library fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from loom.registry import api
from loom.tracking.client import Client
from tests.registry.conftest import need_torch

HEAVY = ["sklearn", "skops", "torch", "safetensors", "onnx", "onnxruntime", "numpy", "pandas"]

LOAD = """
import json, sys
for name in sys.argv[3:]:
    sys.modules[name] = None  # as if not installed: importing it raises ImportError
import loom
from loom.errors import LoomError
from loom.tracking.client import Client
try:
    loom.load_model(sys.argv[2], client=Client(sys.argv[1]))
    out = {"ok": True}
except LoomError as exc:
    out = {"error": type(exc).__name__, "message": exc.message, "hint": exc.hint}
out["loaded"] = sorted(m for m in HEAVY if sys.modules.get(m) is not None)
print(json.dumps(out))
""".replace("HEAVY", repr(HEAVY))


def _load(store: str, uri: str, *hidden: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", LOAD, store, uri, *hidden],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],  # tests.registry.* importable, as in a project
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'loom.db'}"


@pytest.fixture
def sk_uri(store: str, sk_model) -> str:
    with Client(store) as c:
        run = c.create_run(c.get_or_create_experiment("e").experiment_id)
        return api.log_model(sk_model, "model", run_id=run.run_id, client=c).model_uri


@pytest.mark.parametrize(
    ("hidden", "package", "install"),
    [
        ("skops", "skops", "pip install 'loom[sklearn]'"),
        ("sklearn", "scikit-learn", "pip install 'loom[sklearn]'"),
    ],
)
def test_a_missing_sklearn_library_names_the_package_to_install(
    store, sk_uri, hidden, package, install
) -> None:
    out = _load(store, sk_uri, hidden)
    assert out["error"] == "DependencyError"
    assert f"needs the Python package {package!r}" in out["message"]
    assert out["hint"] == f"Install it: {install}"


def test_a_missing_onnxruntime_or_torch_names_its_package(store, sk_model, data) -> None:
    from skl2onnx import to_onnx

    X, _ = data
    with Client(store) as c:
        run = c.create_run(c.get_or_create_experiment("e").experiment_id)
        proto = to_onnx(sk_model, X[:1].astype(np.float32))
        onnx_uri = api.log_model(proto, "onnx", run_id=run.run_id, client=c).model_uri
    out = _load(store, onnx_uri, "onnxruntime")
    assert out["error"] == "DependencyError" and "'onnxruntime'" in out["message"]
    assert out["hint"] == "Install it: pip install 'loom[onnx]'"

    need_torch()
    from tests.registry.torch_models import Net

    with Client(store) as c:
        net_uri = api.log_model(
            Net(4), "net", run_id=run.run_id, client=c, init_kwargs={"d": 4}
        ).model_uri
    out = _load(store, net_uri, "torch")
    assert out["error"] == "DependencyError" and out["hint"] == "Install it: pip install torch"
    out = _load(store, net_uri, "safetensors")
    assert out["hint"] == "Install it: pip install 'loom[torch]'"
    assert _load(store, net_uri)["ok"]


def test_loading_one_flavor_imports_no_other_library(store, sk_uri) -> None:
    out = _load(store, sk_uri)
    assert out["ok"]
    assert {"skops", "sklearn"} <= set(out["loaded"])
    # skops itself imports sklearn's every estimator (and with them pandas, even torch where
    # installed); what Loom controls is that no other flavor's library comes along
    assert not {"onnx", "onnxruntime", "safetensors"} & set(out["loaded"])


def test_import_loom_and_the_registry_names_import_no_ml_library() -> None:
    code = (
        "import sys, loom\n"
        "loom.log_model, loom.load_model, loom.register_model, loom.set_alias\n"
        "import loom.registry.flavors, loom.registry.signature\n"
        f"print([m for m in {[*HEAVY, 'fastapi', 'uvicorn']!r} if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
