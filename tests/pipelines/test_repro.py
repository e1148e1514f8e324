"""``loom repro``: what runs, what is skipped and why, what loom.lock and the cache hold."""

from __future__ import annotations

import json

import yaml

from loom.data.api import info
from loom.pipelines import lock
from loom.pipelines.repro import repro

from .conftest import PY, clear_log, commit, git, ran, write


def _actions(result) -> dict[str, tuple[str, str]]:
    return {s.name: (s.action, s.reason) for s in result.stages}


def test_first_repro_runs_everything_and_locks_what_it_read_and_wrote(project, cli) -> None:
    root = project.root
    r = cli("repro")
    assert r.code == 0, r.err
    assert ran(root) == ["prepare", "train", "evaluate val", "evaluate test"]
    assert "prepared 5" in r.out and "Running stage train: never ran" in r.out
    stages = lock.read(root)
    assert list(stages) == ["prepare", "train", "evaluate@val", "evaluate@test"]
    train = stages["train"]
    assert train.cmd == f"{PY} src/train.py"
    deps = {d.path: d for d in train.deps}
    assert deps["data/processed"].hash == info("data/processed").hash  # Loom's tree hash
    assert deps["data/processed"].kind == "dir" and deps["data/processed"].files == 5
    assert dict(train.params) == {"params.yaml": {"train": {"lr": 0.01, "epochs": 3}}}
    outs = {o.path: o for o in train.outs}
    assert outs["models/model"].cache and not outs["metrics.json"].cache
    assert outs["models/model"].hash == info("models/model").hash
    # cached outs are objects in the workspace cache and ignored by git; metrics stay in git
    assert project.odb.exists(outs["models/model"].hash)
    assert "/model" in (root / "models/.gitignore").read_text().splitlines()
    assert "/processed" in (root / "data/.gitignore").read_text().splitlines()
    untracked = git("status", "--porcelain", "--untracked-files=all")
    assert "metrics.json" in untracked and "models/model" not in untracked
    # the lock's text follows pipelines.md: one flow mapping per path
    text = (root / "loom.lock").read_text()
    assert text.startswith("schema: loom-lock/1\nstages:\n")
    assert "- {path: metrics.json, hash: " in text and "kind: file, cache: false}" in text


def test_second_repro_runs_nothing(project, cli) -> None:
    assert cli("repro").code == 0
    clear_log(project.root)
    before = (project.root / "loom.lock").read_bytes()
    r = cli("repro")
    assert r.code == 0 and ran(project.root) == []
    assert "Every stage is up to date." in r.out
    assert (project.root / "loom.lock").read_bytes() == before


def test_each_reason_to_run(project) -> None:
    root = project.root
    repro(project)
    clear_log(root)

    text = (root / "loom.yaml").read_text()
    write(root / "loom.yaml", text.replace("deps: [models/model]", "deps: [models/model, src]"))
    r = _actions(repro(project, dry_run=True))
    assert r["evaluate@val"] == ("would run", "dep src added")
    write(root / "loom.yaml", text)

    write(root / "data/raw/part-000.csv", "id,value\n0,changed\n")
    r = _actions(repro(project))
    assert r["prepare"] == ("ran", "dep data/raw changed")
    assert r["train"] == ("ran", "dep data/processed changed")
    clear_log(root)

    write(root / "params.yaml", (root / "params.yaml").read_text().replace("0.01", "0.05"))
    r = _actions(repro(project))
    assert r["prepare"] == ("skipped", "up to date")
    assert r["train"] == ("ran", "param train.lr changed (0.01 -> 0.05)")
    assert r["evaluate@val"] == ("ran", "dep models/model changed")
    assert ran(root) == ["train", "evaluate val", "evaluate test"]
    clear_log(root)

    text = (root / "loom.yaml").read_text().replace("src/train.py\n", "src/train.py --quiet\n", 1)
    write(root / "loom.yaml", text)
    r = _actions(repro(project, ["train"]))
    assert r == {"prepare": ("skipped", "up to date"), "train": ("ran", "cmd changed")}


def test_missing_or_edited_outs_come_back_from_the_cache_without_running(project) -> None:
    root = project.root
    repro(project)
    clear_log(root)
    model = (root / "models/model").read_text()
    (root / "models/model").unlink()
    r = _actions(repro(project))
    assert r["train"][0] == "restored" and r["train"][1].startswith("out models/model missing")
    assert (root / "models/model").read_text() == model
    assert ran(root) == []

    (root / "metrics.json").write_text('{"loss": 0}')
    r = _actions(repro(project))
    assert r["train"][0] == "restored" and "out metrics.json changed" in r["train"][1]
    assert json.loads((root / "metrics.json").read_text())["loss"] == 0.99
    assert ran(root) == []


def test_switching_a_param_back_restores_from_the_run_cache(project, cli) -> None:
    root = project.root
    assert cli("repro").code == 0
    first = (root / "models/model").read_text(), (root / "metrics.json").read_text()
    params = (root / "params.yaml").read_text()
    write(root / "params.yaml", params.replace("lr: 0.01", "lr: 0.02"))
    assert cli("repro").code == 0
    assert "lr=0.02" in (root / "models/model").read_text()
    clear_log(root)

    write(root / "params.yaml", params)  # back to 0.01
    r = cli("repro")
    assert r.code == 0, r.err
    assert ran(root) == []  # no command ran
    assert "train: param train.lr changed (0.02 -> 0.01); outs restored from the run cache" in r.out
    assert ((root / "models/model").read_text(), (root / "metrics.json").read_text()) == first
    assert lock.read(root)["train"].params["params.yaml"]["train"]["lr"] == 0.01
    clear_log(root)
    assert cli("repro").code == 0 and ran(root) == []  # and the lock says so


def test_force_frozen_and_always_changed(project) -> None:
    root = project.root
    repro(project)
    clear_log(root)
    text = (root / "loom.yaml").read_text()
    frozen = text.replace(
        "    outs: [data/processed]\n", "    outs: [data/processed]\n    frozen: true\n"
    )
    write(root / "loom.yaml", frozen)
    write(root / "data/raw/part-000.csv", "id,value\n0,changed\n")
    r = _actions(repro(project))
    assert r["prepare"] == ("skipped", "frozen")
    assert ran(root) == []

    r = _actions(repro(project, force=True))
    assert r["prepare"] == ("skipped", "frozen")  # not even with --force
    assert r["train"] == ("ran", "forced (--force)")
    assert ran(root) == ["train", "evaluate val", "evaluate test"]
    clear_log(root)

    always = frozen.replace(
        "    metrics: [metrics.json]\n", "    metrics: [metrics.json]\n    always_changed: true\n"
    )
    write(root / "loom.yaml", always)
    r = _actions(repro(project))
    assert r["train"] == ("ran", "always_changed")
    assert r["evaluate@val"] == ("skipped", "up to date")  # the same model came out
    assert ran(root) == ["train"]


def test_targets_and_downstream(project) -> None:
    root = project.root
    repro(project, ["train"])
    assert ran(root) == ["prepare", "train"]
    clear_log(root)
    r = repro(project, ["evaluate@test"])
    assert [s.name for s in r.stages] == ["prepare", "train", "evaluate@test"]
    assert ran(root) == ["evaluate test"]
    clear_log(root)

    repro(project, ["train"], force=True, downstream=True)
    assert ran(root) == ["train", "evaluate val", "evaluate test"]  # not prepare


def test_dry_run_changes_nothing(project, cli) -> None:
    root = project.root

    def files() -> dict:
        return {
            p: p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and not {".git", ".loom"} & set(p.relative_to(root).parts)
        }

    before = files()
    r = cli("repro", "--dry-run")
    assert r.code == 0, r.err
    assert "prepare        would run: never ran (no entry in loom.lock)" in r.out
    assert "train          would run: upstream stage prepare runs first" in r.out
    assert ran(root) == [] and not (root / "loom.lock").exists()
    assert files() == before


def test_json_output_and_templated_stages(project, cli) -> None:
    root = project.root
    write(
        root / "loom.yaml",
        (root / "loom.yaml").read_text()
        + f"""\
  grid:
    matrix: {{model: [a, b], n: [1, 2]}}
    cmd: {PY} -c "open('out/${{item.model}}-${{item.n}}', 'w').write('${{item.model}}')"
    outs: [out/${{item.model}}-${{item.n}}]
""",
    )
    (root / "out").mkdir()
    r = cli("repro", "--json", "grid@b-2", "grid@a-1")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert [(s["stage"], s["action"]) for s in doc["stages"]] == [
        ("grid@a-1", "ran"),
        ("grid@b-2", "ran"),
    ]
    assert (root / "out/b-2").read_text() == "b"
    assert (
        yaml.safe_load((root / "loom.lock").read_text())["stages"]["grid@a-1"]["outs"][0]["path"]
        == "out/a-1"
    )


def test_lock_written_only_for_stages_that_exist(project) -> None:
    root = project.root
    repro(project)
    text = (root / "loom.yaml").read_text()
    write(root / "loom.yaml", text[: text.index("  evaluate:")])
    commit("no evaluate")
    write(root / "params.yaml", (root / "params.yaml").read_text().replace("0.01", "0.03"))
    repro(project)
    assert list(lock.read(root)) == ["prepare", "train"]


def test_wdir_runs_the_command_there(ws) -> None:
    write("sub/params.yaml", "n: 3\n")
    write(
        "sub/make.py",
        "import yaml\nn = yaml.safe_load(open('params.yaml'))['n']\n"
        "open('../out.txt', 'w').write('x' * n)\n",
    )
    write(
        "loom.yaml",
        f"stages:\n  s:\n    cmd: {PY} make.py\n    wdir: sub\n"
        "    deps: [make.py]\n    params: [n]\n    outs: [../out.txt]\n",
    )
    repro(ws)
    assert (ws.root / "out.txt").read_text() == "xxx"
    entry = lock.read(ws.root)["s"]
    assert entry.wdir == "sub" and [d.path for d in entry.deps] == ["sub/make.py"]
    assert dict(entry.params) == {"sub/params.yaml": {"n": 3}}
    assert "    wdir: sub\n" in (ws.root / "loom.lock").read_text()


def test_symlinked_outs_are_never_written_through(ws) -> None:
    ws.save_config({"cache": {"type": "symlink"}})
    write("n.txt", "1")
    stage = f"{PY} -c \"open('out.txt', 'w').write(open('n.txt').read() * 2)\""
    write("loom.yaml", f"stages:\n  s:\n    cmd: {stage}\n    deps: [n.txt]\n    outs: [out.txt]\n")
    repro(ws)
    out = ws.root / "out.txt"
    assert out.is_symlink() and out.read_text() == "11"
    first = lock.read(ws.root)["s"].outs[0].hash
    write("n.txt", "2")
    repro(ws)
    assert out.is_symlink() and out.read_text() == "22"
    ws.odb.verify(first)  # the cached "11" was not overwritten through the link
    assert _actions(repro(ws))["s"] == ("skipped", "up to date")


def test_persist_outs_are_kept_and_skip_the_run_cache(ws) -> None:
    write("n.txt", "a")
    stage = f"{PY} -c \"open('log.txt', 'a').write(open('n.txt').read())\""
    write(
        "loom.yaml",
        f"stages:\n  s:\n    cmd: {stage}\n    deps: [n.txt]\n"
        "    outs: [{log.txt: {persist: true}}]\n",
    )
    repro(ws)
    write("n.txt", "b")
    repro(ws)
    write("n.txt", "a")
    r = _actions(repro(ws))
    assert r["s"] == ("ran", "dep n.txt changed")  # not restored: it builds on what is there
    assert (ws.root / "log.txt").read_text() == "aba"
