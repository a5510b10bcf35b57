"""Snapshots: create_snapshot is Ready at once, get/list find it, Sandbox.create(snapshot_id=…) boots a
sandbox with the file (also after the source was killed), another owner cannot see or use it, delete."""
from datetime import timedelta

import pytest
from opensandbox import SandboxManagerSync, SandboxSync
from opensandbox.exceptions import SandboxApiException
from opensandbox.models.sandboxes import SnapshotFilter

from conftest import IMAGE, sync_config


def test_snapshot_create_list_boot_delete(other_key):
    cfg = sync_config()
    manager = SandboxManagerSync.create(connection_config=cfg)
    other = SandboxManagerSync.create(connection_config=sync_config(key=other_key))
    src = SandboxSync.create(IMAGE, timeout=timedelta(minutes=3), connection_config=cfg)
    snap_id = None
    try:
        src.files.write_file("/root/kept.txt", "from a snapshot")
        snap = src.create_snapshot()
        snap_id = snap.id
        assert snap.id.startswith("snap_") and snap.sandbox_id == src.id
        assert snap.status.state == "Ready"
        with pytest.raises(SandboxApiException) as named:
            src.create_snapshot("named")
        assert named.value.status_code == 400 and "no names" in str(named.value)

        assert manager.get_snapshot(snap.id).id == snap.id
        assert [s.id for s in manager.list_snapshots(SnapshotFilter(sandbox_id=src.id)).snapshot_infos] == [snap.id]
        assert snap.id in [s.id for s in manager.list_snapshots(SnapshotFilter(page_size=100)).snapshot_infos]
        assert manager.list_snapshots(SnapshotFilter(states=["Creating"])).snapshot_infos == []

        # Another owner: not found, and cannot boot from it.
        with pytest.raises(SandboxApiException) as theirs:
            other.get_snapshot(snap.id)
        assert theirs.value.status_code == 404
        assert snap.id not in [s.id for s in other.list_snapshots(SnapshotFilter(page_size=100)).snapshot_infos]
        with pytest.raises(SandboxApiException) as boot:
            SandboxSync.create(snapshot_id=snap.id, timeout=timedelta(minutes=3), connection_config=sync_config(key=other_key))
        assert boot.value.status_code == 404
    finally:
        src.kill()
        src.close()

    # The snapshot outlives its sandbox and boots a new one that has the file.
    booted = SandboxSync.create(snapshot_id=snap_id, timeout=timedelta(minutes=3), connection_config=cfg)
    try:
        assert booted.files.read_file("/root/kept.txt") == "from a snapshot"
    finally:
        booted.kill()
        booted.close()

    manager.delete_snapshot(snap_id)
    with pytest.raises(SandboxApiException) as gone:
        manager.get_snapshot(snap_id)
    assert gone.value.status_code == 404
    manager.close()
    other.close()
