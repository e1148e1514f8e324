"""With stages as runs, ``loom lineage`` leads from a model version back to the raw data — with
no tracking code in the user's scripts."""

from __future__ import annotations

from loom.data.api import info
from loom.lineage import render, trace
from loom.pipelines import lock
from loom.pipelines.repro import repro
from loom.tracking.client import Client

from .conftest import PY, write


def test_from_a_model_version_back_to_the_raw_data(project, cli) -> None:
    root = project.root
    repro(project)
    raw = info("data/raw").hash
    model = lock.read(root)["train"].outs[0]
    with Client() as client:
        exp = client.experiment("pipelines")
        runs = {
            r.tags["loom.stage"]: r.run_id for r in client.search_runs([exp.experiment_id]).items
        }
        mv, _ = client.create_model_version(
            "classifier", f"runs:/{runs['train']}/models/model", model.hash, run_id=runs["train"]
        )
        g = trace(client, f"models:/classifier/{mv.version}")
    edges = {(e.source, e.target, e.kind) for e in g.edges}
    processed = lock.read(root)["prepare"].outs[0].hash
    assert (f"run:{runs['train']}", f"model:classifier/{mv.version}", "registered") in edges
    assert (f"data:{processed}", f"run:{runs['train']}", "consumed") in edges
    assert (f"run:{runs['prepare']}", f"data:{processed}", "produced") in edges
    assert (f"data:{raw}", f"run:{runs['prepare']}", "consumed") in edges
    text = render.text(g)
    order = ["registered from run train", "produced by run prepare", "read data/raw"]
    assert [text.index(s) for s in order] == sorted(text.index(s) for s in order)

    r = cli("lineage", "models:/classifier/1")
    assert r.code == 0, r.err
    assert "data/raw" in r.out and "prepare" in r.out


def test_forward_from_a_dep_to_the_stage_that_read_it(ws, cli) -> None:
    write("in.txt", "x")
    cmd = f"{PY} -c \"open('out.txt', 'w').write(open('in.txt').read() * 2)\""
    write(
        "loom.yaml", f"stages:\n  copy:\n    cmd: {cmd}\n    deps: [in.txt]\n    outs: [out.txt]\n"
    )
    assert cli("repro").code == 0
    with Client() as client:
        g = trace(client, "in.txt")
    kinds = {(e.target.split(":")[0], e.kind) for e in g.edges}
    assert ("run", "consumed") in kinds and ("data", "produced") in kinds
