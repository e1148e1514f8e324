"""What the commands print: strict JSON for programs, human-readable sizes for people."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from loom.cli import output
from loom.cli.main import run

FAST = [
    sys.executable,
    "-c",
    "import sys; from loom.cli.fast import main; sys.argv[0] = 'loom'; main()",
]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def strict_json(text: str):
    """Parse as RFC 8259 JSON: a bare NaN or Infinity is an error, as in most languages."""

    def refuse(name: str):
        raise ValueError(f"invalid JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOOM_CAPTURE_ENV", "0")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LOOM_TRACKING_URI", uri)
    return uri


def test_json_of_runs_is_strict_with_nan_and_infinity(uri, capsys, tmp_path):
    from loom.tracking.client import Client

    odd = {"nan": math.nan, "up": math.inf, "down": -math.inf, "plain": 0.5}
    with Client(uri) as c:
        exp = c.create_experiment("odd").experiment_id
        ids = []
        for _ in range(2):
            r = c.create_run(exp)
            c.log_metrics(r.run_id, odd)
            c.set_terminated(r.run_id)
            ids.append(r.run_id)
    expected = {"nan": "NaN", "up": "Infinity", "down": "-Infinity", "plain": 0.5}
    code, out, _ = cli(capsys, "runs", "show", ids[0], "--json")
    assert code == 0 and strict_json(out)["metrics"] == expected
    code, out, _ = cli(capsys, "runs", "list", "--json")
    assert code == 0 and [r["metrics"] for r in strict_json(out)["runs"]] == [expected] * 2
    code, out, _ = cli(capsys, "runs", "compare", *ids, "--json")
    assert code == 0 and strict_json(out)["runs"] == ids


def test_json_encoder_and_its_help():
    data = {"a": [math.nan, {"b": (math.inf, -math.inf)}], "c": 1.0, "d": Path("x")}
    assert strict_json(output.dumps(data)) == {
        "a": ["NaN", {"b": ["Infinity", "-Infinity"]}],
        "c": 1.0,
        "d": "x",
    }
    assert all(word in output.JSON_HELP for word in ('"NaN"', '"Infinity"', '"-Infinity"'))


@pytest.mark.parametrize(
    ("n", "said"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2 - 1, "1.0 MiB"),  # not "1024.0 KiB"
        (3 * 1024**3 + 1024**3 // 2, "3.5 GiB"),
        (2 * 1024**6, "2048.0 PiB"),
    ],
)
def test_size(n: int, said: str):
    assert output.size(n) == said


def test_data_commands_print_sizes_for_people_and_json_keeps_bytes(git_repo, capsys, tmp_path):
    assert cli(capsys, "init")[0] == 0
    (git_repo / "big.bin").write_bytes(bytes(range(256)) * 6144)  # 1.5 MiB
    added = subprocess.run([*FAST, "add", "big.bin"], capture_output=True, text=True)
    assert added.returncode == 0 and "Added big.bin (1.5 MiB) -> big.bin.loom" in added.stdout
    assert cli(capsys, "remote", "add", "-d", "r", str(tmp_path / "remote"))[0] == 0
    pushed = subprocess.run([*FAST, "push"], capture_output=True, text=True)
    assert pushed.returncode == 0
    assert re.search(r"1 object\(s\) transferred \(1\.5 MiB\)", pushed.stdout), pushed.stdout
    code, out, _ = cli(capsys, "push", "--json")
    assert code == 0 and strict_json(out)["bytes"] == 0
    (git_repo / "big.bin.loom").unlink()
    code, out, _ = cli(capsys, "gc", "--workspace", "--grace", "0", "--json")
    assert code == 0 and strict_json(out)["bytes"] == 1536 * 1024
    assert "bytes" not in subprocess.run([*FAST, "gc", "-w"], capture_output=True, text=True).stdout


def test_artifact_tables_print_sizes_for_people(uri, capsys, tmp_path):
    from loom.tracking.client import Client

    (tmp_path / "weights.bin").write_bytes(b"w" * 2560)
    with Client(uri) as c:
        r = c.create_run(c.create_experiment("sizes").experiment_id)
        c.log_artifact(r.run_id, tmp_path / "weights.bin")
    for args in (["runs", "show", r.run_id], ["runs", "artifacts", r.run_id]):
        code, out, _ = cli(capsys, *args)
        assert code == 0 and "2.5 KiB" in out and "2560" not in out
    code, out, _ = cli(capsys, "runs", "artifacts", r.run_id, "--json")
    assert strict_json(out)[0]["size"] == 2560
