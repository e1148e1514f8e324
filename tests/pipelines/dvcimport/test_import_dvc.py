"""``loom import-dvc`` on projects that real DVC built (see conftest.py and projects.py)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from loom.data.walk import walk_files
from loom.objects.hashing import hash_file
from loom.objects.tree import Tree, TreeEntry
from tests.pipelines.dvcimport.projects import GET_STARTED_DVC_YAML, RICH_DVC_YAML

# one worker builds the DVC projects (session fixtures) and runs every test on them
pytestmark = pytest.mark.xdist_group("dvc")


def loom_hash(path: Path) -> str:
    """Loom's hash of what ``path`` holds, computed here from the bytes (not by the code
    under test): BLAKE3 of a file, or the hash of a folder's tree manifest."""
    if path.is_file():
        return hash_file(path)
    stats = walk_files(path)
    entries = [TreeEntry(r, hash_file(path / r), s.key[2], s.exec) for r, s in stats.items()]
    return Tree.from_entries(entries).oid


def read_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def imported(loom, root: Path, *args: str) -> dict:
    proc = loom("import-dvc", "--json", *args, cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def attention(report: dict, name: str) -> list[str]:
    return [n["message"] for n in report["attention"] if n["name"] == name]


def test_data_pipeline_lock_and_remote_are_converted(rich: Path, loom) -> None:
    dvc_lock = read_yaml(rich / "dvc.lock")
    report = imported(loom, rich)

    # .dvc files -> pointers with Loom's hashes of the same bytes; data in the Loom cache
    for rel in ("data/raw", "data/labels.csv"):
        ptr = read_yaml(rich / f"{rel}.loom")
        assert ptr["hash"] == loom_hash(rich / rel)
        assert ptr["kind"] == ("dir" if rel == "data/raw" else "file")
    assert read_yaml(rich / "data/raw.loom")["files"] == 3
    assert "/raw" in (rich / "data/.gitignore").read_text().splitlines()
    status = loom("status", "--json", cwd=rich)
    assert status.returncode == 0, status.stderr
    shutil.rmtree(rich / "data/raw")
    (rich / "data/labels.csv").unlink()
    assert loom("checkout", cwd=rich).returncode == 0
    assert (rich / "data/raw/a.txt").read_text() == "one two three four\n"
    assert os.access(rich / "data/raw/run.sh", os.X_OK)  # Loom kept the exec bit

    # dvc.yaml -> loom.yaml: comments and templating kept
    assert (rich / "loom.yaml").read_text() == RICH_DVC_YAML  # nothing to change: as written

    # dvc.lock -> loom.lock: every stage, root-relative paths, Loom hashes, DVC's params
    lock = read_yaml(rich / "loom.lock")
    assert lock["schema"] == "loom-lock/1"
    assert list(lock["stages"]) == list(dvc_lock["stages"])
    small = lock["stages"]["train@small"]
    assert small["wdir"] == "train"
    assert small["cmd"] == dvc_lock["stages"]["train@small"]["cmd"] == "python train.py small 2"
    assert small["params"] == {
        "params.yaml": {"train": {"lr": 0.1, "epochs": 3}},
        "config.json": {"extra.scale": 2},
    }
    by_path = {e["path"]: e for e in small["deps"] + small["outs"]}
    assert set(by_path) == {
        "train/train.py", "data/prepared", "train/model_small.json",
        "train/metrics_small.json", "train/loss_small.csv",
    }  # fmt: skip
    for rel, entry in by_path.items():
        assert entry["hash"] == loom_hash(rich / rel), rel
    assert by_path["data/prepared"]["kind"] == "dir" and by_path["data/prepared"]["files"] == 2
    assert by_path["train/metrics_small.json"]["cache"] is False
    assert "cache" not in by_path["train/model_small.json"]
    assert lock["stages"]["prepare"]["params"] == {"params.yaml": {"prepare.split": 0.5}}
    assert lock["stages"]["grid@2-b"]["outs"][0]["path"] == "grid/2-b.txt"

    # the DVC remote -> a Loom remote at the same place, the default; push goes there
    remotes = json.loads(loom("remote", "list", "--json", cwd=rich).stdout)
    assert [(r["name"], r["url"], r["default"]) for r in remotes] == [
        ("storage", "../dvc-storage", True)
    ]
    assert loom("push", cwd=rich).returncode == 0
    storage = rich.parent / "dvc-storage"
    assert (storage / "files" / "md5").is_dir() and any((storage / "packs").iterdir())

    # DVC's own files stay; the report says so
    assert (rich / ".dvc").is_dir() and (rich / "data/raw.dvc").is_file()
    assert attention(report, "DVC files")
    assert {"loom.yaml", "loom.lock", "data/raw.loom"} <= set(report["written"])


def test_the_dvc_tutorial_pipeline_converts(get_started: Path, loom) -> None:
    report = imported(loom, get_started)
    lock = read_yaml(get_started / "loom.lock")
    assert list(lock["stages"]) == ["prepare", "featurize", "train", "evaluate"]
    evaluate = lock["stages"]["evaluate"]
    assert [o["path"] for o in evaluate["outs"]] == ["eval"]
    assert evaluate["outs"][0]["hash"] == loom_hash(get_started / "eval")
    assert lock["stages"]["train"]["params"] == {
        "params.yaml": {"train.min_split": 0.01, "train.n_est": 50, "train.seed": 20170428}
    }
    assert read_yaml(get_started / "data/data.xml.loom")["hash"] == loom_hash(
        get_started / "data/data.xml"
    )
    # the top-level metrics and plots declarations carry over as they are
    assert read_yaml(get_started / "loom.yaml") == read_yaml(get_started / "dvc.yaml")
    assert (get_started / "loom.yaml").read_text() == GET_STARTED_DVC_YAML
    assert not [n for n in report["attention"] if n["kind"] == "stage"]
    # `loom metrics show` finds the metrics file the tutorial declares at the top level
    shown = loom("metrics", "show", "--json", cwd=get_started)
    assert shown.returncode == 0, shown.stderr
    dvc_metrics = json.loads((get_started / "eval/metrics.json").read_text())
    assert json.loads(shown.stdout)["eval/metrics.json"] == {
        "avg_prec.test": dvc_metrics["avg_prec"]["test"],
        "roc_auc.test": dvc_metrics["roc_auc"]["test"],
    }


def test_a_stage_dvc_would_rerun_is_left_unlocked(rich: Path, loom) -> None:
    # after `dvc repro`, grid.py changed: DVC's md5 of that dep no longer matches
    (rich / "src/grid.py").write_text((rich / "src/grid.py").read_text() + "# changed\n")
    report = imported(loom, rich)
    stages = read_yaml(rich / "loom.lock")["stages"]
    assert not any(name.startswith("grid@") for name in stages)
    assert {"prepare", "train@small", "train@big"} <= set(stages)
    [why] = attention(report, "grid@1-a")
    assert "src/grid.py differs from what DVC recorded" in why


def test_data_comes_from_dvcs_cache_when_the_workspace_lacks_it(rich: Path, loom) -> None:
    raw = rich / "data/raw"
    expected = {p.name: p.read_bytes() for p in raw.iterdir()}
    shutil.rmtree(raw)
    (rich / "train/model_big.json").unlink()  # a stage's out, missing too
    (rich / "data/labels.csv").write_text("edited after dvc add\n")  # differs from DVC's
    report = imported(loom, rich)

    ptr = read_yaml(rich / "data/raw.loom")
    assert ptr["files"] == 3 and ptr["size"] == sum(len(b) for b in expected.values())
    assert loom("checkout", "data/raw", cwd=rich).returncode == 0
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == expected
    # DVC's version of labels.csv is what the pointer records; the edit is left alone
    labels = read_yaml(rich / "data/labels.csv.loom")
    assert (rich / "data/labels.csv").read_text() == "edited after dvc add\n"
    assert labels["size"] == len("id,label\n1,cat\n2,dog\n")
    assert any("differs from DVC's version" in m for m in attention(report, "data/labels.csv"))
    # the missing out was put back from DVC's cache, and the stage is locked
    assert (rich / "train/model_big.json").is_file()
    big = read_yaml(rich / "loom.lock")["stages"]["train@big"]
    out = next(o for o in big["outs"] if o["path"] == "train/model_big.json")
    assert out["hash"] == loom_hash(rich / "train/model_big.json")


def test_data_found_nowhere_is_reported_not_invented(rich: Path, loom) -> None:
    shutil.rmtree(rich / "data/raw")
    listing = read_yaml(rich / "data/raw.dvc")["outs"][0]["md5"]
    # DVC's cached copy of a.txt is corrupt: it must not be imported under a wrong name
    a_md5 = hashlib.md5(b"one two three four\n").hexdigest()
    cached = rich / ".dvc/cache/files/md5" / a_md5[:2] / a_md5[2:]
    os.chmod(cached, 0o644)
    cached.write_bytes(b"rotten\n")
    report = imported(loom, rich)
    assert not (rich / "data/raw.loom").exists()
    [why] = attention(report, "data/raw")
    assert "not in the workspace" in why and "corrupt" in why
    assert listing.endswith(".dir")
    # the stage that reads data/raw can't be matched either: it will run
    assert "prepare" not in read_yaml(rich / "loom.lock")["stages"]


def test_existing_loom_files_are_not_overwritten_without_force(rich: Path, loom) -> None:
    (rich / "loom.yaml").write_text("stages: {}\n")
    proc = loom("import-dvc", cwd=rich)
    assert proc.returncode == 1
    assert "Error: loom.yaml already exists" in proc.stderr
    assert "loom import-dvc --force" in proc.stderr and "Traceback" not in proc.stderr
    assert not (rich / "data/raw.loom").exists() and not (rich / "loom.lock").exists()
    assert (rich / "loom.yaml").read_text() == "stages: {}\n"
    imported(loom, rich, "--force")
    assert (rich / "loom.yaml").read_text() != "stages: {}\n"
    # a second import without --force: loom.yaml and loom.lock exist now
    again = loom("import-dvc", cwd=rich)
    assert again.returncode == 1 and "loom.yaml and loom.lock already exist" in again.stderr


def test_not_a_dvc_project_and_broken_dvc_yaml_are_clear_errors(rich: Path, tmp_path, loom):
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = loom("import-dvc", str(plain), cwd=tmp_path)
    assert proc.returncode == 1 and "is not a DVC project" in proc.stderr
    assert "Traceback" not in proc.stderr and not (plain / ".loom").exists()

    (rich / "dvc.yaml").write_text(RICH_DVC_YAML.replace("deps: [data/raw,", "deps: [[data/raw"))
    proc = loom("import-dvc", cwd=rich)
    assert proc.returncode == 1 and "dvc.yaml:" in proc.stderr and "not valid YAML" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (rich / "data/raw.loom").exists() and not (rich / ".loom").exists()


DVC_YAML_TO_REWRITE = """\
# this comment can't survive: the file is rewritten
stages:
  train:
    desc: trains
    cmd: python train.py
    outs:
      - model.pkl:
          type: model
          persist: true
    metrics: [scores.json]
    plots:
      - curve.csv:
          x: step
artifacts:
  model:
    path: model.pkl
"""


def test_dvc_yaml_is_rewritten_where_loom_differs(tmp_path: Path, loom) -> None:
    """DVC caches metrics and plots unless told not to, Loom keeps them in git unless told
    to cache them: the flag is written out. Keys Loom lacks are dropped and reported."""
    root = tmp_path / "proj"
    (root / ".dvc").mkdir(parents=True)
    (root / "dvc.yaml").write_text(DVC_YAML_TO_REWRITE)
    proc = loom("import-dvc", cwd=root)
    assert proc.returncode == 0, proc.stderr
    train = read_yaml(root / "loom.yaml")["stages"]["train"]
    assert train["metrics"] == [{"scores.json": {"cache": True}}]
    assert train["plots"] == [{"curve.csv": {"x": "step", "cache": True}}]
    assert train["outs"] == [{"model.pkl": {"persist": True}}]
    assert train["desc"] == "trains"
    assert "artifacts" not in read_yaml(root / "loom.yaml")
    out = proc.stdout
    assert "Needs attention:" in out
    assert "top-level `artifacts:` has no loom.yaml counterpart" in out
    assert "model.pkl: type left out" in out
    assert "scores.json: `cache: true` written out (DVC's default)" in out
    assert "its comments are not kept" in out

    from loom.pipelines.spec import load

    stage = load(root).stages["train"]  # what `loom repro` will read
    assert [(o.path, o.cache) for o in stage.outs] == [
        ("model.pkl", True), ("scores.json", True), ("curve.csv", True)
    ]  # fmt: skip


def test_workspace_linked_into_dvcs_cache(tmp_path: Path, dvc, loom, tool_env) -> None:
    """With DVC's cache.type symlink the workspace holds links into .dvc/cache: the data is
    imported through them, the report warns, and Loom's checkout replaces them later."""
    from tests.pipelines.dvcimport.conftest import git
    from tests.pipelines.dvcimport.projects import init_repo, write

    root = tmp_path / "linked"
    init_repo(root, lambda *a: dvc(*a, cwd=root), lambda *a: git(*a, cwd=root, env=tool_env))
    dvc("config", "cache.type", "symlink", cwd=root)
    write(root, {"data/images/a.bin": "A" * 100, "data/images/b.bin": "B" * 50})
    dvc("add", "-q", "data/images", cwd=root)
    assert (root / "data/images/a.bin").is_symlink()

    report = imported(loom, root)
    assert any("cache.type is symlink" in m for m in attention(report, ".dvc/cache"))
    ptr = read_yaml(root / "data/images.loom")
    assert ptr["files"] == 2 and ptr["size"] == 150

    shutil.rmtree(root / ".dvc")
    assert loom("checkout", "--force", cwd=root).returncode == 0
    a = root / "data/images/a.bin"
    assert not a.is_symlink() and a.read_text() == "A" * 100


def test_what_loom_cant_take_over_is_reported(tmp_path: Path, loom) -> None:
    """No DVC run needed: hand-written files in DVC's formats."""
    root = tmp_path / "proj"
    (root / ".dvc").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / "dvc.yaml").write_text(
        "stages:\n  fetch:\n    cmd: curl -o raw.csv https://example.com/raw.csv\n"
        "    deps: [https://example.com/raw.csv]\n    outs: [raw.csv]\n"
    )
    (root / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  gone:\n    cmd: echo\n  fetch:\n    outs:\n"
        "    - path: raw.csv\n      hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n"
    )
    (root / "sub/dvc.yaml").write_text("stages:\n  s:\n    cmd: echo\n")
    (root / ".dvcignore").write_text("# comment\n*.tmp\n")
    report = imported(loom, root)
    assert attention(report, "gone") == ["in dvc.lock but no longer in dvc.yaml; left out"]
    [external, unlocked] = attention(report, "fetch")
    assert "https://example.com/raw.csv is outside the workspace" in external
    assert "not locked" in unlocked and "dvc.lock records no cmd" in unlocked
    assert attention(report, "sub/dvc.yaml") == [
        "not converted: loom.yaml lives at the workspace root only"
    ]
    assert attention(report, ".dvcignore")
    assert read_yaml(root / "loom.lock")["stages"] == {}

    # a DVC project inside a Loom workspace, not at its top, is refused
    (root / "inner/.dvc").mkdir(parents=True)
    proc = loom("import-dvc", "inner", cwd=root)
    assert proc.returncode == 1 and "is inside the Loom workspace" in proc.stderr
