"""``sandbox.files``: the sandbox's file system (absolute paths). Names follow OpenSandbox
(read_file, write_files, get_file_info, move_files, ...) with E2B's short forms (read, write,
list, exists, remove, rename, make_dir). With ``AsyncSandbox`` every method returns an awaitable.
"""
from __future__ import annotations

import base64
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .errors import NotFoundError
from .lifecycle import sandbox_path
from .models import EntryInfo, WriteEntry
from .transport import Call, Op

Data = Union[str, bytes]
OCTET = {"content-type": "application/octet-stream"}


def _mode(mode: Union[int, str, None]) -> Optional[str]:
    if mode is None:
        return None
    return format(mode, "o") if isinstance(mode, int) else str(mode)


def _attrs(mode: Union[int, str, None] = None, owner: Optional[str] = None, group: Optional[str] = None) -> Dict[str, str]:
    out = {"mode": _mode(mode), "owner": owner, "group": group}
    return {k: v for k, v in out.items() if v is not None}


def _as_entry(value: Union[WriteEntry, Mapping[str, Any]]) -> WriteEntry:
    if isinstance(value, WriteEntry):
        return value
    v = dict(value)
    return WriteEntry(path=v["path"], data=v.get("data", v.get("content", "")), mode=v.get("mode"), owner=v.get("owner"), group=v.get("group"))


def read(sid: str, path: str, range_: Optional[str]) -> Op:
    headers = {"range": range_} if range_ else {}
    reply = yield Call("GET", sandbox_path(sid, "/files"), params=[("path", path)], headers=headers)
    return reply.content


def read_text(sid: str, path: str, encoding: str, range_: Optional[str]) -> Op:
    data = yield from read(sid, path, range_)
    return data.decode(encoding)


def write(sid: str, path: str, data: Data, encoding: str, attrs: Dict[str, str]) -> Op:
    content = data.encode(encoding) if isinstance(data, str) else bytes(data)
    params = [("path", path)] + list(attrs.items())
    reply = yield Call("PUT", sandbox_path(sid, "/files"), params=params, content=content, headers=dict(OCTET))
    return EntryInfo.from_api(reply.json())


def write_batch(sid: str, entries: Iterable[Union[WriteEntry, Mapping[str, Any]]]) -> Op:
    files = []
    for e in map(_as_entry, entries):
        raw = e.data.encode("utf-8") if isinstance(e.data, str) else bytes(e.data)
        files.append({"path": e.path, "content": base64.b64encode(raw).decode("ascii"), "encoding": "base64", **_attrs(e.mode, e.owner, e.group)})
    reply = yield Call("POST", sandbox_path(sid, "/files/batch"), json={"files": files})
    return [EntryInfo.from_api(f) for f in reply.json().get("files", [])]


def stat(sid: str, path: str) -> Op:
    reply = yield Call("GET", sandbox_path(sid, "/files/stat"), params=[("path", path)])
    return EntryInfo.from_api(reply.json())


def stat_many(sid: str, paths: Sequence[str]) -> Op:
    reply = yield Call("POST", sandbox_path(sid, "/files/stat"), json={"paths": list(paths)})
    entries = reply.json().get("entries", {})
    return {p: (EntryInfo.from_api(e) if e else None) for p, e in entries.items()}


def exists(sid: str, path: str) -> Op:
    try:
        yield from stat(sid, path)
    except NotFoundError:
        return False
    return True


def list_dir(sid: str, path: str, depth: int, tail: str = "/files/list", extra: Optional[List[Tuple[str, str]]] = None) -> Op:
    params = [("path", path)] + ([("depth", str(depth))] if depth else []) + (extra or [])
    reply = yield Call("GET", sandbox_path(sid, tail), params=params)
    return [EntryInfo.from_api(e) for e in reply.json().get("entries", [])]


def mkdirs(sid: str, entries: Iterable[Union[str, Mapping[str, Any]]]) -> Op:
    out = []
    for e in entries:
        body = {"path": e} if isinstance(e, str) else {"path": e["path"], **_attrs(e.get("mode"), e.get("owner"), e.get("group"))}
        reply = yield Call("POST", sandbox_path(sid, "/files/mkdir"), json=body)
        out.append(EntryInfo.from_api(reply.json()))
    return out


def make_dir(sid: str, path: str) -> Op:
    """E2B: True when created, False when the folder already existed."""
    existed = yield from exists(sid, path)
    if existed:
        return False
    yield from mkdirs(sid, [path])
    return True


def delete(sid: str, paths: Iterable[str], recursive: bool) -> Op:
    for p in paths:
        yield Call("DELETE", sandbox_path(sid, "/files"), params=[("path", p), ("recursive", "true" if recursive else "false")])
    return None


def _pair(entry: Union[Tuple[str, str], Mapping[str, str], Any]) -> Tuple[str, str]:
    if isinstance(entry, Mapping):
        return entry["source"] if "source" in entry else entry["src"], entry["destination"] if "destination" in entry else entry["dest"]
    if isinstance(entry, tuple):
        return entry[0], entry[1]
    return entry.source, entry.destination


def move(sid: str, entries: Iterable[Any], overwrite: bool) -> Op:
    out = []
    for entry in entries:
        src, dst = _pair(entry)
        reply = yield Call("POST", sandbox_path(sid, "/files/move"), json={"source": src, "destination": dst, "overwrite": overwrite})
        out.append(EntryInfo.from_api(reply.json()))
    return out


def chmod(sid: str, entries: Iterable[Mapping[str, Any]]) -> Op:
    out = []
    for e in entries:
        body = {"path": e["path"], "recursive": bool(e.get("recursive", False)), **_attrs(e.get("mode"), e.get("owner"), e.get("group"))}
        reply = yield Call("POST", sandbox_path(sid, "/files/chmod"), json=body)
        out.append(EntryInfo.from_api(reply.json()))
    return out


def replace(sid: str, entries: Iterable[Mapping[str, Any]]) -> Op:
    counts = []
    for e in entries:
        body = {"path": e["path"], "old": e["old"], "new": e["new"], "all": bool(e.get("all", True))}
        reply = yield Call("POST", sandbox_path(sid, "/files/replace"), json=body)
        counts.append(int(reply.json().get("replacements", 0)))
    return counts


class Filesystem:
    """``sandbox.files``."""

    def __init__(self, run: Callable[[Op], Any], sandbox_id: str) -> None:
        self._run = run
        self._sid = sandbox_id

    # reading
    def read_file(self, path: str, encoding: str = "utf-8", range: Optional[str] = None) -> Any:  # noqa: A002
        """File content as text; ``range`` is an HTTP range such as ``"bytes=0-1023"``."""
        return self._run(read_text(self._sid, path, encoding, range))

    def read_bytes(self, path: str, range: Optional[str] = None) -> Any:  # noqa: A002
        return self._run(read(self._sid, path, range))

    def read(self, path: str, format: str = "text") -> Any:  # noqa: A002
        """E2B form: ``format="text"`` (str) or ``"bytes"``."""
        return self.read_bytes(path) if format == "bytes" else self.read_file(path)

    # writing
    def write_file(self, path: str, data: Data, encoding: str = "utf-8", mode: Union[int, str, None] = None, owner: Optional[str] = None, group: Optional[str] = None) -> Any:
        """Writes (creates or replaces) one file of any size; parents are created. Returns its EntryInfo."""
        return self._run(write(self._sid, path, data, encoding, _attrs(mode, owner, group)))

    def write(self, path: str, data: Data) -> Any:
        return self.write_file(path, data)

    def write_files(self, entries: Iterable[Union[WriteEntry, Mapping[str, Any]]]) -> Any:
        """Many small files in one request (JSON body ≤ 1 MB); WriteEntry or ``{path, data, mode}``."""
        return self._run(write_batch(self._sid, entries))

    # metadata
    def get_file_info(self, paths: Union[str, Sequence[str]]) -> Any:
        """One path → EntryInfo (NotFoundError when missing); a list → ``{path: EntryInfo | None}``."""
        return self._run(stat(self._sid, paths) if isinstance(paths, str) else stat_many(self._sid, paths))

    def get_info(self, path: str) -> Any:
        return self._run(stat(self._sid, path))

    def exists(self, path: str) -> Any:
        return self._run(exists(self._sid, path))

    def list(self, path: str, depth: int = 1) -> Any:
        return self._run(list_dir(self._sid, path, depth))

    def search(self, path: str, pattern: str, depth: Optional[int] = None) -> Any:
        """Entries under ``path`` whose name matches the glob ``pattern`` (``*.py``)."""
        return self._run(list_dir(self._sid, path, depth or 0, "/files/search", [("pattern", pattern)]))

    # changing
    def create_directories(self, entries: Iterable[Union[str, Mapping[str, Any]]]) -> Any:
        """``mkdir -p`` each path (str, or ``{path, mode, owner, group}``); returns their EntryInfo."""
        return self._run(mkdirs(self._sid, entries))

    def make_dir(self, path: str) -> Any:
        return self._run(make_dir(self._sid, path))

    def delete_files(self, paths: Iterable[str]) -> Any:
        """Deletes files (and empty folders)."""
        return self._run(delete(self._sid, paths, False))

    def delete_directories(self, paths: Iterable[str]) -> Any:
        """Deletes folders with everything in them."""
        return self._run(delete(self._sid, paths, True))

    def remove(self, path: str) -> Any:
        """E2B form: deletes a file or a folder (recursively)."""
        return self._run(delete(self._sid, [path], True))

    def move_files(self, entries: Iterable[Any], overwrite: bool = False) -> Any:
        """Each entry is ``(source, destination)``, ``{source, destination}`` or an object with those attributes."""
        return self._run(move(self._sid, entries, overwrite))

    def rename(self, old_path: str, new_path: str) -> Any:
        return self._run(_first(move(self._sid, [(old_path, new_path)], False)))

    def set_permissions(self, entries: Iterable[Mapping[str, Any]]) -> Any:
        """Each entry ``{path, mode, owner, group, recursive}``; returns the new EntryInfo list."""
        return self._run(chmod(self._sid, entries))

    def replace_contents(self, entries: Iterable[Mapping[str, Any]]) -> Any:
        """Each entry ``{path, old, new, all=True}`` (literal text); returns replacement counts."""
        return self._run(replace(self._sid, entries))


def _first(op: Op) -> Op:
    values = yield from op
    return values[0]
