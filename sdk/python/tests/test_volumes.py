"""Volumes against a live berth: create / list / get / destroy, and ``volumes`` at sandbox create."""
from __future__ import annotations

import os
import uuid

import pytest

import berth
from berth import AsyncSandbox, AsyncVolume, Volume


def test_volume_written_by_one_sandbox_is_read_by_the_next(make):
    name = f"pyv-{uuid.uuid4().hex[:8]}"
    created = Volume.create(name, size_mb=64)
    assert isinstance(created, berth.VolumeInfo)
    assert (created.name, created.size_mb, created.mounted_by) == (name, 64, 0)
    assert created.created_at is not None
    try:
        with pytest.raises(berth.ConflictError):
            Volume.create(name)
        assert name in [v.name for v in Volume.list()]

        writer = make(volumes=[{"name": name, "mount_path": "/data"}])
        writer.commands.run("echo kept > /data/f")
        assert Volume.get_info(name).mounted_by == 1
        with pytest.raises(berth.ConflictError):
            Volume.destroy(name)
        writer.kill()

        reader = make(volumes=[{"name": name, "mount_path": "/ro", "read_only": True}])
        assert reader.commands.run("cat /ro/f").stdout == "kept\n"
        with pytest.raises(berth.CommandExitError):
            reader.commands.run("echo x > /ro/g")
        reader.kill()
        # Another owner sees none of it.
        other = os.environ["BERTH_TEST_OTHER_API_KEY"]
        with pytest.raises(berth.NotFoundError):
            Volume.get_info(name, api_key=other)
        assert name not in [v.name for v in Volume.list(api_key=other)]
    finally:
        Volume.destroy(name)
    assert Volume.destroy(name) is False
    with pytest.raises(berth.NotFoundError):
        Volume.get_info(name)
    with pytest.raises(berth.InvalidArgumentError):
        make(volumes=[{"name": name, "mount_path": "/data"}])  # it no longer exists
    with pytest.raises(berth.InvalidArgumentError):
        Volume.create("Not A Name")


async def test_async_volume_calls(live):
    name = f"pyva-{uuid.uuid4().hex[:8]}"
    assert (await AsyncVolume.create(name)).size_mb is None
    try:
        sbx = await AsyncSandbox.create(template="tiny", timeout=120, volumes=[{"name": name, "mountPath": "/v"}])
        try:
            await sbx.commands.run("echo async > /v/f")
            assert (await AsyncVolume.get_info(name)).mounted_by == 1
        finally:
            await sbx.kill()
            await sbx.close()
        assert [v.name for v in await AsyncVolume.list() if v.name == name] == [name]
    finally:
        assert await AsyncVolume.destroy(name) is True
    assert await AsyncVolume.destroy(name) is False
