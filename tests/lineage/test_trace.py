"""Lineage from what tracking stores, with nothing extra in the user's code: a run's inputs
are joined to the runs whose outputs (or logged files) have the same content hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from loom.data.add import add
from loom.lineage import render, trace
from loom.objects.hashing import hash_bytes
from loom.store.entities import RunInput, RunOutput
from tests.data.conftest import commit, write


def _run(client, name: str) -> str:
    exp = client.get_or_create_experiment("lineage")
    return client.create_run(exp.experiment_id, name=name).run_id


@pytest.fixture
def chain(ws, client):
    """raw data (tracked, committed) → run A 'prep' → processed folder (logged) → run B
    'train' (reads it back from disk, as the next job of a pipeline would)."""
    write("data/raw/part-0.csv", "id,x\n1,a\n")
    write("data/raw/part-1.csv", "id,x\n2,b\n")
    add(ws, ["data/raw"])
    commit("raw v1")
    a = _run(client, "prep")
    client.log_param(a, "clean", "strict")
    raw_input = client.log_input(a, "data/raw")
    write("out/processed/train.csv", "x\na\n")
    write("out/processed/test.csv", "x\nb\n")
    client.log_artifacts(a, "out/processed", artifact_path="processed")
    client.set_terminated(a)
    b = _run(client, "train")
    processed = client.log_input(b, "out/processed")
    client.log_metric(b, "recall_at_10", 0.92)
    client.set_terminated(b)
    return {"a": a, "b": b, "raw": raw_input, "processed": processed}


def test_from_the_last_run_back_to_the_raw_data(chain, client) -> None:
    g = trace(client, chain["b"])
    raw, processed = chain["raw"], chain["processed"]
    assert g.roots == [f"run:{chain['b']}"]
    edges = {(e.source, e.target, e.kind) for e in g.edges}
    assert edges == {
        (f"data:{processed.hash}", f"run:{chain['b']}", "consumed"),
        (f"run:{chain['a']}", f"data:{processed.hash}", "produced"),
        (f"data:{raw.hash}", f"run:{chain['a']}", "consumed"),
    }
    prep = g.nodes[f"run:{chain['a']}"].attrs
    assert prep["params"] == {"clean": "strict"} and prep["status"] == "FINISHED"
    assert g.nodes[f"run:{chain['b']}"].attrs["metrics"] == {"recall_at_10": 0.92}
    raw_node = g.nodes[f"data:{raw.hash}"].attrs
    assert raw_node["paths"] == ["data/raw"] and raw_node["kind"] == "directory"
    assert g.edges_into(f"run:{chain['a']}")[0].attrs["git_rev"] == raw.git_rev

    text = render.text(g)
    assert text.index("read out/processed") < text.index("produced by run prep")
    assert text.index("produced by run prep") < text.index("read data/raw")
    assert "recall_at_10=0.92" in text and "clean=strict" in text


def test_forward_from_the_raw_data_path_at_a_revision(chain, ws, client) -> None:
    write("data/raw/part-2.csv", "id,x\n3,c\n")  # raw v2: nobody has read it
    add(ws, ["data/raw"])
    commit("raw v2")

    old = trace(client, "data/raw", rev="HEAD~1")
    assert old.roots == [f"data:{chain['raw'].hash}"]
    assert old.nodes[old.roots[0]].attrs["rev"] == "HEAD~1"
    forward = {(e.source, e.target) for e in old.edges}
    assert (f"run:{chain['a']}", f"data:{chain['processed'].hash}") in forward
    assert (f"data:{chain['processed'].hash}", f"run:{chain['b']}") in forward
    text = render.text(old)
    assert text.index("read by run prep") < text.index("read by run train")
    assert "came from: no recorded run produced this version." in text

    new = trace(client, "data/raw")  # the workspace's version: v2
    assert new.roots != old.roots and len(new.nodes) == 1 and new.edges == []
    assert "Nothing recorded links to it" in render.text(new)


def test_a_file_read_from_a_logged_folder_links_to_the_run_that_logged_it(chain, client) -> None:
    c = _run(client, "eval")
    test_csv = client.log_input(c, Path("out/processed/test.csv"))
    up = trace(client, c)
    assert (f"run:{chain['a']}", f"data:{test_csv.hash}", "produced") in {
        (e.source, e.target, e.kind) for e in up.edges
    }
    down = trace(client, chain["a"])  # A's logged file some run read: found going forward
    assert f"run:{c}" in down.nodes and f"run:{chain['b']}" in down.nodes
    # a logged file nobody read (train.csv) is not listed as a data version
    assert "data:" + hash_bytes(b"x\na\n") not in down.nodes


def test_cycles_end_and_print_once(client) -> None:
    h1, h2 = hash_bytes(b"one"), hash_bytes(b"two")
    x, y = _run(client, "x"), _run(client, "y")
    client.log_inputs(x, [RunInput("a.bin", h1)])
    client.log_outputs(x, [RunOutput("b.bin", h2)])
    client.log_inputs(y, [RunInput("b.bin", h2)])
    client.log_outputs(y, [RunOutput("a.bin", h1)])  # y writes back what x read
    g = trace(client, x)
    assert set(g.nodes) == {f"run:{x}", f"run:{y}", f"data:{h1}", f"data:{h2}"}
    assert len(g.edges) == 4
    text = render.text(g)
    assert "(see above)" in text and len(text.splitlines()) < 20


def test_depth_bounds_how_many_runs_away_a_walk_goes(client) -> None:
    hashes = [hash_bytes(f"d{i}".encode()) for i in range(4)]
    runs = []
    for i in range(4):  # d0 → r0 → d1 → r1 → d2 → r2 → d3 → r3
        r = _run(client, f"r{i}")
        client.log_inputs(r, [RunInput(f"d{i}", hashes[i])])
        if i < 3:
            client.log_outputs(r, [RunOutput(f"d{i + 1}", hashes[i + 1])])
        runs.append(r)
    g = trace(client, runs[3], depth=2)
    assert {n for n in g.nodes if n.startswith("run:")} == {f"run:{runs[3]}", f"run:{runs[2]}"}
    assert g.nodes[f"data:{hashes[2]}"].attrs["unfollowed"] == ["producers"]
    assert "further than --depth allows" in render.text(g)
    full = trace(client, runs[3])
    assert {n for n in full.nodes if n.startswith("run:")} == {f"run:{r}" for r in runs}
    down = trace(client, hashes[0], depth=1)  # a content hash as the target
    assert {n for n in down.nodes if n.startswith("run:")} == {f"run:{runs[0]}"}


def test_environment_files_every_run_logs_do_not_link_runs(client, tmp_path: Path) -> None:
    a, b = _run(client, "a"), _run(client, "b")
    client.log_text(a, "numpy==2.0\n", "loom/requirements.txt")  # what env capture logs
    req = tmp_path / "requirements.txt"
    req.write_text("numpy==2.0\n")
    client.log_input(b, req)
    g = trace(client, b)
    assert g.edges_into("data:" + hash_bytes(b"numpy==2.0\n")) == []  # read; made by no run
    assert f"run:{a}" not in g.nodes
