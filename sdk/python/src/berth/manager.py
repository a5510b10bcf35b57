"""``SandboxManager`` (OpenSandbox): administer sandboxes by ID without holding a Sandbox."""
from __future__ import annotations

from typing import Any, Mapping, Optional, Union

from . import lifecycle as _lc
from .config import ConnectionConfig
from .models import SandboxQuery
from .transport import Op, new_async_client, new_sync_client, run_async, run_sync


class _ManagerBase:
    def _run(self, op: Op) -> Any:
        raise NotImplementedError

    def list_sandbox_infos(self, query: Union[SandboxQuery, Mapping[str, Any], None] = None, limit: Optional[int] = None, next_token: Optional[str] = None) -> Any:
        """``{"sandboxes": [...], "next_token": ...}`` like ``Sandbox.list``."""
        return self._run(_lc.list_sandboxes(query, limit, next_token))

    list = list_sandbox_infos

    def get_sandbox_info(self, sandbox_id: str) -> Any:
        return self._run(_lc.get_info(sandbox_id))

    get = get_sandbox_info

    def kill_sandbox(self, sandbox_id: str) -> Any:
        """True when killed, False when already gone."""
        return self._run(_lc.kill(sandbox_id))

    kill = kill_sandbox

    def renew_sandbox(self, sandbox_id: str, seconds: float) -> Any:
        """Keeps it alive at least ``seconds`` from now (``refresh``); returns SandboxInfo."""
        return self._run(_lc.refresh(sandbox_id, seconds))

    renew = renew_sandbox

    def pause_sandbox(self, sandbox_id: str) -> Any:
        return self._run(_lc.pause(sandbox_id))

    pause = pause_sandbox

    def resume_sandbox(self, sandbox_id: str) -> Any:
        return self._run(_lc.resume(sandbox_id))

    resume = resume_sandbox


class SandboxManager(_ManagerBase):
    def __init__(self, api_key: Optional[str] = None, domain: Optional[str] = None, request_timeout: Optional[float] = None, api_url: Optional[str] = None) -> None:
        self._config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        self._client = new_sync_client()

    @classmethod
    def create(cls, api_key: Optional[str] = None, domain: Optional[str] = None, request_timeout: Optional[float] = None, api_url: Optional[str] = None) -> "SandboxManager":
        return cls(api_key, domain, request_timeout, api_url)

    def _run(self, op: Op) -> Any:
        return run_sync(self._client, self._config, op)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "SandboxManager":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncSandboxManager(_ManagerBase):
    def __init__(self, api_key: Optional[str] = None, domain: Optional[str] = None, request_timeout: Optional[float] = None, api_url: Optional[str] = None) -> None:
        self._config = ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)
        self._client = new_async_client()

    def _run(self, op: Op) -> Any:
        return run_async(self._client, self._config, op)

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> "AsyncSandboxManager":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
