"""Terminals (sandbox.pty) against a live berth: create, type, resize, reconnect by PID, signal, kill, exit codes."""
from __future__ import annotations

import asyncio
import os
import re
import threading
import time

import pytest

import berth
from berth import AsyncSandbox, PtySize

TEMPLATE = os.environ.get("BERTH_TEST_TEMPLATE", "tiny")


class Output:
    """Collects on_data bytes from the reader thread."""

    def __init__(self) -> None:
        self.data = b""
        self.lock = threading.Lock()

    def __call__(self, chunk: bytes) -> None:
        assert isinstance(chunk, bytes)
        with self.lock:
            self.data += chunk

    def wait_for(self, pattern: bytes, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                m = re.search(pattern, self.data, re.S)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"output never matched {pattern!r}: {self.data[-2000:]!r}")
            time.sleep(0.05)


def test_pty_type_resize_reconnect_exit(shared):
    out = Output()
    term = shared.pty.create(size=PtySize(rows=20, cols=90), on_data=out)
    assert term.pid > 1
    term.send_stdin("echo py-$((40+2)); stty size\n")
    out.wait_for(rb"\r\npy-42\r\n20 90\r\n")
    term.resize(PtySize(rows=33, cols=120))
    term.send_stdin(b"stty size\n")
    out.wait_for(rb"\r\n33 120\r\n")
    assert term.pid in [t.pid for t in shared.pty.list()]

    term.disconnect()
    shared.pty.send_stdin(term.pid, "echo while-away\n")
    again = Output()
    back = shared.pty.connect(term.pid, on_data=again)
    again.wait_for(rb"\r\npy-42\r\n.*\r\nwhile-away\r\n")  # the scrollback, then what came meanwhile

    back.send_stdin("sleep 300\n")
    deadline = time.monotonic() + 30
    while b"rc=130" not in again.data:  # SIGINT reaches the foreground sleep (the shell ignores it)
        assert time.monotonic() < deadline, again.data[-500:]
        back.signal("SIGINT")
        back.send_stdin("echo rc=$?\n")
        time.sleep(0.5)
    back.send_stdin("exit 3\n")
    assert back.wait(timeout=30) == 3
    assert term.wait(timeout=30) == 3  # disconnected: asks the API


def test_pty_kill_and_errors(shared):
    term = shared.pty.create(cmd=["sleep", "300"])
    assert term.kill() is True
    assert term.wait(timeout=30) == 137
    assert shared.pty.kill(term.pid) is False  # already ended
    with pytest.raises(berth.NotFoundError):
        shared.pty.connect(999999)
    with pytest.raises(berth.InvalidArgumentError):
        shared.pty.create(size=PtySize(rows=0, cols=10))
    with pytest.raises(berth.InvalidArgumentError):
        shared.pty.create(cwd="/no/such/dir")


async def test_async_pty(live):
    sbx = await AsyncSandbox.create(template=TEMPLATE, timeout=120)
    try:
        chunks = []

        async def on_data(chunk: bytes) -> None:
            chunks.append(chunk)

        term = await sbx.pty.create(size=PtySize(rows=10, cols=40), on_data=on_data)
        await term.send_stdin("echo async-$((40+2)); exit 5\n")
        assert await term.wait(timeout=30) == 5
        deadline = time.monotonic() + 10
        while b"\r\nasync-42\r\n" not in b"".join(chunks):
            assert time.monotonic() < deadline, b"".join(chunks)
            await asyncio.sleep(0.05)
        assert [t.exit_code for t in await sbx.pty.list() if t.pid == term.pid] == [5]
    finally:
        await sbx.kill()
        await sbx.close()
