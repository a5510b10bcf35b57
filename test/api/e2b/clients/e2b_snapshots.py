"""Snapshots with the real `e2b` Python SDK against berth (run by snapshots.test.ts).

Env: E2B_API_URL, E2B_API_KEY, E2B_SANDBOX_URL (berth's envd listener). Prints one JSON object.
"""
import json

from e2b import Sandbox
from e2b.exceptions import SandboxException

out = {}
src = Sandbox.create(template="base", timeout=120)
src.commands.run("echo from-snapshot > /home/user/kept.txt")
snap = src.create_snapshot()
out["snapshot_id"] = snap.snapshot_id
out["names"] = snap.names
out["listed_of_sandbox"] = [s.snapshot_id for s in src.list_snapshots().next_items()]
out["listed_by_id_filter"] = [s.snapshot_id for s in Sandbox.list_snapshots(name=snap.snapshot_id).next_items()]
out["listed_all"] = snap.snapshot_id in [s.snapshot_id for s in Sandbox.list_snapshots(limit=100).next_items()]
try:
    src.create_snapshot(name="named")
    out["named"] = "created"
except SandboxException as e:
    out["named"] = str(e)
src.kill()

# The snapshot outlives its sandbox; Sandbox.create(<snapshot ID>) boots a new sandbox that has the file.
booted = Sandbox.create(snap.snapshot_id, timeout=120)
try:
    out["booted_template"] = booted.get_info().template_id
    out["booted_file"] = booted.commands.run("cat /home/user/kept.txt").stdout
finally:
    booted.kill()

out["delete"] = Sandbox.delete_snapshot(snap.snapshot_id)
out["delete_again"] = Sandbox.delete_snapshot(snap.snapshot_id)
try:
    Sandbox.create(snap.snapshot_id, timeout=60)
    out["create_from_deleted"] = "created"
except Exception as e:  # noqa: BLE001
    out["create_from_deleted"] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
