from __future__ import annotations

import pytest
import yaml

from loom.data.pointer import Pointer, parse
from loom.errors import PointerError

OID = "ab" * 32


@pytest.mark.parametrize(
    "ptr",
    [
        Pointer("data/raw", OID, 10, "dir", 3),
        Pointer("model.bin", OID, 0, "file"),
        Pointer("d/with space: colon é", OID, 1, "file"),
        Pointer("d/#hash 'quote\"", OID, 1, "dir", 0),
        Pointer("d/123", OID, 5, "file"),
    ],
)
def test_round_trip_and_same_answer_as_yaml(ptr):
    text = ptr.to_yaml()
    assert parse(text, ptr.pointer_rel) == ptr
    doc = yaml.safe_load(text)
    assert doc["path"] == ptr.rel.rsplit("/", 1)[-1] and doc["hash"] == OID


def test_hand_edited_yaml_is_accepted():
    text = f"# edited by hand\npath: 'raw'\nhash: {OID}\nsize: 12\nfiles: 2\nkind: dir\n"
    assert parse(text, "data/raw.loom") == Pointer("data/raw", OID, 12, "dir", 2)


def test_missing_field_is_an_error():
    with pytest.raises(PointerError, match="'size'"):
        parse(f"path: raw\nhash: {OID}\nkind: file\n", "raw.loom")
