"""The flow with the async SDK classes (Sandbox, SandboxManager), plus tenants and what berth does not offer."""
import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from opensandbox import Sandbox, SandboxManager
from opensandbox.exceptions import SandboxApiException
from opensandbox.models.execd import ExecutionHandlers, RunCommandOpts
from opensandbox.models.filesystem import SearchEntry, WriteEntry
from opensandbox.models.sandboxes import SandboxFilter

from conftest import IMAGE, async_config


@pytest.mark.asyncio
async def test_async_flow():
    cfg = async_config()
    sbx = await Sandbox.create(IMAGE, timeout=timedelta(minutes=5), env={"WHO": "async"}, metadata={"suite": "os-async"},
                               resource={"cpu": "1", "memory": "512Mi"}, connection_config=cfg)
    try:
        info = await sbx.get_info()
        assert info.status.state == "Running" and info.metadata == {"suite": "os-async"}
        assert await sbx.is_healthy()

        out = []

        async def on_stdout(m):
            out.append(m.text)

        ex = await sbx.commands.run('echo "hi $WHO"', handlers=ExecutionHandlers(on_stdout=on_stdout))
        assert ex.exit_code == 0 and "".join(out).strip() == "hi async"

        bg = await sbx.commands.run("echo one; sleep 0.5; echo two", opts=RunCommandOpts(background=True))
        text, cursor = "", None
        for _ in range(100):
            logs = await sbx.commands.get_background_command_logs(bg.id, cursor)
            text, cursor = text + logs.content, logs.cursor
            if not (await sbx.commands.get_command_status(bg.id)).running and "two" in text:
                break
            await asyncio.sleep(0.2)
        assert text.split() == ["one", "two"]

        long = await sbx.commands.run("sleep 300", opts=RunCommandOpts(background=True))
        await sbx.commands.interrupt(long.id)
        for _ in range(100):
            if not (await sbx.commands.get_command_status(long.id)).running:
                break
            await asyncio.sleep(0.2)
        assert (await sbx.commands.get_command_status(long.id)).running is False

        await sbx.files.write_files([WriteEntry(path="/data/x.py", data="print(1)\n", mode=644)])
        assert await sbx.files.read_file("/data/x.py") == "print(1)\n"
        chunks = [c async for c in await sbx.files.read_bytes_stream("/data/x.py")]
        assert b"".join(chunks) == b"print(1)\n"
        assert [e.path for e in await sbx.files.search(SearchEntry(path="/data", pattern="*.py"))] == ["/data/x.py"]

        m = await sbx.get_metrics()
        assert m.cpu_count == 1 and 500 <= m.memory_total_in_mib <= 520

        renewed = await sbx.renew(timedelta(seconds=90))
        assert 60 < (renewed.expires_at - datetime.now(timezone.utc)).total_seconds() <= 90

        await sbx.pause()
        assert (await sbx.get_info()).status.state == "Paused"
        resumed = await Sandbox.resume(sbx.id, connection_config=cfg)
        assert (await resumed.files.read_file("/data/x.py")) == "print(1)\n"
        await resumed.close()

        manager = await SandboxManager.create(connection_config=cfg)
        page = await manager.list_sandbox_infos(SandboxFilter(metadata={"suite": "os-async"}))
        assert [s.id for s in page.sandbox_infos] == [sbx.id]
        await manager.kill_sandbox(sbx.id)
        with pytest.raises(SandboxApiException) as gone:
            await manager.get_sandbox_info(sbx.id)
        assert gone.value.status_code == 404
        await manager.close()
    finally:
        try:
            await sbx.kill()
        except SandboxApiException:
            pass
        await sbx.close()


@pytest.mark.asyncio
async def test_other_tenant_gets_not_found(other_key):
    sbx = await Sandbox.create(IMAGE, timeout=timedelta(minutes=3), connection_config=async_config())
    try:
        other = async_config(key=other_key)
        manager = await SandboxManager.create(connection_config=other)
        with pytest.raises(SandboxApiException) as info_err:
            await manager.get_sandbox_info(sbx.id)
        assert info_err.value.status_code == 404
        with pytest.raises(SandboxApiException) as kill_err:
            await manager.kill_sandbox(sbx.id)
        assert kill_err.value.status_code == 404
        with pytest.raises(SandboxApiException):
            await Sandbox.connect(sbx.id, connection_config=other)
        assert sbx.id not in [s.id for s in (await manager.list_sandbox_infos(SandboxFilter())).sandbox_infos]
        await manager.close()
        # still alive for its owner
        assert (await sbx.get_info()).status.state == "Running"
    finally:
        await sbx.kill()
        await sbx.close()


@pytest.mark.asyncio
async def test_not_supported_answers_not_supported():
    sbx = await Sandbox.create(IMAGE, timeout=timedelta(minutes=3), connection_config=async_config())
    try:
        for call in (lambda: sbx.patch_metadata({"a": "b"}), lambda: sbx.get_egress_policy()):
            with pytest.raises(SandboxApiException) as err:
                await call()
            # 501 with the protocol's {code, message}; the generated clients parse the body of
            # the statuses they list only, so the SDK keeps it as the message's raw fragment.
            assert err.value.status_code == 501
            assert "NOT_SUPPORTED" in str(err.value) and "not supported by berth" in str(err.value)
    finally:
        await sbx.kill()
        await sbx.close()
