"""``sandbox.commands``: run commands in the foreground (buffered, or streamed to callbacks)
or in the background (a :class:`CommandHandle` with wait / logs / kill).

Semantics follow E2B: a foreground ``run`` and ``handle.wait()`` raise
:class:`~berth.errors.CommandExitError` when the exit code is not 0 (the error carries
``exit_code``, ``stdout`` and ``stderr``). The same class serves the sync and the async
sandbox: with ``AsyncSandbox`` every method returns an awaitable.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union
from urllib.parse import quote

from .errors import CommandExitError, ConflictError, UnavailableError
from .lifecycle import sandbox_path
from .models import CommandLogs, CommandResult, ProcessInfo
from .transport import Call, Op, maybe_call

DEFAULT_COMMAND_TIMEOUT_S = 60
OutputHandler = Callable[[str], Any]


def _cmd_path(sandbox_id: str, cmd_id: str = "", tail: str = "") -> str:
    return sandbox_path(sandbox_id, "/commands" + (f"/{quote(cmd_id, safe='')}" if cmd_id else "") + tail)


def command_body(
    cmd: Union[str, Sequence[str]],
    background: bool,
    envs: Optional[Mapping[str, str]],
    cwd: Optional[str],
    user: Optional[str],
    timeout: Optional[float],
    stdin: Optional[str],
) -> Dict[str, Any]:
    body: Dict[str, Any] = {"cmd": cmd if isinstance(cmd, str) else list(cmd)}
    if background:
        body["background"] = True
    if envs:
        body["envs"] = dict(envs)
    if cwd:
        body["cwd"] = cwd
    if user:
        body["user"] = user
    if timeout:  # 0 / None: no limit
        body["timeout"] = timeout
    if stdin is not None:
        body["stdin"] = stdin
    return body


def _check_exit(result: CommandResult) -> CommandResult:
    if result.exit_code != 0:
        raise CommandExitError(result.exit_code, result.stdout, result.stderr, result.error)
    return result


def run_foreground(sandbox_id: str, body: Dict[str, Any], on_stdout: Optional[OutputHandler], on_stderr: Optional[OutputHandler], request_timeout: Optional[float]) -> Op:
    if on_stdout is None and on_stderr is None:
        reply = yield Call("POST", _cmd_path(sandbox_id), json=body, request_timeout=request_timeout)
        b = reply.json()
        result = CommandResult(b.get("stdout", ""), b.get("stderr", ""), int(b["exitCode"]), b.get("cmdID"), bool(b.get("timedOut")))
        return _check_exit(result)
    out: List[str] = []
    err: List[str] = []
    state: Dict[str, Any] = {}

    def on_event(name: str, data: Dict[str, Any]) -> Any:
        if name == "start":
            state["cmd_id"] = data.get("cmdID")
        elif name == "stdout":
            out.append(data.get("data", ""))
            return maybe_call(on_stdout, data.get("data", ""))
        elif name == "stderr":
            err.append(data.get("data", ""))
            return maybe_call(on_stderr, data.get("data", ""))
        elif name == "end":
            state["end"] = data
        return None

    yield Call("POST", _cmd_path(sandbox_id), json={**body, "stream": True}, on_event=on_event, request_timeout=request_timeout)
    end = state.get("end")
    if end is None:
        raise UnavailableError("the command stream ended before the command did; run it again", code="stream_broken")
    return _check_exit(CommandResult("".join(out), "".join(err), int(end["exitCode"]), state.get("cmd_id"), bool(end.get("timedOut"))))


def start_background(sandbox_id: str, body: Dict[str, Any], request_timeout: Optional[float]) -> Op:
    reply = yield Call("POST", _cmd_path(sandbox_id), json=body, request_timeout=request_timeout)
    return ProcessInfo.from_api(reply.json())


def wait(sandbox_id: str, cmd_id: str, on_stdout: Optional[OutputHandler], on_stderr: Optional[OutputHandler]) -> Op:
    """Follows the logs from the start to the end; calls back on each chunk."""
    out: List[str] = []
    err: List[str] = []
    state: Dict[str, Any] = {}

    def on_event(name: str, data: Dict[str, Any]) -> Any:
        if name in ("stdout", "stderr"):
            (out if name == "stdout" else err).append(data.get("data", ""))
            return maybe_call(on_stdout if name == "stdout" else on_stderr, data.get("data", ""))
        if name == "end":
            state["end"] = data
        return None

    yield Call("GET", _cmd_path(sandbox_id, cmd_id, "/logs"), params=[("follow", "true")], on_event=on_event)
    end = state.get("end")
    if end is None:
        raise UnavailableError("the log stream ended before the command did; call wait() again", code="stream_broken")
    code = end.get("exitCode")
    error = None if end.get("state") != "lost" else "the command vanished without an exit code (state lost)"
    return _check_exit(CommandResult("".join(out), "".join(err), -1 if code is None else int(code), cmd_id, bool(end.get("timedOut")), error))


def read_logs(sandbox_id: str, cmd_id: str, cursor: str = "") -> Op:
    """Everything written since ``cursor`` (reads on while the server says ``more``)."""
    out: List[str] = []
    err: List[str] = []
    while True:
        reply = yield Call("GET", _cmd_path(sandbox_id, cmd_id, "/logs"), params=[("cursor", cursor)] if cursor else None)
        b = reply.json()
        out.append(b.get("stdout", ""))
        err.append(b.get("stderr", ""))
        cursor = b.get("cursor", cursor)
        if not b.get("more"):
            return CommandLogs("".join(out), "".join(err), cursor, ProcessInfo.from_api(b["status"]))


def status(sandbox_id: str, cmd_id: str) -> Op:
    reply = yield Call("GET", _cmd_path(sandbox_id, cmd_id))
    return ProcessInfo.from_api(reply.json())


def list_commands(sandbox_id: str) -> Op:
    reply = yield Call("GET", _cmd_path(sandbox_id))
    return [ProcessInfo.from_api(c) for c in reply.json().get("commands", [])]


def signal(sandbox_id: str, cmd_id: str, name: str) -> Op:
    """True when signalled, False when the command is no longer running (409)."""
    try:
        yield Call("POST", _cmd_path(sandbox_id, cmd_id, "/signal"), json={"signal": name})
    except ConflictError:
        return False
    return True


class CommandHandle:
    """A background command. With ``AsyncSandbox`` its methods return awaitables."""

    def __init__(self, run: Callable[[Op], Any], sandbox_id: str, info: ProcessInfo) -> None:
        self._run = run
        self.sandbox_id = sandbox_id
        self.cmd_id = info.cmd_id
        self.pid = info.pid
        self.info = info

    def wait(self, on_stdout: Optional[OutputHandler] = None, on_stderr: Optional[OutputHandler] = None) -> Any:
        """Waits for the end; returns a CommandResult, raises CommandExitError on a non-zero exit."""
        return self._run(wait(self.sandbox_id, self.cmd_id, on_stdout, on_stderr))

    def logs(self, cursor: str = "") -> Any:
        """CommandLogs: the output so far (from ``cursor``) and the status."""
        return self._run(read_logs(self.sandbox_id, self.cmd_id, cursor))

    def status(self) -> Any:
        return self._run(status(self.sandbox_id, self.cmd_id))

    def kill(self) -> Any:
        """SIGKILL the command (and its children); False when it had already ended."""
        return self._run(signal(self.sandbox_id, self.cmd_id, "KILL"))

    def send_signal(self, name: str) -> Any:
        return self._run(signal(self.sandbox_id, self.cmd_id, name))


def _connect(run: Callable[[Op], Any], sandbox_id: str, cmd_id: str) -> Op:
    info = yield from status(sandbox_id, cmd_id)
    return CommandHandle(run, sandbox_id, info)


def _start(run: Callable[[Op], Any], sandbox_id: str, body: Dict[str, Any], request_timeout: Optional[float]) -> Op:
    info = yield from start_background(sandbox_id, body, request_timeout)
    return CommandHandle(run, sandbox_id, info)


class Commands:
    """``sandbox.commands``."""

    def __init__(self, run: Callable[[Op], Any], sandbox_id: str) -> None:
        self._run = run
        self._sandbox_id = sandbox_id

    def run(
        self,
        cmd: Union[str, Sequence[str]],
        background: bool = False,
        envs: Optional[Mapping[str, str]] = None,
        cwd: Optional[str] = None,
        user: Optional[str] = None,
        on_stdout: Optional[OutputHandler] = None,
        on_stderr: Optional[OutputHandler] = None,
        stdin: Optional[str] = None,
        timeout: Optional[float] = DEFAULT_COMMAND_TIMEOUT_S,
        request_timeout: Optional[float] = None,
    ) -> Any:
        """Runs ``cmd`` (a shell string, or an argv list run without a shell).

        Foreground: returns a CommandResult, raises CommandExitError on a non-zero exit;
        ``on_stdout`` / ``on_stderr`` receive output as it arrives. ``timeout`` (seconds,
        default 60, 0/None = none) kills the command. Background: returns a CommandHandle.
        """
        body = command_body(cmd, background, envs, cwd, user, timeout, stdin)
        if background:
            return self._run(_start(self._run, self._sandbox_id, body, request_timeout))
        if request_timeout is None and timeout:
            request_timeout = float(timeout) + 30
        return self._run(run_foreground(self._sandbox_id, body, on_stdout, on_stderr, request_timeout))

    def list(self) -> Any:
        """Background commands (ProcessInfo), oldest first."""
        return self._run(list_commands(self._sandbox_id))

    def connect(self, cmd_id: str) -> Any:
        """A CommandHandle for a background command started earlier (also by another client)."""
        return self._run(_connect(self._run, self._sandbox_id, cmd_id))

    def kill(self, cmd_id: str) -> Any:
        """SIGKILL a background command; False when it was not running."""
        return self._run(signal(self._sandbox_id, cmd_id, "KILL"))

    def send_signal(self, cmd_id: str, name: str) -> Any:
        return self._run(signal(self._sandbox_id, cmd_id, name))
