"""Commands against a live berth: foreground (buffered and streamed to callbacks), exit codes, background."""
from __future__ import annotations

import time

import pytest

import berth


def test_foreground_buffered(shared):
    r = shared.commands.run("echo $GREETING; echo oops >&2", envs={"GREETING": "hi"})
    assert (r.stdout, r.stderr, r.exit_code) == ("hi\n", "oops\n", 0)
    assert r.cmd_id
    assert shared.commands.run(["printf", "%s|", "a b", "c"]).stdout == "a b|c|"  # argv, no shell
    assert shared.commands.run("pwd", cwd="/tmp").stdout == "/tmp\n"
    assert shared.commands.run("cat", stdin="from stdin").stdout == "from stdin"


def test_foreground_callbacks_receive_output(shared):
    out, err = [], []
    r = shared.commands.run("for i in 1 2 3; do echo $i; sleep 0.2; done; echo bad >&2", on_stdout=out.append, on_stderr=err.append)
    assert "".join(out) == "1\n2\n3\n" == r.stdout
    assert len(out) >= 2  # streamed as it came, not one block at the end
    assert "".join(err) == "bad\n" == r.stderr


def test_non_zero_exit_raises_command_exit_error(shared):
    with pytest.raises(berth.CommandExitError) as caught:
        shared.commands.run("echo partial; echo broken >&2; exit 3")
    e = caught.value
    assert (e.exit_code, e.stdout, e.stderr) == (3, "partial\n", "broken\n")
    assert isinstance(e, berth.CommandExitException) and isinstance(e, berth.SandboxException)
    with pytest.raises(berth.CommandExitError) as streamed:
        shared.commands.run("exit 7", on_stdout=lambda s: None)
    assert streamed.value.exit_code == 7


def test_command_timeout_kills_it(shared):
    with pytest.raises(berth.CommandExitError) as caught:
        shared.commands.run("sleep 30", timeout=1)
    assert caught.value.exit_code == 137


def test_bad_cwd_is_invalid_argument(shared):
    with pytest.raises(berth.InvalidArgumentError):
        shared.commands.run("true", cwd="/no/such/dir")


def test_background_logs_wait(shared):
    h = shared.commands.run("echo started; sleep 1; echo done; echo e >&2", background=True)
    assert isinstance(h, berth.CommandHandle) and h.pid
    assert h.status().running is True
    assert h.cmd_id in [p.cmd_id for p in shared.commands.list()]
    chunks = []
    result = h.wait(on_stdout=chunks.append)
    assert (result.stdout, result.stderr, result.exit_code) == ("started\ndone\n", "e\n", 0)
    assert "".join(chunks) == "started\ndone\n"
    logs = h.logs()
    assert (logs.stdout, logs.stderr, logs.status.state, logs.status.exit_code) == ("started\ndone\n", "e\n", "exited", 0)
    tail = h.logs(cursor=logs.cursor)
    assert (tail.stdout, tail.stderr) == ("", "")
    assert h.kill() is False  # already ended


def test_background_kill_and_reconnect(shared):
    h = shared.commands.run("echo up; sleep 300", background=True)
    same = shared.commands.connect(h.cmd_id)
    assert same.cmd_id == h.cmd_id and same.status().running
    deadline = time.monotonic() + 30
    while "up" not in h.logs().stdout and time.monotonic() < deadline:
        time.sleep(0.1)
    assert h.kill() is True
    with pytest.raises(berth.CommandExitError) as caught:
        h.wait()
    assert caught.value.exit_code == 137 and caught.value.stdout == "up\n"
    with pytest.raises(berth.NotFoundError):
        shared.commands.connect("cnosuchcommand")


def test_background_non_zero_exit(shared):
    h = shared.commands.run("exit 4", background=True)
    with pytest.raises(berth.CommandExitError) as caught:
        h.wait()
    assert caught.value.exit_code == 4
