"""Snapshots against a live berth: take one, boot from it (restore / template), list, delete, another owner."""
from __future__ import annotations

import asyncio
import os

import pytest

import berth
from berth import AsyncSandbox, ConflictError, NotFoundError, Sandbox


def test_snapshot_restore_list_delete(make):
    sbx = make(timeout=120)
    sbx.commands.run("echo kept > /tmp/kept.txt")
    snap = sbx.create_snapshot()
    assert isinstance(snap, berth.SnapshotInfo)
    assert snap.snapshot_id.startswith("snap_") and snap.sandbox_id == sbx.sandbox_id and snap.kind == "snapshot"
    assert snap.size_bytes > 0 and snap.created_at is not None
    assert [s.snapshot_id for s in sbx.list_snapshots()] == [snap.snapshot_id]
    sbx.kill()

    # It outlives its sandbox: restore by snapshot ID, and (seed 004) by the sandbox's ID (its newest snapshot).
    restored = Sandbox.restore(snap.snapshot_id, timeout=60)
    try:
        assert restored.commands.run("cat /tmp/kept.txt").stdout == "kept\n"
        assert restored.get_info().template_id == snap.snapshot_id
        with pytest.raises(ConflictError):
            Sandbox.delete_snapshot(snap.snapshot_id)
    finally:
        restored.kill()
        restored.close()
    by_sandbox = Sandbox.restore(sbx.sandbox_id)
    try:
        assert by_sandbox.commands.run("cat /tmp/kept.txt").stdout == "kept\n"
    finally:
        by_sandbox.kill()
        by_sandbox.close()
    # Also as a template.
    as_template = make(template=snap.snapshot_id)
    assert as_template.commands.run("cat /tmp/kept.txt").stdout == "kept\n"
    as_template.kill()

    assert snap.snapshot_id in [s.snapshot_id for s in Sandbox.list_all_snapshots()["snapshots"]]
    assert Sandbox.get_snapshot(snap.snapshot_id).sandbox_id == sbx.sandbox_id
    assert Sandbox.delete_snapshot(snap.snapshot_id) is True
    assert Sandbox.delete_snapshot(snap.snapshot_id) is False
    with pytest.raises(NotFoundError):
        Sandbox.get_snapshot(snap.snapshot_id)


def test_another_owner_cannot_use_a_snapshot(make):
    other = os.environ.get("BERTH_TEST_OTHER_API_KEY")
    if not other:
        pytest.fail("set BERTH_TEST_OTHER_API_KEY (test/sdk/python-sdk.test.ts does it)")
    sbx = make()
    snap = sbx.snapshot()  # seed 004's name
    with pytest.raises(NotFoundError):
        Sandbox.get_snapshot(snap.snapshot_id, api_key=other)
    with pytest.raises(NotFoundError):
        Sandbox.restore(snap.snapshot_id, api_key=other)
    assert Sandbox.delete_snapshot(snap.snapshot_id, api_key=other) is False
    assert Sandbox.delete_snapshot(snap.snapshot_id) is True


def test_async_snapshot_and_restore(make):
    sbx = make()

    async def flow() -> str:
        handle = await AsyncSandbox.connect(sbx.sandbox_id)
        try:
            await handle.commands.run("echo async > /tmp/a.txt")
            snap = await handle.create_snapshot()
        finally:
            await handle.close()
        restored = await AsyncSandbox.restore(snap.snapshot_id)
        try:
            return (await restored.commands.run("cat /tmp/a.txt")).stdout
        finally:
            await restored.kill()
            await restored.close()
            Sandbox.delete_snapshot(snap.snapshot_id)

    assert asyncio.run(flow()) == "async\n"
