"""Files against a live berth: text and bytes round trips, batch writes, metadata operations, errors."""
from __future__ import annotations

import os

import pytest

import berth
from berth import WriteEntry

D = "/tmp/sdk-files"


def test_text_and_bytes_round_trip(shared):
    entry = shared.files.write_file(f"{D}/hello.txt", "héllo\nworld\n")
    assert (entry.path, entry.type, entry.size) == (f"{D}/hello.txt", "file", len("héllo\nworld\n".encode()))
    assert shared.files.read_file(f"{D}/hello.txt") == "héllo\nworld\n"
    blob = bytes(range(256)) * 64 + os.urandom(1000)
    shared.files.write_file(f"{D}/bin/blob.dat", blob, mode=0o600)
    assert shared.files.read_bytes(f"{D}/bin/blob.dat") == blob
    assert shared.files.read(f"{D}/bin/blob.dat", format="bytes") == blob
    assert shared.files.read_bytes(f"{D}/bin/blob.dat", range="bytes=0-3") == blob[:4]
    info = shared.files.get_file_info(f"{D}/bin/blob.dat")
    assert (info.size, info.permissions, info.mode) == (len(blob), "600", 0o600)
    shared.files.write_file(f"{D}/latin1.txt", "café", encoding="latin-1")
    assert shared.files.read_file(f"{D}/latin1.txt", encoding="latin-1") == "café"
    assert shared.files.read_bytes(f"{D}/latin1.txt") == "café".encode("latin-1")


def test_missing_file_and_bad_path(shared):
    with pytest.raises(berth.NotFoundError):
        shared.files.read_file(f"{D}/nope.txt")
    with pytest.raises(berth.NotFoundError):
        shared.files.get_file_info(f"{D}/nope.txt")
    assert shared.files.exists(f"{D}/nope.txt") is False
    with pytest.raises(berth.InvalidArgumentError):
        shared.files.read_file("relative/path.txt")


def test_write_files_list_search_info(shared):
    written = shared.files.write_files([
        WriteEntry(path=f"{D}/batch/a.py", data="print(1)\n"),
        {"path": f"{D}/batch/b.py", "data": b"\x00\x01", "mode": "755"},
        {"path": f"{D}/batch/sub/c.txt", "data": "c"},
    ])
    assert [w.path for w in written] == [f"{D}/batch/a.py", f"{D}/batch/b.py", f"{D}/batch/sub/c.txt"]
    assert shared.files.read_bytes(f"{D}/batch/b.py") == b"\x00\x01"
    names = sorted(e.name for e in shared.files.list(f"{D}/batch"))
    assert names == ["a.py", "b.py", "sub"]
    assert len(shared.files.list(f"{D}/batch", depth=2)) == 4
    assert sorted(e.name for e in shared.files.search(f"{D}/batch", "*.py")) == ["a.py", "b.py"]
    many = shared.files.get_file_info([f"{D}/batch/a.py", f"{D}/batch/missing"])
    assert many[f"{D}/batch/a.py"].type == "file" and many[f"{D}/batch/missing"] is None


def test_directories_move_permissions_replace_delete(shared):
    made = shared.files.create_directories([f"{D}/dirs/x/y", {"path": f"{D}/dirs/z", "mode": "700"}])
    assert [m.type for m in made] == ["dir", "dir"] and made[1].permissions == "700"
    assert shared.files.make_dir(f"{D}/dirs/x") is False
    shared.files.write_file(f"{D}/dirs/x/y/f.txt", "one two one")
    moved = shared.files.move_files([(f"{D}/dirs/x/y/f.txt", f"{D}/dirs/z/g.txt")])
    assert moved[0].path == f"{D}/dirs/z/g.txt"
    assert shared.files.exists(f"{D}/dirs/x/y/f.txt") is False
    shared.files.write_file(f"{D}/dirs/z/h.txt", "h")
    with pytest.raises(berth.ConflictError):
        shared.files.move_files([{"source": f"{D}/dirs/z/h.txt", "destination": f"{D}/dirs/z/g.txt"}])
    changed = shared.files.set_permissions([{"path": f"{D}/dirs/z/g.txt", "mode": 0o640}])
    assert changed[0].permissions == "640"
    assert shared.files.replace_contents([{"path": f"{D}/dirs/z/g.txt", "old": "one", "new": "1"}]) == [2]
    assert shared.files.read_file(f"{D}/dirs/z/g.txt") == "1 two 1"
    with pytest.raises(berth.ConflictError):
        shared.files.delete_files([f"{D}/dirs/z"])  # not empty
    shared.files.delete_files([f"{D}/dirs/z/h.txt"])
    assert shared.files.exists(f"{D}/dirs/z/h.txt") is False
    shared.files.delete_directories([f"{D}/dirs"])
    assert shared.files.exists(f"{D}/dirs") is False
    with pytest.raises(berth.NotFoundError):
        shared.files.delete_files([f"{D}/dirs/never"])
