"""DVC remotes into Loom remotes; ``.dvc`` files written by DVC 2 (md5-dos2unix)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import yaml

# one worker builds the DVC projects (session fixtures) and runs every test on them
pytestmark = pytest.mark.xdist_group("dvc")

# DVC's own format, as `dvc remote add` / `dvc remote modify` write it
DVC_CONFIG = """\
[core]
    remote = s3r
    analytics = false
['remote "storage"']
    url = ../../dvc-storage
['remote "s3r"']
    url = s3://{bucket}/dvc
    endpointurl = {endpoint}
    profile = team
['remote "web"']
    url = https://example.com/dvc
"""
DVC_CONFIG_LOCAL = """\
['remote "mine"']
    url = /srv/dvc-backup
    password = hunter2
"""


def test_remotes_carry_over_where_loom_can_reach_them(rich: Path, loom, s3_env) -> None:
    config = DVC_CONFIG.format(bucket=s3_env["bucket"], endpoint=s3_env["endpoint_url"])
    (rich / ".dvc/config").write_text(config)
    (rich / ".dvc/config.local").write_text(DVC_CONFIG_LOCAL)
    proc = loom("import-dvc", "--json", cwd=rich)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)

    remotes = {r["name"]: r for r in json.loads(loom("remote", "list", "--json", cwd=rich).stdout)}
    assert set(remotes) == {"storage", "s3r", "mine"}
    assert remotes["storage"]["url"] == "../dvc-storage"  # DVC: relative to .dvc/
    assert remotes["s3r"]["url"] == f"s3://{s3_env['bucket']}/dvc"
    assert remotes["s3r"]["endpoint_url"] == s3_env["endpoint_url"]
    assert remotes["s3r"]["default"] is True  # core.remote
    assert remotes["mine"]["source"] == "local" and remotes["mine"]["url"] == "/srv/dvc-backup"
    committed = (rich / ".loom/config.toml").read_text()
    assert "mine" not in committed and "hunter2" not in committed and "team" not in committed
    assert "hunter2" not in (rich / ".loom/config.local.toml").read_text()

    notes = {(n["name"], n["message"]) for n in report["attention"]}
    assert any(name == "web" and "https://" in msg for name, msg in notes)
    assert ("s3r", "options not carried over: profile") in notes
    assert ("mine", "options not carried over: password") in notes

    # the converted S3 remote works: the data goes to the bucket beside DVC's objects
    push = loom("push", cwd=rich)
    assert push.returncode == 0, push.stderr
    import s3fs

    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_env["endpoint_url"]})
    assert fs.ls(f"{s3_env['bucket']}/dvc")


def _git_repo(root: Path) -> None:
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    (root / ".dvc").mkdir()
    (root / ".dvc/config").write_text("")


def test_dvc2_files_and_cache_are_read(tmp_path: Path, loom) -> None:
    """DVC 2 hashed text with CRLF turned into LF and kept objects in .dvc/cache/ab/…"""
    root = tmp_path / "old"
    _git_repo(root)
    crlf = b"a,b\r\n1,2\r\n"
    unix_md5 = hashlib.md5(crlf.replace(b"\r\n", b"\n")).hexdigest()
    (root / "table.csv").write_bytes(crlf)
    (root / "table.csv.dvc").write_text(
        f"outs:\n- md5: {unix_md5}\n  size: 10\n  path: table.csv\n"
    )
    cached = root / ".dvc/cache" / unix_md5[:2] / unix_md5[2:]
    cached.parent.mkdir(parents=True)
    cached.write_bytes(crlf)
    # a DVC 3 entry with the same md5 but `hash: md5` must not match the CRLF bytes
    (root / "other.csv").write_bytes(crlf)
    (root / "other.csv.dvc").write_text(
        f"outs:\n- md5: {unix_md5}\n  size: 10\n  hash: md5\n  path: other.csv\n"
    )

    proc = loom("import-dvc", "--json", cwd=root)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    ptr = yaml.safe_load((root / "table.csv.loom").read_text())
    assert ptr["size"] == len(crlf)
    assert not (root / "other.csv.loom").exists()
    assert [n["name"] for n in report["attention"] if n["kind"] == "data"] == ["other.csv"]

    # without the workspace copy, DVC 2's cache layout serves
    (root / "table.csv.loom").unlink()
    (root / "table.csv").unlink()
    proc = loom("import-dvc", "--json", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load((root / "table.csv.loom").read_text())["hash"] == ptr["hash"]
    assert loom("checkout", "table.csv", cwd=root).returncode == 0
    assert (root / "table.csv").read_bytes() == crlf
