"""Feeds example API answers (stdin: {case: body}) to the Python SDK's parsers and prints, per
case, the dotted paths of every field the parser read (``a.b``; ``a[].b`` inside arrays).
Run by test/sdk/python-fields.test.ts with the SDK's venv and this checkout's sdk/python/src."""
import json
import sys
from collections.abc import Mapping

from berth import lifecycle, models, snapshots, volumes


class Recorder(Mapping):
    """A read-only dict that notes which keys are read (nested objects and arrays included)."""

    def __init__(self, data, prefix, seen):
        self._data, self._prefix, self._seen = data, prefix, seen

    def _wrap(self, value, path):
        if isinstance(value, dict):
            return Recorder(value, path, self._seen)
        if isinstance(value, list):
            return [self._wrap(v, path + "[]") for v in value]
        return value

    def __getitem__(self, key):
        path = f"{self._prefix}.{key}" if self._prefix else key
        if key in self._data:
            self._seen.add(path)
        else:
            self._seen.add("?" + path)  # read a field the answer does not have
        return self._wrap(self._data[key], path)

    def __contains__(self, key):
        path = f"{self._prefix}.{key}" if self._prefix else key
        self._seen.add(path if key in self._data else "?" + path)
        return key in self._data

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


class Reply:
    def __init__(self, body):
        self._body = body

    def json(self):
        return self._body


def run_op(gen, body):
    next(gen)
    try:
        gen.send(Reply(body))
    except StopIteration:
        return
    raise AssertionError("the operation asked for a second call")


CASES = {
    "SandboxInfo.from_api": lambda b: models.SandboxInfo.from_api(b),
    "listed_sandbox": lambda b: models.listed_sandbox(b),
    "list_sandboxes": lambda b: run_op(lifecycle.list_sandboxes(), b),
    "events": lambda b: run_op(lifecycle.events("s"), b),
    "get_metrics": lambda b: run_op(lifecycle.get_metrics("s"), b),
    "endpoint": lambda b: run_op(lifecycle.endpoint("s", 8000), b),
    "ProcessInfo.from_api": lambda b: models.ProcessInfo.from_api(b),
    "EntryInfo.from_api": lambda b: models.EntryInfo.from_api(b),
    "SnapshotInfo.from_api": lambda b: snapshots.SnapshotInfo.from_api(b),
    "list_snapshots": lambda b: run_op(snapshots.list_snapshots(), b),
    "list_of_sandbox": lambda b: run_op(snapshots.list_of_sandbox("s"), b),
    "VolumeInfo.from_api": lambda b: volumes.VolumeInfo.from_api(b),
}

bodies = json.load(sys.stdin)
out = {}
for name, body in bodies.items():
    seen = set()
    CASES[name](Recorder(body, "", seen))
    out[name] = sorted(seen)
print(json.dumps(out))
