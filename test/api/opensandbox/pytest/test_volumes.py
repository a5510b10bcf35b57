"""Volumes at create: a pvc volume is the owner's berth named volume (created when missing);
host-path volumes are refused with the protocol's error shape; another owner's volume of the
same name is a different volume."""
import os
import secrets
from datetime import timedelta

import httpx
import pytest
from opensandbox import SandboxManagerSync, SandboxSync
from opensandbox.exceptions import SandboxApiException
from opensandbox.models.sandboxes import PVC, Host, SandboxFilter, Volume

from conftest import DOMAIN, sync_config

TINY = "berth/busybox:1"


def berth(key: str) -> httpx.Client:
    """berth's own REST with the same key (volumes are berth volumes)."""
    return httpx.Client(base_url=f"http://{DOMAIN}", headers={"Authorization": f"Bearer {key}"}, timeout=60)


def run(sbx: SandboxSync, cmd: str):
    return sbx.commands.run(cmd)


def out(execution) -> str:
    return "".join(m.text for m in execution.logs.stdout)


def test_pvc_volume_is_created_written_and_read_by_a_later_sandbox(other_key):
    name = f"osv-{secrets.token_hex(4)}"
    alice, bob = os.environ["OS_API_KEY"], other_key
    cfg = sync_config()
    try:
        writer = SandboxSync.create(TINY, timeout=timedelta(minutes=3), volumes=[Volume(name="data", pvc=PVC(claim_name=name, storage="1Gi"), mount_path="/data")],
                                    connection_config=cfg)
        try:
            assert run(writer, "echo kept > /data/f").exit_code == 0
            assert out(run(writer, "cat /data/f")).strip() == "kept"
            # berth's REST shows it as alice's volume, created by the create, mounted once.
            with berth(alice) as api:
                got = api.get(f"/volumes/{name}")
                assert got.status_code == 200, got.text
                assert got.json()["mountedBy"] == 1 and got.json()["sizeMB"] == 1024
        finally:
            writer.kill()
            writer.close()

        # A later sandbox reads it, read-only: writing fails.
        reader = SandboxSync.create(TINY, timeout=timedelta(minutes=3),
                                    volumes=[Volume(name="data", pvc=PVC(claim_name=name, create_if_not_exists=False), mount_path="/ro", read_only=True)],
                                    connection_config=cfg)
        try:
            assert out(run(reader, "cat /ro/f")).strip() == "kept"
            denied = run(reader, "echo x > /ro/g; echo rc=$?")
            assert "rc=0" not in out(denied)
        finally:
            reader.kill()
            reader.close()

        # bob's volume of the same name is his own, empty one.
        theirs = SandboxSync.create(TINY, timeout=timedelta(minutes=3), volumes=[Volume(name="data", pvc=PVC(claim_name=name), mount_path="/data")],
                                    connection_config=sync_config(key=bob))
        try:
            assert out(run(theirs, "ls /data; echo end")).strip() == "end"
        finally:
            theirs.kill()
            theirs.close()
    finally:
        for key in (alice, bob):
            with berth(key) as api:
                api.delete(f"/volumes/{name}")


def test_host_path_volume_is_refused_and_nothing_is_created():
    cfg = sync_config()
    tag = secrets.token_hex(4)
    with pytest.raises(SandboxApiException) as err:
        SandboxSync.create(TINY, timeout=timedelta(minutes=3), metadata={"tag": tag},
                           volumes=[Volume(name="etc", host=Host(path="/etc"), mount_path="/host-etc")], connection_config=cfg)
    assert err.value.status_code == 400
    assert "host-path volumes are refused" in str(err.value) and "pvc" in str(err.value)
    manager = SandboxManagerSync.create(connection_config=cfg)
    try:
        assert manager.list_sandbox_infos(SandboxFilter(metadata={"tag": tag})).sandbox_infos == []
    finally:
        manager.close()


def test_missing_volume_without_create_if_not_exists_is_a_400():
    name = f"osv-missing-{secrets.token_hex(4)}"
    with pytest.raises(SandboxApiException) as err:
        SandboxSync.create(TINY, timeout=timedelta(minutes=3),
                           volumes=[Volume(name="d", pvc=PVC(claim_name=name, create_if_not_exists=False), mount_path="/d")], connection_config=sync_config())
    assert err.value.status_code == 400
    assert f"volume {name} does not exist" in str(err.value)
    with berth(os.environ["OS_API_KEY"]) as api:
        assert api.get(f"/volumes/{name}").status_code == 404
