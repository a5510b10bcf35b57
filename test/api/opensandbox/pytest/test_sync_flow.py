"""The whole flow of seed 002 with the synchronous SDK classes, in both endpoint modes."""
import time
from datetime import datetime, timedelta, timezone

import pytest
from opensandbox import SandboxManagerSync, SandboxSync
from opensandbox.exceptions import SandboxApiException
from opensandbox.models.execd import RunCommandOpts
from opensandbox.models.execd_sync import ExecutionHandlersSync
from opensandbox.models.filesystem import ContentReplaceEntry, MoveEntry, SearchEntry, SetPermissionEntry, WriteEntry
from opensandbox.models.sandboxes import SandboxFilter

from conftest import IMAGE, sync_config


@pytest.mark.parametrize("server_proxy", [False, True], ids=["direct", "server-proxy"])
def test_lifecycle_commands_files(server_proxy):
    cfg = sync_config(server_proxy=server_proxy)
    sbx = SandboxSync.create(
        IMAGE,
        timeout=timedelta(minutes=5),
        env={"GREETING": "hello from env"},
        metadata={"suite": "os-sync"},
        resource={"cpu": "500m", "memory": "256Mi"},
        connection_config=cfg,
    )
    try:
        # get_info: state, metadata and the expiry berth enforces
        info = sbx.get_info()
        assert info.id == sbx.id
        assert info.status.state == "Running"
        assert info.metadata == {"suite": "os-sync"}
        assert info.expires_at is not None
        left = (info.expires_at - datetime.now(timezone.utc)).total_seconds()
        assert 200 < left <= 300

        # commands: foreground with handlers (env from create reaches the command)
        seen = []
        handlers = ExecutionHandlersSync(
            on_stdout=lambda m: seen.append(("out", m.text)),
            on_stderr=lambda m: seen.append(("err", m.text)),
            on_init=lambda i: seen.append(("init", i.id)),
            on_execution_complete=lambda c: seen.append(("done", c.execution_time_in_millis)),
        )
        ex = sbx.commands.run('echo "$GREETING"; echo oops >&2', handlers=handlers)
        assert ex.exit_code == 0
        assert "".join(m.text for m in ex.logs.stdout).strip() == "hello from env"
        assert "".join(m.text for m in ex.logs.stderr).strip() == "oops"
        kinds = [k for k, _ in seen]
        assert kinds[0] == "init" and kinds[-1] == "done" and "out" in kinds and "err" in kinds
        assert ex.id and ex.id == seen[0][1]

        failed = sbx.commands.run("exit 3")
        assert failed.exit_code == 3
        assert failed.error is not None and failed.error.value == "3"

        cwd = sbx.commands.run("pwd", opts=RunCommandOpts(working_directory="/tmp", envs={"X": "1"}))
        assert "".join(m.text for m in cwd.logs.stdout).strip() == "/tmp"

        # background, logs by cursor, status
        bg = sbx.commands.run("for i in 1 2 3; do echo line$i; sleep 0.3; done", opts=RunCommandOpts(background=True))
        assert bg.id
        text, cursor = "", None
        deadline = time.time() + 30
        while time.time() < deadline:
            logs = sbx.commands.get_background_command_logs(bg.id, cursor)
            text += logs.content
            cursor = logs.cursor
            status = sbx.commands.get_command_status(bg.id)
            if not status.running and "line3" in text:
                break
            time.sleep(0.2)
        assert text.split() == ["line1", "line2", "line3"]
        assert status.exit_code == 0 and status.running is False
        assert sbx.commands.get_background_command_logs(bg.id, cursor).content == ""

        # interrupt a long background command
        long = sbx.commands.run("sleep 300", opts=RunCommandOpts(background=True))
        assert sbx.commands.get_command_status(long.id).running is True
        sbx.commands.interrupt(long.id)
        deadline = time.time() + 20
        while sbx.commands.get_command_status(long.id).running and time.time() < deadline:
            time.sleep(0.2)
        st = sbx.commands.get_command_status(long.id)
        assert st.running is False and st.exit_code != 0

        # filesystem
        sbx.files.create_directories([WriteEntry(path="/work/sub", mode=755)])
        sbx.files.write_file("/work/a.txt", "alpha beta alpha\n", mode=644)
        sbx.files.write_files([WriteEntry(path="/work/sub/b.bin", data=bytes(range(256)), mode=600)])
        assert sbx.files.read_file("/work/a.txt") == "alpha beta alpha\n"
        assert sbx.files.read_bytes("/work/sub/b.bin") == bytes(range(256))
        assert sbx.files.read_bytes("/work/sub/b.bin", range_header="bytes=10-19") == bytes(range(10, 20))
        infos = sbx.files.get_file_info(["/work/a.txt", "/work/sub"])
        assert infos["/work/a.txt"].size == 17 and infos["/work/a.txt"].mode == 644
        assert infos["/work/sub"].entry_type == "directory"
        assert sbx.files.get_file_info(["/work/sub/b.bin"])["/work/sub/b.bin"].mode == 600
        found = sbx.files.search(SearchEntry(path="/work", pattern="*.txt"))
        assert [e.path for e in found] == ["/work/a.txt"]
        sbx.files.replace_contents([ContentReplaceEntry(path="/work/a.txt", old_content="alpha", new_content="omega")])
        assert sbx.files.read_file("/work/a.txt") == "omega beta omega\n"
        sbx.files.set_permissions([SetPermissionEntry(path="/work/a.txt", mode=600)])
        assert sbx.files.get_file_info(["/work/a.txt"])["/work/a.txt"].mode == 600
        sbx.files.move_files([MoveEntry(src="/work/a.txt", dest="/work/sub/c.txt")])
        assert sbx.files.read_file("/work/sub/c.txt") == "omega beta omega\n"
        with pytest.raises(SandboxApiException) as missing:
            sbx.files.read_file("/work/a.txt")
        assert missing.value.status_code == 404
        sbx.files.delete_files(["/work/sub/c.txt"])
        with pytest.raises(SandboxApiException):
            sbx.files.get_file_info(["/work/sub/c.txt"])
        sbx.files.delete_directories(["/work/sub"])
        with pytest.raises(SandboxApiException):
            sbx.files.get_file_info(["/work/sub"])

        # metrics, endpoint
        m = sbx.get_metrics()
        assert m.cpu_count == 0.5
        assert 250 <= m.memory_total_in_mib <= 260
        assert 0 < m.memory_used_in_mib < m.memory_total_in_mib
        assert m.timestamp > 0
        ep = sbx.get_endpoint(8080)
        assert ep.endpoint.endswith(f"/v1/sandboxes/{sbx.id}/proxy/8080")

        # renew: absolute expiry = now + duration (may shorten)
        renewed = sbx.renew(timedelta(minutes=2))
        left = (renewed.expires_at - datetime.now(timezone.utc)).total_seconds()
        assert 100 < left <= 120
        left = (sbx.get_info().expires_at - datetime.now(timezone.utc)).total_seconds()
        assert 100 < left <= 120

        # pause keeps files and processes; resume gives a working sandbox
        sbx.commands.run("sleep 600", opts=RunCommandOpts(background=True))
        sbx.files.write_file("/work/keep.txt", "kept")
        sbx.pause()
        assert sbx.get_info().status.state == "Paused"
        with pytest.raises(SandboxApiException) as paused:
            sbx.commands.run("true")
        assert paused.value.status_code == 409
        resumed = SandboxSync.resume(sbx.id, connection_config=cfg)
        assert resumed.get_info().status.state == "Running"
        assert resumed.files.read_file("/work/keep.txt") == "kept"
        ps = resumed.commands.run("ps -eo args 2>/dev/null || ps")
        assert "sleep 600" in "".join(m.text for m in ps.logs.stdout)

        # the manager lists and kills
        # connect to it by ID
        again = SandboxSync.connect(sbx.id, connection_config=cfg)
        assert "".join(m.text for m in again.commands.run("echo connected").logs.stdout).strip() == "connected"
        assert again.is_healthy()
        again.close()

        manager = SandboxManagerSync.create(connection_config=cfg)
        renewed = manager.renew_sandbox(sbx.id, timedelta(minutes=3))
        assert 170 < (renewed.expires_at - datetime.now(timezone.utc)).total_seconds() <= 180
        manager.pause_sandbox(sbx.id)
        assert manager.get_sandbox_info(sbx.id).status.state == "Paused"
        listed = manager.list_sandbox_infos(SandboxFilter(states=["Paused"], metadata={"suite": "os-sync"}))
        assert [s.id for s in listed.sandbox_infos] == [sbx.id]
        manager.resume_sandbox(sbx.id)
        paged = manager.list_sandbox_infos(SandboxFilter(states=["Running", "Paused"], page_size=1))
        assert paged.pagination.page_size == 1 and len(paged.sandbox_infos) == 1
        listed = manager.list_sandbox_infos(SandboxFilter(states=["Running"], metadata={"suite": "os-sync"}))
        assert sbx.id in [s.id for s in listed.sandbox_infos]
        assert manager.get_sandbox_info(sbx.id).status.state == "Running"
        manager.kill_sandbox(sbx.id)
        with pytest.raises(SandboxApiException) as gone:
            sbx.get_info()
        assert gone.value.status_code == 404
        manager.close()
    finally:
        try:
            sbx.kill()
        except SandboxApiException:
            pass
        sbx.close()
