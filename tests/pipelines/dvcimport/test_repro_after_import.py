"""After ``loom import-dvc``, ``loom repro`` runs nothing DVC considered done, and a param
change reruns what ``dvc repro`` reruns, with the same metrics (DVC runs the same change
on a twin copy of the project)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

# one worker builds the DVC projects (session fixtures) and runs every test on them
pytestmark = pytest.mark.xdist_group("dvc")


def _json(proc) -> dict | list:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def _actions(loom, root: Path) -> dict[str, str]:
    result = _json(loom("repro", "--json", cwd=root))
    return {s["stage"]: s["action"] for s in result["stages"]}


def _clean_status(loom, root: Path) -> None:
    rows = _json(loom("status", "--json", cwd=root))
    data = [r for r in rows if "stage" not in r]
    stages = [r for r in rows if "stage" in r]
    assert data and all(r["state"] == "clean" and r["in_cache"] for r in data), data
    assert stages and all(r["action"] == "skip" for r in stages), stages


def _set_param(root: Path, section: str, key: str, value) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    params[section][key] = value
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def _twin(root: Path) -> Path:
    """The same DVC project, unconverted, for DVC to run the same change on."""
    return Path(shutil.copytree(root, root.parent / "dvc-twin", symlinks=True))


def test_rich_project_reruns_only_what_dvc_reruns(rich: Path, loom, dvc) -> None:
    twin = _twin(rich)
    dvc_metrics = (rich / "train/metrics_big.json").read_bytes()
    assert _json(loom("import-dvc", "--json", cwd=rich))["written"]

    actions = _actions(loom, rich)
    assert set(actions) == {
        "prepare", "train@small", "train@big", "grid@1-a", "grid@1-b", "grid@2-a", "grid@2-b",
    }  # fmt: skip
    assert set(actions.values()) == {"skipped"}, actions
    _clean_status(loom, rich)

    for root in (rich, twin):
        _set_param(root, "train", "lr", 0.25)
    dvc("repro", "-q", cwd=twin)
    actions = _actions(loom, rich)
    ran = {name for name, action in actions.items() if action != "skipped"}
    assert ran == {"train@small", "train@big"}, actions
    for model in ("small", "big"):
        for name in (f"metrics_{model}.json", f"model_{model}.json", f"loss_{model}.csv"):
            assert (rich / "train" / name).read_bytes() == (twin / "train" / name).read_bytes()
    assert json.loads((rich / "train/metrics_big.json").read_text())["acc"] != 0
    assert set(_actions(loom, rich).values()) == {"skipped"}
    _clean_status(loom, rich)

    # back to the value DVC ran with: the import's run cache entries restore DVC's outs
    _set_param(rich, "train", "lr", 0.1)
    actions = _actions(loom, rich)
    assert {actions["train@small"], actions["train@big"]} == {"restored"}, actions
    assert (rich / "train/metrics_big.json").read_bytes() == dvc_metrics


def test_dvc_tutorial_pipeline_reruns_from_the_changed_stage(get_started: Path, loom, dvc):
    twin = _twin(get_started)
    _json(loom("import-dvc", "--json", cwd=get_started))
    assert _actions(loom, get_started) == dict.fromkeys(
        ["prepare", "featurize", "train", "evaluate"], "skipped"
    )
    _clean_status(loom, get_started)

    for root in (get_started, twin):
        _set_param(root, "featurize", "max_features", 7)
    dvc("repro", "-q", cwd=twin)
    actions = _actions(loom, get_started)
    assert actions["prepare"] == "skipped"
    assert {actions[s] for s in ("featurize", "train", "evaluate")} == {"ran"}, actions
    metrics = (get_started / "eval/metrics.json").read_text()
    assert metrics == (twin / "eval/metrics.json").read_text()
    assert json.loads(metrics)["avg_prec"]["test"] > 0


def test_a_stage_dvc_considered_changed_runs_after_the_import(get_started: Path, loom, dvc):
    """A param changed after `dvc repro`, before the import: DVC would rerun train (and
    evaluate, whose dep model.pkl then changes); so does Loom, to the same metrics."""
    twin = _twin(get_started)
    for root in (get_started, twin):
        _set_param(root, "train", "n_est", 20)
    report = _json(loom("import-dvc", "--json", cwd=get_started))
    assert "train" in yaml.safe_load((get_started / "loom.lock").read_text())["stages"]
    assert report["written"]

    dry = _json(loom("repro", "--dry-run", "--json", cwd=get_started))
    reasons = {s["stage"]: (s["action"], s["reason"]) for s in dry["stages"]}
    assert reasons["train"] == ("would run", "param train.n_est changed (50 -> 20)")
    assert reasons["prepare"][0] == reasons["featurize"][0] == "skipped"

    dvc("repro", "-q", cwd=twin)
    actions = _actions(loom, get_started)
    assert actions == {
        "prepare": "skipped", "featurize": "skipped", "train": "ran", "evaluate": "ran",
    }  # fmt: skip
    metrics = (get_started / "eval/metrics.json").read_text()
    assert metrics == (twin / "eval/metrics.json").read_text()
