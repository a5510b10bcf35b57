"""Seed 004's walk-through (the E2B-style Python SDK) run against berth.

Only the import line differs from the seed's code. What the seed has and berth does not
(snapshots and restore, pty, the MITM proxy `secure`, `allow_internet_access` / `network`,
`security`) is left out; see sdk/python/README.md. Needs BERTH_API_URL and BERTH_API_KEY.
Exits non-zero when a step does not behave as the seed describes.
"""
import uuid

from berth import Sandbox, SandboxQuery  # the seed: from e2b import Sandbox, SandboxQuery

run = uuid.uuid4().hex[:8]

# Sandbox.create(): template, timeout, metadata, envs, resources, lifecycle.
sbx = Sandbox.create(
    template="base",
    timeout=300,
    metadata={"example": "seed004", "run": run},
    envs={"GREETING": "hello"},
    resources={"cpu": 1, "memory_mb": 512},
    lifecycle={"on_timeout": "pause", "auto_resume": True},
    request_timeout=120,
)
print("created", sbx.sandbox_id)

# Every instance exposes .commands and .files.
result = sbx.commands.run("python3 -c \"import os; print(os.environ['GREETING'], 6 * 7)\"")
print("command:", result.stdout.strip())
assert result.stdout == "hello 42\n", result
sbx.files.write("/home/user/notes.txt", "written by the walk-through\n")
assert sbx.files.read("/home/user/notes.txt") == "written by the walk-through\n"

# get_info(), set_timeout(), is_running(), get_metrics().
info = sbx.get_info()
print("started_at:", info.started_at, "end_at:", info.end_at)
assert info.metadata["run"] == run and info.lifecycle["on_timeout"] == "pause"
sbx.set_timeout(600)
after = sbx.get_info()
print("after set_timeout(600), end_at:", after.end_at)
assert after.end_at > info.end_at
assert sbx.is_running()
metrics = sbx.get_metrics()
print("metrics samples:", len(metrics), "memory used:", metrics[-1].mem_used)
assert metrics and metrics[-1].mem_total

# pause() / resume().
sbx.pause()
assert not sbx.is_running()
sbx.resume()
assert sbx.is_running()

# Sandbox.list(query=..., limit=..., next_token=...) -> dict
page = Sandbox.list(query=SandboxQuery(metadata={"run": run}), limit=10)
print("listed:", [s["sandbox_id"] for s in page["sandboxes"]], "next_token:", page["next_token"])
assert [s["sandbox_id"] for s in page["sandboxes"]] == [sbx.sandbox_id]

# Sandbox.connect() and the context manager: __exit__ closes the client, never kills.
with Sandbox.connect(sbx.sandbox_id, timeout=300) as same:
    assert same.files.read("/home/user/notes.txt").startswith("written")
assert sbx.is_running()

# kill() -> bool: True when killed, False when it was already dead.
assert sbx.kill() is True
assert sbx.kill() is False
sbx.close()
print("done")
