"""``sandbox.pty``: interactive terminals (seed 004's shape).

``sandbox.pty.create(size=PtySize(rows=24, cols=80), on_data=...)`` starts a terminal (a login
shell by default) and attaches to it over a WebSocket; ``on_data`` gets raw output bytes from a
reader thread. ``send_stdin``, ``resize``, ``kill`` and ``connect(pid)`` (after a drop; the server
replays its scrollback) work by PID. With ``AsyncSandbox`` every method returns an awaitable and
``on_data`` runs on the event loop (a coroutine function is awaited there). Framing: docs/pty.md.
"""
from __future__ import annotations

import asyncio
import base64
import inspect
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import httpx
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect as ws_connect

from .errors import NotFoundError, TimeoutError, UnavailableError, error_from_response
from .lifecycle import sandbox_path
from .transport import Call, Op, run_sync

DataHandler = Callable[[bytes], Any]


@dataclass(frozen=True)
class PtySize:
    rows: int = 24
    cols: int = 80


@dataclass
class PtyInfo:
    """A terminal as the API describes it."""

    pid: int
    cols: int
    rows: int
    cmd: List[str]
    running: bool
    exit_code: Optional[int]
    attached: int
    user: Optional[str] = None
    cwd: Optional[str] = None
    started_at: Optional[str] = None

    @classmethod
    def from_api(cls, b: Mapping[str, Any]) -> "PtyInfo":
        return cls(int(b["pid"]), int(b["cols"]), int(b["rows"]), list(b.get("cmd") or []), bool(b["running"]),
                   b.get("exitCode"), int(b.get("attached", 0)), b.get("user"), b.get("cwd"), b.get("startedAt"))


def _path(sandbox_id: str, tail: str = "") -> str:
    return sandbox_path(sandbox_id, "/pty" + tail)


def _to_bytes(data: Union[str, bytes, bytearray]) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _create_op(sandbox_id: str, body: Dict[str, Any], request_timeout: Optional[float]) -> Op:
    reply = yield Call("POST", _path(sandbox_id), json=body, request_timeout=request_timeout)
    return PtyInfo.from_api(reply.json())


def _info_op(method: str, path: str, body: Any = None, request_timeout: Optional[float] = None) -> Op:
    reply = yield Call(method, path, json=body, request_timeout=request_timeout)
    return reply.json()


def _void_op(method: str, path: str, body: Any, request_timeout: Optional[float] = None) -> Op:
    yield Call(method, path, json=body, request_timeout=request_timeout)
    return None


class Pty:
    """Terminals of one sandbox (``sandbox.pty``)."""

    def __init__(self, run: Callable[[Op], Any], sandbox_id: str, config: Any, is_async: bool) -> None:
        self._run = run
        self._sandbox_id = sandbox_id
        self._config = config
        self._async = is_async

    def _then(self, result: Any, fn: Callable[[Any], Any]) -> Any:
        """Applies ``fn`` to a result that is a value (sync) or an awaitable (async)."""
        if inspect.isawaitable(result):
            async def chain() -> Any:
                return fn(await result)
            return chain()
        return fn(result)

    def create(
        self,
        size: Optional[PtySize] = None,
        on_data: Optional[DataHandler] = None,
        cwd: Optional[str] = None,
        envs: Optional[Mapping[str, str]] = None,
        user: Optional[str] = None,
        timeout: Optional[float] = None,
        cmd: Optional[Union[str, Sequence[str]]] = None,
        request_timeout: Optional[float] = None,
    ) -> Any:
        """Starts a terminal and attaches to it; returns a :class:`PtyHandle`.
        ``timeout`` (seconds) kills the terminal after it; none by default."""
        size = size or PtySize()
        body: Dict[str, Any] = {"cols": size.cols, "rows": size.rows}
        if cmd is not None:
            body["cmd"] = cmd if isinstance(cmd, str) else list(cmd)
        if envs:
            body["envs"] = dict(envs)
        if cwd:
            body["cwd"] = cwd
        if user:
            body["user"] = user
        if timeout:
            body["timeout"] = timeout
        created = self._run(_create_op(self._sandbox_id, body, request_timeout))
        if not self._async:
            return self._attach(created.pid, on_data, True)

        async def attach_async() -> "PtyHandle":
            info = await created
            return await self._attach_async(info.pid, on_data, True)
        return attach_async()

    def connect(self, pid: int, on_data: Optional[DataHandler] = None, scrollback: bool = True) -> Any:
        """Attaches to a running terminal by PID; ``scrollback`` replays what it printed before."""
        if not self._async:
            return self._attach(pid, on_data, scrollback)
        return self._attach_async(pid, on_data, scrollback)

    def _attach(self, pid: int, on_data: Optional[DataHandler], scrollback: bool, loop: Optional[asyncio.AbstractEventLoop] = None) -> "PtyHandle":
        handle = PtyHandle(self, pid, on_data, loop)
        url = self._config.api_url.replace("http", "ws", 1) + _path(self._sandbox_id, f"/{pid}/ws") + ("" if scrollback else "?scrollback=false")
        handle._open(url, self._config.headers(), self._config.request_timeout)
        return handle

    async def _attach_async(self, pid: int, on_data: Optional[DataHandler], scrollback: bool) -> "PtyHandle":
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._attach, pid, on_data, scrollback, loop)

    def list(self, request_timeout: Optional[float] = None) -> Any:
        """The sandbox's terminals (running, and recently exited ones) as :class:`PtyInfo`."""
        return self._then(self._run(_info_op("GET", _path(self._sandbox_id), None, request_timeout)),
                          lambda b: [PtyInfo.from_api(t) for t in b["terminals"]])

    def get(self, pid: int, request_timeout: Optional[float] = None) -> Any:
        return self._then(self._run(_info_op("GET", _path(self._sandbox_id, f"/{pid}"), None, request_timeout)), PtyInfo.from_api)

    def send_stdin(self, pid: int, data: Union[str, bytes], request_timeout: Optional[float] = None) -> Any:
        """Types ``data`` into the terminal (no attachment needed)."""
        body = {"data": base64.b64encode(_to_bytes(data)).decode("ascii"), "encoding": "base64"}
        return self._run(_void_op("POST", _path(self._sandbox_id, f"/{pid}/input"), body, request_timeout))

    def resize(self, pid: int, size: PtySize, request_timeout: Optional[float] = None) -> Any:
        return self._then(self._run(_info_op("POST", _path(self._sandbox_id, f"/{pid}/resize"), {"cols": size.cols, "rows": size.rows}, request_timeout)), PtyInfo.from_api)

    def signal(self, pid: int, signal: str, target: str = "foreground", request_timeout: Optional[float] = None) -> Any:
        """Sends ``signal`` to the foreground job (like a keyboard), the ``process`` or its ``session``; returns how many got it."""
        return self._then(self._run(_info_op("POST", _path(self._sandbox_id, f"/{pid}/signal"), {"signal": signal, "target": target}, request_timeout)),
                          lambda b: int(b["signalled"]))

    def kill(self, pid: int, request_timeout: Optional[float] = None) -> Any:
        """Kills the terminal's whole session; True when it was running, False when it was already gone or ended."""
        def op() -> Op:
            try:
                info = yield Call("GET", _path(self._sandbox_id, f"/{pid}"), request_timeout=request_timeout)
                if not info.json()["running"]:
                    return False
                yield Call("DELETE", _path(self._sandbox_id, f"/{pid}"), request_timeout=request_timeout)
                return True
            except NotFoundError:
                return False
        return self._run(op())


class PtyHandle:
    """An attached terminal: ``pid``, ``send_stdin``, ``resize``, ``kill``, ``wait``, ``disconnect``."""

    def __init__(self, pty: Pty, pid: int, on_data: Optional[DataHandler], loop: Optional[asyncio.AbstractEventLoop]) -> None:
        self._pty = pty
        self.pid = pid
        self._on_data = on_data
        self._loop = loop
        self._ws: Optional[ClientConnection] = None
        self._exit_code: Optional[int] = None
        self._exited = threading.Event()
        self._closed = threading.Event()
        self._reader: Optional[threading.Thread] = None

    # -- connection ------------------------------------------------------------------------
    def _open(self, url: str, headers: Dict[str, str], timeout: float) -> None:
        try:
            ws = ws_connect(url, additional_headers=headers, open_timeout=timeout, max_size=None, compression=None)
        except InvalidStatus as exc:
            body = exc.response.body or b""
            try:
                parsed: Any = json.loads(body) if body else None
            except ValueError:
                parsed = body.decode("utf-8", "replace")
            raise error_from_response(exc.response.status_code, parsed) from exc
        except (OSError, WebSocketException) as exc:
            raise UnavailableError(f"terminal connection failed: {exc}; check BERTH_API_URL", code="connection_error") from exc
        self._ws = ws
        first = ws.recv(timeout)  # the "attached" control message
        if isinstance(first, str):
            self._control(first)
        self._reader = threading.Thread(target=self._read, name=f"berth-pty-{self.pid}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            for message in ws:
                if isinstance(message, bytes):
                    self._deliver(message)
                else:
                    self._control(message)
        except WebSocketException:
            pass
        finally:
            self._closed.set()

    def _control(self, text: str) -> None:
        message = json.loads(text)
        if message.get("type") == "exit":
            self._exit_code = int(message["exitCode"])
            self._exited.set()

    def _deliver(self, data: bytes) -> None:
        callback = self._on_data
        if callback is None:
            return
        if self._loop is None:
            callback(data)
            return

        def on_loop() -> None:
            result = callback(data)
            if inspect.isawaitable(result):
                asyncio.ensure_future(result)
        self._loop.call_soon_threadsafe(on_loop)

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._closed.is_set()

    # -- operations ------------------------------------------------------------------------
    def _value(self, fn: Callable[[], Any]) -> Any:
        """Runs blocking ``fn`` now (sync) or in a worker thread (async)."""
        if self._loop is None:
            return fn()
        return self._loop.run_in_executor(None, fn)

    def send_stdin(self, data: Union[str, bytes]) -> Any:
        """Types ``data`` (over the WebSocket when attached, else over REST)."""
        payload = _to_bytes(data)
        if self.connected and self._ws is not None:
            ws = self._ws
            return self._value(lambda: ws.send(payload))
        return self._pty.send_stdin(self.pid, payload)

    def resize(self, size: PtySize) -> Any:
        return self._pty.resize(self.pid, size)

    def signal(self, signal: str, target: str = "foreground") -> Any:
        return self._pty.signal(self.pid, signal, target)

    def kill(self) -> Any:
        """Kills the terminal's whole session; True when it was running."""
        return self._pty.kill(self.pid)

    def _wait_blocking(self, timeout: Optional[float]) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._exited.wait(0.1):
                return self._exit_code if self._exit_code is not None else -1
            if self._closed.is_set() and not self._exited.is_set():
                # Not attached any more: ask the API.
                with httpx.Client() as client:
                    info = run_sync(client, self._pty._config, _info_op("GET", _path(self._pty._sandbox_id, f"/{self.pid}")))
                if not info["running"]:
                    return int(info["exitCode"]) if info.get("exitCode") is not None else -1
                time.sleep(0.4)
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"terminal {self.pid} still running after {timeout} s")

    def wait(self, timeout: Optional[float] = None) -> Any:
        """The exit code once the terminal's process ended (asks the API after a disconnect)."""
        return self._value(lambda: self._wait_blocking(timeout))

    def disconnect(self) -> Any:
        """Detaches; the terminal keeps running (``sandbox.pty.connect(pid)`` reattaches)."""
        ws = self._ws

        def close() -> None:
            if ws is not None:
                ws.close()
            if self._reader is not None:
                self._reader.join(5)
        return self._value(close)


__all__ = ["Pty", "PtyHandle", "PtyInfo", "PtySize"]
