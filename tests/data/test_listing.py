"""find's listings (loom.data.listing): a folder's fingerprint moves with every change the
Python walk would see, and a scan through them gives the walk's answer, hit or miss."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from loom.data import listing
from loom.data.listing import Listings
from loom.data.scan import scan
from loom.data.state import RACY_NS, StateIndex
from loom.errors import UsageError
from tests.conftest import IN_CI

# Outside CI a machine without GNU find skips these (the Python walk alone is used there);
# under CI=true they run, and fail if find is missing.
pytestmark = pytest.mark.skipif(
    listing._find() is None and not IN_CI,
    reason="GNU find is not on PATH: the Python walk alone is used",
)


def _tree(root: Path) -> Path:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "sub" / "b.bin").write_bytes(b"\0" * 100)
    (root / "sub" / "deeper" / "name with\nnewline").write_text("c")
    (root / "sub2").mkdir()  # two sub-folders: listed by two find processes, a half each
    (root / "sub2" / "c.txt").write_text("c")
    (root / "elsewhere.txt").write_text("target")
    (root / "link").symlink_to("elsewhere.txt")
    _settle(root)
    return root


def _settle(root: Path) -> None:
    """Date every file back past the racy window, as a folder written a while ago is."""
    old = time.time_ns() - 10 * RACY_NS
    for folder, _dirs, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(folder, name), ns=(old, old), follow_symlinks=False)


def _fp(top: Path) -> str | None:
    with Listings() as listings:
        return listings.fingerprint(top)


def test_the_fingerprint_moves_with_every_change_the_walk_sees(tmp_path: Path) -> None:
    top = _tree(tmp_path / "d")
    seen = {_fp(top)}
    assert _fp(top) in seen  # nothing changed: the same listing

    def changed(what) -> None:
        what()
        fp = _fp(top)
        assert fp is not None and fp not in seen, what.__name__
        seen.add(fp)

    def edit() -> None:
        (top / "a.txt").write_text("a, edited")

    def add() -> None:
        (top / "sub" / "new.txt").write_text("new")

    def rename() -> None:
        (top / "sub" / "new.txt").rename(top / "sub" / "renamed.txt")

    def chmod() -> None:
        (top / "sub" / "b.bin").chmod(0o755)

    def edit_through_link() -> None:  # the link's own stat is unchanged
        os.utime(top / "elsewhere.txt", ns=(1, 1))

    def retarget() -> None:
        (top / "link").unlink()
        (top / "link").symlink_to("a.txt")

    def edit_in_the_second_half() -> None:
        (top / "sub2" / "c.txt").write_text("c, edited")

    def one_folder_only() -> None:  # the same files, listed by one find now
        (top / "sub2" / "c.txt").rename(top / "sub" / "c.txt")
        (top / "sub2").rmdir()

    for what in (
        edit,
        add,
        rename,
        chmod,
        edit_through_link,
        retarget,
        edit_in_the_second_half,
        one_folder_only,
    ):
        changed(what)


def test_a_link_to_a_folder_is_named_not_entered(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_text("x")
    top = tmp_path / "d"
    top.mkdir()
    (top / "f").write_text("f")
    (top / "to-folder").symlink_to(outside)
    before = _fp(top)
    (outside / "y").write_text("y")  # inside the linked folder: find never went there
    assert _fp(top) == before
    with pytest.raises(UsageError, match="symlink to a folder"), Listings() as listings:
        scan(top, StateIndex(tmp_path / "state.db"), listings=listings)


def test_a_scan_through_listings_gives_the_walks_answer_hit_or_miss(tmp_path: Path) -> None:
    top = _tree(tmp_path / "d")
    plain = scan(top, StateIndex(tmp_path / "plain.db"))
    state = StateIndex(tmp_path / "state.db")
    with Listings() as listings:
        miss = scan(top, state, listings=listings)
        listings.settle()  # the second listing confirms the first: recorded
    with Listings() as listings:
        hit = scan(top, state, listings=listings)
    assert plain is not None and miss is not None and hit is not None
    assert miss.stats is not None and hit.stats is None  # the hit did not walk
    for snap in (miss, hit):
        assert (snap.oid, snap.size, snap.files) == (plain.oid, plain.size, plain.files)
    assert hit.tree is not None and hit.tree.oid == plain.oid  # built on demand, the same

    (top / "sub" / "b.bin").write_bytes(b"\1" * 100)  # same size, new content
    with Listings() as listings:
        after = scan(top, state, listings=listings)
    assert after is not None and after.oid != plain.oid
    assert after.oid == scan(top, StateIndex(tmp_path / "fresh.db")).oid


def test_a_listing_started_ahead_is_taken_once(tmp_path: Path) -> None:
    top = _tree(tmp_path / "d")
    hints = tmp_path / "tmp"
    with Listings(hints) as listings:
        listings.fingerprint(top)
    assert (hints / listing.HINTS).read_bytes() == f"{top}\0".encode()
    with Listings(hints) as listings:
        assert str(top) in listings._running  # started at once, from the hints
        first = listings.fingerprint(top)
        (top / "late.txt").write_text("written after the first listing")
        assert listings.fingerprint(top) != first  # the second one lists again


def test_a_folder_changed_while_it_was_walked_is_not_recorded(tmp_path: Path) -> None:
    top = _tree(tmp_path / "d")
    state = StateIndex(tmp_path / "state.db")
    with Listings() as listings:
        scan(top, state, listings=listings)
        (top / "a.txt").write_text("changed after the walk, before the check")
        listings.settle()
    with Listings() as listings:
        again = scan(top, state, listings=listings)
    assert again is not None and again.stats is not None  # a miss: walked again


def test_without_gnu_find_the_walk_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    top = _tree(tmp_path / "d")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    listing._find.cache_clear()
    try:
        assert _fp(top) is None
        with Listings() as listings:
            snap = scan(top, StateIndex(tmp_path / "state.db"), listings=listings)
        assert snap is not None and snap.stats is not None
    finally:
        monkeypatch.undo()
        listing._find.cache_clear()


def test_listings_started_early_are_handed_over_once_or_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    top = _tree(root / "data")
    (root / ".loom").mkdir()
    (root / ".loom" / "config.toml").write_text("")
    tmp = root / ".loom" / "tmp"
    with Listings(tmp) as listings:
        listings.fingerprint(top)  # hints: data/
    monkeypatch.chdir(top / "sub")  # anywhere inside the workspace

    Listings.start_early()
    early = Listings.early(tmp)
    assert str(top) in early._running
    again = Listings.early(tmp)
    assert again is not early  # taken once: a later command lists anew
    early.close()  # listed nothing: the hints stay
    again.close()

    Listings.start_early()
    other = Listings.early(tmp_path / "elsewhere" / "tmp")  # another workspace's: not it
    assert other._running == {}
    Listings.start_early()
    Listings.drop_early()  # nobody took it: stopped, and not handed to the next one
    with Listings.early(tmp) as last:
        assert last._running.keys() == {str(top)}


def test_add_records_a_folders_listing_for_the_next_scan(ws) -> None:
    from loom.data.add import add

    top = _tree(ws.root / "data")
    (top / "link").unlink()  # add refuses nothing here, but keep the folder plain
    _settle(top)
    [pointer] = add(ws, ["data"])
    state = StateIndex(ws.loom_dir / "state.db")
    try:
        with Listings() as listings:
            snap = scan(ws.path_of("data"), state, listings=listings)
    finally:
        state.close()
    assert snap is not None and snap.stats is None  # known by its listing: not walked
    assert (snap.oid, snap.files) == (pointer.hash, pointer.files)
