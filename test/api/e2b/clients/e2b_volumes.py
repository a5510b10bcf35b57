"""Volumes with the real `e2b` Python SDK against berth (run by volumes.test.ts).

Env: E2B_API_URL, E2B_API_KEY, E2B_SANDBOX_URL (berth's envd listener). argv[1]: a volume name.
Prints one JSON object with what it saw.
"""
import json
import sys

from e2b import Sandbox, Volume
from e2b.exceptions import VolumeException, VolumeNotFoundException

out = {}
name = sys.argv[1]

vol = Volume.create(name)
out["created"] = {"volume_id": vol.volume_id, "name": vol.name}
out["listed"] = [{"volume_id": v.volume_id, "name": v.name} for v in Volume.list() if v.name == name]
info = Volume.get_info(vol.volume_id)
out["info"] = {"volume_id": info.volume_id, "name": info.name}
out["connected"] = Volume.connect(vol.volume_id).name
try:
    Volume.create(name)
    out["create_again"] = "created"
except VolumeException as e:
    out["create_again"] = str(e)

# One sandbox mounts the Volume instance, a later one the volume by name.
writer = Sandbox.create(template="base", timeout=120, volume_mounts={"/data": vol})
try:
    writer.commands.run("echo kept > /data/f")
    try:
        Volume.destroy(vol.volume_id)
        out["destroy_while_mounted"] = "destroyed"
    except VolumeException as e:
        out["destroy_while_mounted"] = str(e)
finally:
    writer.kill()
reader = Sandbox.create(template="base", timeout=120, volume_mounts={"/mnt/v": name})
try:
    out["read_by_later_sandbox"] = reader.commands.run("cat /mnt/v/f").stdout
finally:
    reader.kill()

out["destroy"] = Volume.destroy(vol.volume_id)
out["destroy_again"] = Volume.destroy(vol.volume_id)
try:
    Volume.get_info(vol.volume_id)
    out["info_after_destroy"] = "found"
except VolumeNotFoundException:
    out["info_after_destroy"] = "VolumeNotFoundException"
try:
    Sandbox.create(template="base", timeout=60, volume_mounts={"/data": name})
    out["mount_missing"] = "created"
except Exception as e:  # noqa: BLE001
    out["mount_missing"] = f"{type(e).__name__}: {e}"

print(json.dumps(out))
