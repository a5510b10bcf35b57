"""Named volumes of yours: ``Volume`` (sync) and ``AsyncVolume``. A volume outlives every sandbox
that mounts it; mount it with ``Sandbox.create(volumes=[{"name": ..., "mount_path": ...}])``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import quote

from .config import ConnectionConfig
from .errors import NotFoundError
from .models import parse_time
from .transport import Call, Op, new_async_client, new_sync_client, run_async, run_sync


@dataclass
class VolumeInfo:
    """What ``POST /volumes`` and ``GET /volumes/{name}`` answer."""

    name: str
    #: The size asked for at create: recorded, not enforced (see docs/volumes.md).
    size_mb: Optional[int]
    created_at: Optional[datetime]
    #: How many sandboxes mount it now.
    mounted_by: int

    @classmethod
    def from_api(cls, b: Mapping[str, Any]) -> "VolumeInfo":
        size = b["sizeMB"]
        return cls(name=b["name"], size_mb=None if size is None else int(size), created_at=parse_time(b["createdAt"]), mounted_by=int(b["mountedBy"]))


def _path(name: str) -> str:
    return f"/volumes/{quote(name, safe='')}"


def create(name: str, size_mb: Optional[int] = None, request_timeout: Optional[float] = None) -> Op:
    body: Dict[str, Any] = {"name": name}
    if size_mb is not None:
        body["sizeMB"] = size_mb
    reply = yield Call("POST", "/volumes", json=body, request_timeout=request_timeout)
    return VolumeInfo.from_api(reply.json())


def list_volumes(request_timeout: Optional[float] = None) -> Op:
    reply = yield Call("GET", "/volumes", request_timeout=request_timeout)
    return [VolumeInfo.from_api(v) for v in reply.json()["volumes"]]


def get_info(name: str, request_timeout: Optional[float] = None) -> Op:
    reply = yield Call("GET", _path(name), request_timeout=request_timeout)
    return VolumeInfo.from_api(reply.json())


def destroy(name: str, request_timeout: Optional[float] = None) -> Op:
    """True when deleted, False when it did not exist; ConflictError while a sandbox mounts it."""
    try:
        yield Call("DELETE", _path(name), request_timeout=request_timeout)
    except NotFoundError:
        return False
    return True


def mount_body(volumes: Any) -> List[Dict[str, Any]]:
    """``volumes`` of a create: ``[{"name", "mount_path", "read_only"?}]`` (camelCase keys work too)."""
    names = {"name": "name", "mount_path": "mountPath", "mountPath": "mountPath", "read_only": "readOnly", "readOnly": "readOnly"}
    return [{names.get(k, k): v for k, v in dict(m).items() if v is not None} for m in volumes]


class _Conn:
    @staticmethod
    def _config(api_key: Optional[str], domain: Optional[str], request_timeout: Optional[float], api_url: Optional[str]) -> ConnectionConfig:
        return ConnectionConfig.resolve(api_key, domain, request_timeout, api_url)


class Volume(_Conn):
    """Static calls on your volumes (sync). Connection options as for ``Sandbox``."""

    @staticmethod
    def _run(op: Op, api_key: Optional[str], domain: Optional[str], request_timeout: Optional[float], api_url: Optional[str]) -> Any:
        with new_sync_client() as client:
            return run_sync(client, _Conn._config(api_key, domain, request_timeout, api_url), op)

    @staticmethod
    def create(name: str, size_mb: Optional[int] = None, api_key: Optional[str] = None, domain: Optional[str] = None,
               request_timeout: Optional[float] = None, api_url: Optional[str] = None) -> VolumeInfo:
        """Creates a volume; ConflictError when the name exists, RateLimitedError past the per-owner cap."""
        return Volume._run(create(name, size_mb), api_key, domain, request_timeout, api_url)

    @staticmethod
    def list(api_key: Optional[str] = None, domain: Optional[str] = None, request_timeout: Optional[float] = None,
             api_url: Optional[str] = None) -> List[VolumeInfo]:
        """Your volumes, by name."""
        return Volume._run(list_volumes(), api_key, domain, request_timeout, api_url)

    @staticmethod
    def get_info(name: str, api_key: Optional[str] = None, domain: Optional[str] = None, request_timeout: Optional[float] = None,
                 api_url: Optional[str] = None) -> VolumeInfo:
        """One volume; NotFoundError when it does not exist or is another owner's."""
        return Volume._run(get_info(name), api_key, domain, request_timeout, api_url)

    @staticmethod
    def destroy(name: str, api_key: Optional[str] = None, domain: Optional[str] = None, request_timeout: Optional[float] = None,
                api_url: Optional[str] = None) -> bool:
        """Deletes it and its data: True, False when it did not exist; ConflictError while mounted."""
        return Volume._run(destroy(name), api_key, domain, request_timeout, api_url)


class AsyncVolume(_Conn):
    """The async twin of :class:`Volume`."""

    @staticmethod
    async def _run(op: Op, api_key: Optional[str], domain: Optional[str], request_timeout: Optional[float], api_url: Optional[str]) -> Any:
        async with new_async_client() as client:
            return await run_async(client, _Conn._config(api_key, domain, request_timeout, api_url), op)

    @staticmethod
    async def create(name: str, size_mb: Optional[int] = None, api_key: Optional[str] = None, domain: Optional[str] = None,
                     request_timeout: Optional[float] = None, api_url: Optional[str] = None) -> VolumeInfo:
        return await AsyncVolume._run(create(name, size_mb), api_key, domain, request_timeout, api_url)

    @staticmethod
    async def list(api_key: Optional[str] = None, domain: Optional[str] = None, request_timeout: Optional[float] = None,
                   api_url: Optional[str] = None) -> List[VolumeInfo]:
        return await AsyncVolume._run(list_volumes(), api_key, domain, request_timeout, api_url)

    @staticmethod
    async def get_info(name: str, api_key: Optional[str] = None, domain: Optional[str] = None, request_timeout: Optional[float] = None,
                       api_url: Optional[str] = None) -> VolumeInfo:
        return await AsyncVolume._run(get_info(name), api_key, domain, request_timeout, api_url)

    @staticmethod
    async def destroy(name: str, api_key: Optional[str] = None, domain: Optional[str] = None, request_timeout: Optional[float] = None,
                      api_url: Optional[str] = None) -> bool:
        return await AsyncVolume._run(destroy(name), api_key, domain, request_timeout, api_url)
