"""The README's quick-starts, followed literally in a fresh directory, lose nothing.

The fenced blocks are read from README.md, so this test breaks when the README
drifts. Each command line runs through bash, the Python block through this
venv's python, with only these substitutions:

- the data to version is created first (``data/raw/a.csv`` and a few more files;
  the tracking example's ``data/train``, ``training_config.yaml`` and ``reports/``);
- ``RUN_ID``, ``RUN_A`` and ``RUN_B`` are replaced by the id of the example's run;
- the environment isolates the test: HOME and XDG_DATA_HOME in the temporary folder
  (runs outside a workspace go to the user data directory), a git identity, wide tables.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent


def fenced_blocks(section: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced block under the ``## section`` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else None]
    return re.findall(r"^```(\w*)\n(.*?)^```", body, flags=re.M | re.S)


def command_lines(block: str) -> list[str]:
    """Shell lines of a block, continuation lines joined."""
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


@pytest.fixture
def sandbox(tmp_path: Path):
    work = tmp_path / "project"
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "GIT_AUTHOR_NAME": "Readme Test",
        "GIT_AUTHOR_EMAIL": "readme@example.com",
        "GIT_COMMITTER_NAME": "Readme Test",
        "GIT_COMMITTER_EMAIL": "readme@example.com",
        "COLUMNS": "200",
    }
    for var in [v for v in env if v.startswith("LOOM_")]:
        del env[var]

    def sh(line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True, timeout=120
        )

    sh.env = env  # type: ignore[attr-defined]
    return work, sh


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_data_quick_start_loses_no_version(sandbox):
    work, sh = sandbox
    (work / "data/raw/images").mkdir(parents=True)
    (work / "data/raw/a.csv").write_text("id,label\n1,cat\n")
    (work / "data/raw/b.csv").write_text("id,label\n7,fox\n")
    (work / "data/raw/images/x.bin").write_bytes(bytes(range(256)) * 64)
    [(_, block)] = fenced_blocks("Data versioning quick-start")
    versions: dict[str, dict[str, bytes]] = {}  # commit -> data/raw as committed
    outputs: list[tuple[str, subprocess.CompletedProcess[str]]] = []
    head = None
    for line in command_lines(block):
        r = sh(line)
        assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
        assert "Traceback" not in r.stderr, f"{line}\n{r.stderr}"
        outputs.append((line.split("#")[0].strip(), r))
        now = sh("git rev-parse -q --verify HEAD").stdout.strip()
        if now and now != head and sh(f"git cat-file -e {now}:data/raw.loom").returncode == 0:
            versions.setdefault(now, _files(work / "data/raw"))
        head = now

    assert len(versions) == 2  # v1 and v2
    v1, v2 = versions.values()
    assert v1 != v2
    # status was quiet while every version was pushed, and warned when v2 was in the cache only
    first, second = (r for line, r in outputs if line == "loom status")
    assert "not on remote" not in first.stderr and "modified" in first.stdout
    assert "1 version(s) in the cache are not on remote 'storage'" in second.stderr
    assert "--all-commits" in second.stderr
    # the Python line read v1 at HEAD~1
    [read] = (r for line, r in outputs if line.startswith("python -c"))
    assert read.stdout == v1["a.csv"].decode() + "\n"

    # nothing was lost: every committed version comes back from the remote alone
    assert sh("loom fsck").returncode == 0
    for commit, files in versions.items():
        shutil.rmtree(work / ".loom/cache")
        shutil.rmtree(work / "data/raw", ignore_errors=True)
        assert sh(f"git checkout -q {commit}").returncode == 0
        r = sh("loom pull")
        assert r.returncode == 0, r.stderr
        assert _files(work / "data/raw") == files, commit
    r = sh("loom fsck --json")
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True


def test_tracking_quick_start_finds_its_run(sandbox):
    work, sh = sandbox
    (work / "data/train").mkdir(parents=True)
    (work / "data/train/part-0.csv").write_text("q,doc\nhello,world\n")
    (work / "training_config.yaml").write_text("learning_rate: 0.001\n")
    (work / "reports").mkdir()
    (work / "reports/eval.md").write_text("# recall@10: 0.87\n")
    [(lang, script), (_, commands)] = fenced_blocks("Experiment tracking quick-start")
    assert lang == "python"
    (work / "train.py").write_text(script)
    r = sh("python train.py")
    assert r.returncode == 0, r.stderr
    listed = sh("loom runs list --json")
    [run] = json.loads(listed.stdout)["runs"]
    run_id = run["run_id"]

    outputs = {}
    for line in command_lines(commands):
        line = re.sub(r"\bRUN_(ID|A|B)\b", run_id, line)
        r = sh(line)
        assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
        assert "Traceback" not in r.stderr
        outputs[line.split()[2] if line.startswith("loom runs") else line] = r
    found = outputs["list"].stdout  # the README's filter and order
    assert run_id[:8] in found and "exp-001" in found
    assert "data/train" in outputs["show"].stdout
    out = work / "out"
    assert (out / "training_config.yaml").read_bytes() == (
        work / "training_config.yaml"
    ).read_bytes()
    assert (out / "reports/eval.md").read_bytes() == (work / "reports/eval.md").read_bytes()


def test_registry_quick_start_answers_the_seeds_question(sandbox):
    """The registry example, then its commands: the last one says which version was in
    production, its recall@10, its run and its data. The serving block runs the server in
    the background (the only difference from typing it) and sends the README's request."""
    work, sh = sandbox
    assert sh("git init -q && loom init").returncode == 0
    (work / "data/train").mkdir(parents=True)
    (work / "data/train/part-0.csv").write_text("q,doc\nhello,world\n")
    [(lang, script), (_, commands), (_, serving)] = fenced_blocks("Model registry quick-start")
    assert lang == "python"
    (work / "registry.py").write_text(script)
    r = sh("python registry.py")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"\[[01] [01] [01]\]\n", r.stdout), r.stdout

    outputs = {}
    for line in command_lines(commands):
        r = sh(line)
        assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
        assert "Traceback" not in r.stderr
        outputs[" ".join(line.split()[:3])] = r.stdout
    assert "rag-embedder" in outputs["loom models list"]
    assert "production" in outputs["loom models history"]
    assert "data/train" in outputs["loom lineage models:/rag-embedder@production"]
    answer = outputs["loom models at"]
    assert "rag-embedder" in answer and "0.92" in answer and "data/train" in answer

    serve, curl = command_lines(serving)
    server = subprocess.Popen(["bash", "-c", f"exec {serve}"], cwd=work, env=sh.env)
    try:
        from tests.conftest import wait_for

        wait_for(lambda: sh("curl -sf localhost:5001/health").returncode == 0, timeout=60)
        r = sh(curl)
        assert r.returncode == 0 and re.fullmatch(r'\{"predictions":\[[01]\]\}', r.stdout)
    finally:
        server.terminate()
        server.wait(timeout=30)


PIPELINE_SCRIPTS = {
    "src/prepare.py": (
        "import pathlib, yaml\n"
        "split = yaml.safe_load(open('params.yaml'))['prepare']['split']\n"
        "rows = sorted(p.read_text() for p in pathlib.Path('data/raw').glob('*.csv'))\n"
        "out = pathlib.Path('data/processed'); out.mkdir(parents=True, exist_ok=True)\n"
        "cut = int(len(rows) * split)\n"
        "(out / 'train.csv').write_text(''.join(rows[cut:]))\n"
        "(out / 'val.csv').write_text(''.join(rows[:cut]))\n"
        "(out / 'test.csv').write_text(''.join(rows[:cut]))\n"
    ),
    "src/train.py": (
        "import json, pathlib, yaml\n"
        "p = yaml.safe_load(open('params.yaml'))['train']\n"
        "pathlib.Path('models').mkdir(exist_ok=True); pathlib.Path('plots').mkdir(exist_ok=True)\n"
        "losses = [1 / (1 + p['lr'] * 100 * e) for e in range(1, p['epochs'] + 1)]\n"
        "pathlib.Path('models/model').write_text(f\"weights after {p['epochs']} epochs\\n\")\n"
        "json.dump({'loss': losses[-1]}, open('metrics.json', 'w'))\n"
        "open('plots/loss.csv', 'w').write('step,loss\\n' + ''.join("
        "f'{i},{v}\\n' for i, v in enumerate(losses)))\n"
    ),
    "src/evaluate.py": (
        "import json, pathlib, sys\n"
        "n = len(pathlib.Path(f'data/processed/{sys.argv[1]}.csv').read_text().split())\n"
        "model = pathlib.Path('models/model').read_text()\n"
        "pathlib.Path('eval').mkdir(exist_ok=True)\n"
        "json.dump({'rows': n, 'acc': 0.5 + len(model) / 100}, "
        "open(f'eval/{sys.argv[1]}.json', 'w'))\n"
    ),
}


def test_pipelines_quick_start_runs_what_changed(sandbox):
    """The README's loom.yaml with small scripts of our own (the README says what they do)."""
    work, sh = sandbox
    assert sh("git init -q && loom init").returncode == 0
    for i in range(6):
        (work / f"data/raw/part-{i}.csv").parent.mkdir(parents=True, exist_ok=True)
        (work / f"data/raw/part-{i}.csv").write_text(f"{i},row {i}\n")
    for rel, text in PIPELINE_SCRIPTS.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    (work / "params.yaml").write_text("prepare:\n  split: 0.5\ntrain:\n  epochs: 3\n  lr: 0.01\n")
    [(lang, pipeline), (_, commands)] = fenced_blocks("Pipelines quick-start")
    assert lang == "yaml"
    (work / "loom.yaml").write_text(pipeline)
    assert sh("loom add data/raw && git add -A && git commit -qm start").returncode == 0

    outputs: list[tuple[str, subprocess.CompletedProcess[str]]] = []
    for line in command_lines(commands):
        r = sh(line)
        assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
        assert "Traceback" not in r.stderr
        outputs.append((line.split("#")[0].strip(), r))
    first, noop, parallel = (r for line, r in outputs if line.split()[:2] == ["loom", "repro"])
    for stage in ("prepare", "train", "evaluate@val", "evaluate@test"):
        assert stage in first.stdout + first.stderr
    assert "up to date" in noop.stdout + noop.stderr
    [status] = (r for line, r in outputs if line == "loom status")
    assert "train" in status.stdout and "epochs" in status.stdout
    said = parallel.stdout + parallel.stderr
    assert "Running stage prepare" not in said and "Running stage train" in said
    [params] = (r for line, r in outputs if line == "loom params diff")
    assert "train.epochs" in params.stdout and "3" in params.stdout and "4" in params.stdout
    [metrics] = (r for line, r in outputs if line == "loom metrics diff")
    assert "loss" in metrics.stdout
    assert "<svg" in (work / "plots.html").read_text()
    assert json.loads((work / "metrics.json").read_text())["loss"] == 1 / (1 + 0.01 * 100 * 4)
    final = sh("loom status").stdout
    assert "will run" not in final and "up to date" in final

    exps = {line: r for line, r in outputs if line.startswith(("loom exp", "loom reproduce"))}
    assert "Running stage train" in exps["loom exp run -S train.lr=0.02 -n lr-002"].stdout
    back = exps["loom exp run -S train.lr=0.01"].stdout
    assert "Running stage" not in back and "restored from the run cache" in back
    run_all = exps["loom exp run --run-all -j 2"].stdout
    assert "[six] " in run_all and "[eight] " in run_all
    shown = exps["loom exp show"].stdout
    for name in ("lr-002", "six", "eight"):
        assert name in shown
    assert "the same metrics" in exps["loom reproduce lr-002 --check"].stdout
    assert sh("git worktree list").stdout.count("\n") == 1


def test_server_quick_start_serves_the_mlflow_client(sandbox):
    """`loom server` as the README starts it (on a free port instead of 5000), the README's
    unmodified MLflow script against it, then Loom's CLI over HTTP finds the run."""
    from tests.conftest import free_port, wait_for

    work, sh = sandbox
    [(_, start), (lang, script), (_, commands), *_] = fenced_blocks("Team server quick-start")
    assert lang == "python"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    [line] = command_lines(start)
    server = subprocess.Popen(
        ["bash", "-c", f"exec {line.split('#')[0].strip()} --port {port}"],
        cwd=work,
        env=sh.env,  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        import httpx

        def healthy() -> bool:
            assert server.poll() is None, server.communicate()
            try:
                return httpx.get(url + "/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=30, what="loom server")
        (work / "log.py").write_text(script.replace("http://127.0.0.1:5000", url))
        r = sh("python log.py")
        assert r.returncode == 0, r.stderr
        lines = command_lines(commands.replace("http://127.0.0.1:5000", url))
        r = sh(" && ".join(lines))
        assert r.returncode == 0, r.stderr
        assert "exp-001" in r.stdout
        assert (work / "loom.db").is_file() and (work / "mlartifacts").is_dir()
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0
