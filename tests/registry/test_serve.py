"""``loom models serve``: a real server process, real models, MLflow's scoring formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from loom.registry.api import log_model, register_model
from tests.conftest import free_port, wait_for

FRAME = ["a", "b", "c", "d"]


def _serve(uri: str, port: int) -> list[str]:
    serve = ["-m", "loom", "models", "serve", "models:/clf@production"]
    return [sys.executable, *serve, "--port", str(port), "--tracking-uri", uri]


@pytest.fixture(scope="module")
def served(tmp_path_factory, data, sk_model):
    """``models:/clf@production`` (a logistic regression) served by a real ``loom`` process,
    one for the module: starting one costs seconds (scikit-learn's and skops' imports)."""
    from loom.tracking.client import Client

    uri = f"sqlite:///{tmp_path_factory.mktemp('serve') / 'loom.db'}"
    X, _ = data
    with Client(uri) as client:
        exp = client.get_or_create_experiment("serve").experiment_id
        run_id = client.create_run(exp, capture_env=False).run_id
        client.log_metric(run_id, "acc", 0.9)
        log_model(sk_model, "model", input_example=X[:3], client=client, run_id=run_id)
        mv = register_model(f"runs:/{run_id}/model", "clf", client=client)
        client.set_registered_model_alias("clf", "production", mv.version)
    port = free_port()
    proc = subprocess.Popen(
        _serve(uri, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base, proc), timeout=60, what="the model server")
        with httpx.Client(base_url=base, timeout=30) as http:
            yield http, run_id, port, uri
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _up(base: str, proc: subprocess.Popen) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_every_mlflow_scoring_format_gives_the_models_predictions(served, data, sk_model):
    http, *_ = served
    X, _ = data
    rows = X[:5].tolist()
    want = sk_model.predict(X[:5]).tolist()
    bodies = [
        {"inputs": rows},
        {"instances": rows},
        {"dataframe_split": {"columns": FRAME, "data": rows}},
        {"dataframe_records": [dict(zip(FRAME, r, strict=True)) for r in rows]},
    ]
    for body in bodies:
        r = http.post("/invocations", json=body)
        assert r.status_code == 200, (body, r.text)
        assert r.json() == {"predictions": want}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"inputs": [[1.0, 2.0, 3.0]]}, "expects"),  # 3 values for 4
        ({"inputs": [["x", 1.0, 2.0, 3.0]]}, "dtype"),
        ({"inputs": [[1.0] * 4], "instances": [[1.0] * 4]}, "exactly one of"),
        ({"rows": [[1.0] * 4]}, "exactly one of"),
        ({"dataframe_split": {"columns": FRAME, "data": [[1.0, 2.0]]}}, "Row 0"),
        ({"dataframe_records": [1, 2]}, "dataframe_records"),
    ],
)
def test_input_that_does_not_fit_is_a_400_saying_what(served, body, says):
    http, *_ = served
    r = http.post("/invocations", json=body)
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["error_code"] == "BAD_REQUEST" and says in err["message"] and err["hint"]


def test_bad_bodies_and_wrong_endpoints(served):
    http, *_ = served
    r = http.post(
        "/invocations", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]
    r = http.post("/invocations", content=b"a=1", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert http.get("/invocations").status_code == 405
    assert http.get("/nope").status_code == 404
    assert http.get("/ping").json() == {"status": "ok"}


def test_metadata_says_what_is_served_and_where_it_came_from(served):
    http, run_id, *_ = served
    meta = http.get("/metadata").json()
    assert (meta["name"], meta["version"], meta["alias"]) == ("clf", 1, "production")
    assert meta["flavor"] == "sklearn" and len(meta["tree"]) == 64
    assert meta["signature"]["inputs"] == {"type": "tensor", "dtype": "float64", "shape": [-1, 4]}
    assert meta["lineage"]["run_id"] == run_id and meta["lineage"]["metrics"] == {"acc": 0.9}


def test_it_listens_on_loopback_only_by_default(served):
    _, _, port, _ = served
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local = [line.split()[1] for line in listening if line.split()[3] == "0A"]  # LISTEN
    assert f"0100007F:{port:04X}" in local
    assert f"00000000:{port:04X}" not in local


def test_a_busy_port_is_one_clear_error(served):
    _, _, port, uri = served
    r = subprocess.run(
        _serve(uri, port),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and f"Cannot listen on 127.0.0.1:{port}" in r.stderr
    assert "--port" in r.stderr and "Traceback" not in r.stderr


def test_predictions_are_strict_json(tmp_path: Path):
    from loom.registry.serve import jsonable

    out = json.dumps(jsonable({"p": np.array([1.0, np.nan, np.inf])}), allow_nan=False)
    assert json.loads(out) == {"p": [1.0, "NaN", "Infinity"]}
