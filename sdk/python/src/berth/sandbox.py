"""``Sandbox`` (sync) and ``AsyncSandbox``: one sandbox, its commands and files.

Both share every operation (:mod:`berth.lifecycle`, :mod:`berth.commands`, :mod:`berth.files`);
they differ only in the HTTP client that drives them. The context managers close the HTTP
client and never kill the sandbox.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Union

import httpx

from . import lifecycle as _lc
from . import snapshots as _snap
from .commands import Commands
from .config import ConnectionConfig
from .files import Filesystem
from .helpers import HelpersMixin
from .pty import Pty
from .models import SandboxInfo, SandboxQuery
from .transport import Op, new_async_client, new_sync_client, run_async, run_sync

Query = Union[SandboxQuery, Mapping[str, Any], None]


class _OnInstanceOrById:
    """A method usable as ``sbx.kill()`` and, E2B-style, as ``Sandbox.kill(sandbox_id, api_key=…, domain=…)``."""

    def __init__(self, make_op: Callable[..., Op], doc: str) -> None:
        self._make_op = make_op
        self.__doc__ = doc

    def __get__(self, obj: Any, objtype: Any = None) -> Callable[..., Any]:
        make_op = self._make_op
        if obj is not None:
            return lambda *args, **kwargs: obj._run(make_op(obj.sandbox_id, *args, **kwargs))

        def by_id(sandbox_id: str, *args: Any, api_key: Optional[str] = None, domain: Optional[str] = None,
                  request_timeout: Optional[float] = None, api_url: Optional[str] = None, **kwargs: Any) -> Any:
            config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
            return objtype._run_once(config, make_op(sandbox_id, *args, **kwargs))

        return by_id


class _SandboxBase(HelpersMixin):
    sandbox_id: str
    _config: ConnectionConfig

    def _bind(self, sandbox_id: str, info: Optional[SandboxInfo]) -> None:
        self.sandbox_id = sandbox_id
        self._info = info
        self.commands = Commands(self._run, sandbox_id)
        self.files = Filesystem(self._run, sandbox_id)
        self.pty = Pty(self._run, sandbox_id, self._config, isinstance(self, AsyncSandbox))

    @property
    def info(self) -> Optional[SandboxInfo]:
        """The info from create / connect (call ``get_info()`` for a fresh one)."""
        return self._info





    kill = _OnInstanceOrById(_lc.kill, "True when killed, False when it was already gone.")
    is_running = _OnInstanceOrById(_lc.is_running, "True when the sandbox's state is running.")
    get_info = _OnInstanceOrById(_lc.get_info, "SandboxInfo, fresh from the API.")
    set_timeout = _OnInstanceOrById(_lc.set_timeout, "Idle timeout = timeout s and end_at = now + timeout (may shorten). Returns SandboxInfo.")
    get_metrics = _OnInstanceOrById(_lc.get_metrics, "list[SandboxMetrics]: the retained series, then the current sample.")

    def refresh(self, duration: float, request_timeout: Optional[float] = None) -> Any:
        """Keep alive: ``end_at = max(end_at, now + duration)`` (never shortens). Returns SandboxInfo."""
        return self._run(_lc.refresh(self.sandbox_id, duration, request_timeout))


    def pause(self, request_timeout: Optional[float] = None, mode: Optional[str] = None) -> Any:
        """Pauses the sandbox; ConflictError when already paused. Returns SandboxInfo.

        ``mode="freeze"`` (the server's default) keeps processes and memory; ``mode="disk"`` keeps
        the files only: the container is saved and removed (no memory or CPU held, survives an
        engine restart) and starts afresh on resume. See docs/pause.md.
        """
        return self._run(_lc.pause(self.sandbox_id, request_timeout, mode))

    def resume(self, request_timeout: Optional[float] = None) -> Any:
        """Thaws a paused sandbox; ConflictError when running. Returns SandboxInfo."""
        return self._run(_lc.resume(self.sandbox_id, request_timeout))

    def get_endpoint(self, port: int, request_timeout: Optional[float] = None) -> Any:
        """``{"port", "url", "websocket_url", "auth"}``: the authenticated proxy URL of ``port``."""
        return self._run(_lc.endpoint(self.sandbox_id, port, request_timeout))

    create_snapshot = _OnInstanceOrById(
        _snap.create_snapshot,
        "Snapshots the sandbox's filesystem (a running sandbox is frozen for the commit; a paused one stays paused). Returns SnapshotInfo.",
    )
    #: Seed 004's name for the same call: every call makes a new snapshot that survives ``kill()``.
    snapshot = create_snapshot
    list_snapshots = _OnInstanceOrById(_snap.list_of_sandbox, "list[SnapshotInfo]: this sandbox's snapshots, newest first (also after it stopped).")

    def get_events(self, request_timeout: Optional[float] = None) -> Any:
        """Transitions ``[{at, status, reason, detail?}]``; readable after the sandbox stopped too."""
        return self._run(_lc.events(self.sandbox_id, request_timeout))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sandbox_id={self.sandbox_id!r})"


class Sandbox(_SandboxBase):
    """A sandbox. ``Sandbox(template=..., timeout=...)`` creates one (like ``Sandbox.create``);
    ``Sandbox(sandbox_id=...)`` reconnects to an existing one (seed 000)."""

    def __init__(
        self,
        template: Optional[str] = None,
        timeout: Optional[int] = None,
        metadata: Optional[Mapping[str, str]] = None,
        envs: Optional[Mapping[str, str]] = None,
        resources: Optional[Mapping[str, Any]] = None,
        lifecycle: Optional[Mapping[str, Any]] = None,  # seed 004's parameter name
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        sandbox_id: Optional[str] = None,
        *,
        api_url: Optional[str] = None,
        image: Optional[str] = None,
        network: Optional[Mapping[str, Any]] = None,
        allow_internet_access: Optional[bool] = None,
        volumes: Optional[Sequence[Mapping[str, Any]]] = None,
        _info: Optional[SandboxInfo] = None,
        _client: Optional[httpx.Client] = None,
    ) -> None:
        self._config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        self._client = _client or new_sync_client()
        if _info is None:
            try:
                if sandbox_id:
                    _info = self._run(_lc.connect(sandbox_id, timeout))
                else:
                    body = _lc.create_body(template, timeout, metadata, envs, resources, lifecycle, image, network, allow_internet_access, volumes)
                    _info = self._run(_lc.create(body))
            except BaseException:
                self._client.close()
                raise
        self._bind(_info.sandbox_id, _info)

    def _run(self, op: Op) -> Any:
        return run_sync(self._client, self._config, op)

    @staticmethod
    def _run_once(config: ConnectionConfig, op: Op) -> Any:
        with new_sync_client() as client:
            return run_sync(client, config, op)

    @classmethod
    def create(
        cls,
        template: Optional[str] = None,
        timeout: Optional[int] = None,
        metadata: Optional[Mapping[str, str]] = None,
        envs: Optional[Mapping[str, str]] = None,
        resources: Optional[Mapping[str, Any]] = None,
        lifecycle: Optional[Mapping[str, Any]] = None,
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        api_url: Optional[str] = None,
        image: Optional[str] = None,
        network: Optional[Mapping[str, Any]] = None,
        allow_internet_access: Optional[bool] = None,
        volumes: Optional[Sequence[Mapping[str, Any]]] = None,
    ) -> "Sandbox":
        """Creates a sandbox (waits until it runs) and returns it connected. ``volumes``:
        ``[{"name": <a volume of yours>, "mount_path": "/data", "read_only": False}]``."""
        return cls(template, timeout, metadata, envs, resources, lifecycle, api_key, domain, request_timeout, api_url=api_url, image=image, network=network,
                   allow_internet_access=allow_internet_access, volumes=volumes)

    @classmethod
    def connect(
        cls,
        sandbox_id: str,
        timeout: Optional[int] = None,
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        api_url: Optional[str] = None,
    ) -> "Sandbox":
        """Connects to an existing sandbox (resumes it if paused; ``timeout`` keeps it alive that long)."""
        return cls(timeout=timeout, api_key=api_key, domain=domain, request_timeout=request_timeout, sandbox_id=sandbox_id, api_url=api_url)

    @staticmethod
    def list(
        query: Query = None,
        limit: Optional[int] = None,
        next_token: Optional[str] = None,
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        api_url: Optional[str] = None,
    ) -> Dict[str, Any]:
        """``{"sandboxes": [...], "next_token": ...}``; ``query`` = SandboxQuery or ``{"metadata": {...}, "state": [...]}``."""
        config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        with new_sync_client() as client:
            return run_sync(client, config, _lc.list_sandboxes(query, limit, next_token))

    @classmethod
    def restore(
        cls,
        sandbox_or_snapshot_id: str,
        snapshot_id: Optional[str] = None,
        timeout: Optional[int] = None,
        metadata: Optional[Mapping[str, str]] = None,
        envs: Optional[Mapping[str, str]] = None,
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        api_url: Optional[str] = None,
    ) -> "Sandbox":
        """A new sandbox booted from a snapshot (``snapshot_id``; a snapshot ID as first argument; or the
        newest snapshot of the sandbox ID given), connected. Files are the snapshot's; processes start afresh."""
        config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        body = _restore_body(timeout, metadata, envs)
        info = cls._run_once(config, _snap.restore(sandbox_or_snapshot_id, snapshot_id, body))
        return cls(api_key=api_key, domain=domain, request_timeout=request_timeout, api_url=api_url, _info=info)

    @staticmethod
    def list_all_snapshots(
        limit: Optional[int] = None,
        next_token: Optional[str] = None,
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        api_url: Optional[str] = None,
    ) -> Dict[str, Any]:
        """``{"snapshots": [SnapshotInfo…], "next_token": ...}``: all your snapshots, newest first."""
        config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        return Sandbox._run_once(config, _snap.list_snapshots(limit, next_token))

    @staticmethod
    def get_snapshot(snapshot_id: str, api_key: Optional[str] = None, domain: Optional[str] = None,
                     request_timeout: Optional[float] = None, api_url: Optional[str] = None) -> Any:
        """SnapshotInfo of one of your snapshots (NotFoundError otherwise)."""
        config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        return Sandbox._run_once(config, _snap.get_snapshot(snapshot_id))

    @staticmethod
    def delete_snapshot(snapshot_id: str, api_key: Optional[str] = None, domain: Optional[str] = None,
                        request_timeout: Optional[float] = None, api_url: Optional[str] = None) -> bool:
        """True when deleted, False when already gone; ConflictError while a sandbox booted from it lives."""
        config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        return bool(Sandbox._run_once(config, _snap.delete_snapshot(snapshot_id)))

    def close(self) -> None:
        """Closes the HTTP client; the sandbox keeps running."""
        self._client.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncSandbox(_SandboxBase):
    """The async twin of :class:`Sandbox`: build it with ``await AsyncSandbox.create(...)`` or
    ``await AsyncSandbox.connect(id)``; every method returns an awaitable."""

    def __init__(self, config: ConnectionConfig, client: httpx.AsyncClient, info: SandboxInfo) -> None:
        self._config = config
        self._client = client
        self._bind(info.sandbox_id, info)

    def _run(self, op: Op) -> Any:
        return run_async(self._client, self._config, op)

    @staticmethod
    async def _run_once(config: ConnectionConfig, op: Op) -> Any:
        async with new_async_client() as client:
            return await run_async(client, config, op)

    @classmethod
    async def _open(cls, config: ConnectionConfig, op: Op) -> "AsyncSandbox":
        client = new_async_client()
        try:
            info = await run_async(client, config, op)
        except BaseException:
            await client.aclose()
            raise
        return cls(config, client, info)

    @classmethod
    async def create(
        cls,
        template: Optional[str] = None,
        timeout: Optional[int] = None,
        metadata: Optional[Mapping[str, str]] = None,
        envs: Optional[Mapping[str, str]] = None,
        resources: Optional[Mapping[str, Any]] = None,
        lifecycle: Optional[Mapping[str, Any]] = None,
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        api_url: Optional[str] = None,
        image: Optional[str] = None,
        network: Optional[Mapping[str, Any]] = None,
        allow_internet_access: Optional[bool] = None,
        volumes: Optional[Sequence[Mapping[str, Any]]] = None,
    ) -> "AsyncSandbox":
        config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        body = _lc.create_body(template, timeout, metadata, envs, resources, lifecycle, image, network, allow_internet_access, volumes)
        return await cls._open(config, _lc.create(body))

    @classmethod
    async def connect(
        cls,
        sandbox_id: str,
        timeout: Optional[int] = None,
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        api_url: Optional[str] = None,
    ) -> "AsyncSandbox":
        config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        return await cls._open(config, _lc.connect(sandbox_id, timeout))

    @staticmethod
    async def list(
        query: Query = None,
        limit: Optional[int] = None,
        next_token: Optional[str] = None,
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        api_url: Optional[str] = None,
    ) -> Dict[str, Any]:
        config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        async with new_async_client() as client:
            return await run_async(client, config, _lc.list_sandboxes(query, limit, next_token))

    @classmethod
    async def restore(
        cls,
        sandbox_or_snapshot_id: str,
        snapshot_id: Optional[str] = None,
        timeout: Optional[int] = None,
        metadata: Optional[Mapping[str, str]] = None,
        envs: Optional[Mapping[str, str]] = None,
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        api_url: Optional[str] = None,
    ) -> "AsyncSandbox":
        """The async twin of :meth:`Sandbox.restore`."""
        config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        return await cls._open(config, _snap.restore(sandbox_or_snapshot_id, snapshot_id, _restore_body(timeout, metadata, envs)))

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> "AsyncSandbox":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()



def _restore_body(timeout: Optional[int], metadata: Optional[Mapping[str, str]], envs: Optional[Mapping[str, str]]) -> Dict[str, Any]:
    body: Dict[str, Any] = {}
    if timeout is not None:
        body["timeout"] = timeout
    if metadata:
        body["metadata"] = dict(metadata)
    if envs:
        body["envs"] = dict(envs)
    return body
