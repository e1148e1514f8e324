"""DVC's hashes recomputed by Loom agree with what real DVC wrote."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from loom.pipelines.dvcimport import dvccache
from loom.pipelines.dvcimport.dvccache import hash_folder

# one worker builds the DVC projects (session fixtures) and runs every test on them
pytestmark = pytest.mark.xdist_group("dvc")


def test_folder_md5_is_dvcs(rich: Path) -> None:
    for rel in ("data/raw", "data/prepared"):
        if rel == "data/raw":
            md5 = yaml.safe_load((rich / "data/raw.dvc").read_text())["outs"][0]["md5"]
        else:
            lock = yaml.safe_load((rich / "dvc.lock").read_text())
            md5 = lock["stages"]["prepare"]["outs"][0]["md5"]
        assert hash_folder(rich / rel).dvc_md5(legacy=False) == md5


def test_a_folder_without_its_listing_in_dvcs_cache_matches_by_md5(rich: Path, loom) -> None:
    md5 = yaml.safe_load((rich / "data/raw.dvc").read_text())["outs"][0]["md5"]
    (rich / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).unlink()
    proc = loom("import-dvc", "--json", cwd=rich)
    assert proc.returncode == 0, proc.stderr
    assert (rich / "data/raw.loom").is_file()
    report = json.loads(proc.stdout)
    assert not [n for n in report["attention"] if n["name"] == "data/raw"]


def test_crlf_split_across_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"ab\r\ncd\r\r\nef\r"
    path = tmp_path / "f"
    path.write_bytes(data)
    monkeypatch.setattr(dvccache, "_CHUNK", 3)  # "ab\r" | "\ncd" | "\r\r\n" | "ef\r"
    md5, unix, _, size = dvccache.file_hashes(path)
    assert md5 == hashlib.md5(data).hexdigest() and size == len(data)
    assert unix == hashlib.md5(data.replace(b"\r\n", b"\n")).hexdigest()
