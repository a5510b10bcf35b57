"""AsyncSandbox and AsyncSandboxManager: the core calls, awaited."""
from __future__ import annotations

import os

import pytest

import berth
from berth import AsyncSandbox, AsyncSandboxManager

TEMPLATE = os.environ.get("BERTH_TEST_TEMPLATE", "tiny")


async def test_async_core_calls(live, tag):
    sbx = await AsyncSandbox.create(template=TEMPLATE, timeout=120, metadata={"tag": tag})
    try:
        info = await sbx.get_info()
        assert info.state == "running" and info.timeout == 120
        page = await AsyncSandbox.list(query={"metadata": {"tag": tag}})
        assert [s["sandbox_id"] for s in page["sandboxes"]] == [sbx.sandbox_id]

        seen = []

        async def on_stdout(text: str) -> None:
            seen.append(text)

        r = await sbx.commands.run("echo a; sleep 0.2; echo b", on_stdout=on_stdout)
        assert r.stdout == "a\nb\n" == "".join(seen)
        with pytest.raises(berth.CommandExitError):
            await sbx.commands.run("exit 2")
        h = await sbx.commands.run("echo bg", background=True)
        assert (await h.wait()).stdout == "bg\n"

        await sbx.files.write_file("/tmp/async.bin", b"\x00\xff")
        assert await sbx.files.read_bytes("/tmp/async.bin") == b"\x00\xff"
        with pytest.raises(berth.NotFoundError):
            await sbx.files.read_file("/tmp/missing")

        assert (await sbx.set_timeout(60)).timeout == 60
        assert (await AsyncSandbox.get_info(sbx.sandbox_id)).timeout == 60
        assert (await sbx.pause()).state == "paused"
        async with await AsyncSandbox.connect(sbx.sandbox_id) as again:
            assert await again.is_running() is True
        assert await sbx.is_running() is True  # leaving the block did not kill it
        async with AsyncSandboxManager() as manager:
            assert (await manager.get_sandbox_info(sbx.sandbox_id)).sandbox_id == sbx.sandbox_id
        assert await sbx.kill() is True
        assert await sbx.kill() is False
        with pytest.raises(berth.NotFoundError):
            await AsyncSandbox.connect(sbx.sandbox_id)
        with pytest.raises(berth.UnauthorizedError):
            await AsyncSandbox.list(api_key="wrong-key")
    finally:
        await sbx.kill()
        await sbx.close()
