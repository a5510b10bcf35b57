"""Lifecycle operations (create, info, list, kill, timeouts, pause/resume, metrics), written once
as :mod:`berth.transport` ops and driven by both :class:`~berth.Sandbox` and :class:`~berth.AsyncSandbox`."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import quote

from .errors import NotFoundError
from .models import SandboxInfo, SandboxMetrics, SandboxQuery, listed_sandbox
from .transport import Call, Op
from .volumes import mount_body

DEFAULT_TEMPLATE = "base"

_RESOURCE_KEYS = {"cpu": "cpu", "memory_mb": "memoryMB", "memoryMB": "memoryMB"}
_NETWORK_KEYS = {
    "allow_internet": "allowInternet", "allowInternet": "allowInternet",
    "allow_out": "allowOut", "allowOut": "allowOut", "deny_out": "denyOut", "denyOut": "denyOut",
}
_LIFECYCLE_KEYS = {
    "on_timeout": "onTimeout", "onTimeout": "onTimeout", "auto_resume": "autoResume", "autoResume": "autoResume",
    # "idle" (default: interactions move end_at) or "absolute" (end_at = start + timeout; see docs/lifecycle.md)
    "timeout_mode": "timeoutMode", "timeoutMode": "timeoutMode",
}


def sandbox_path(sandbox_id: str, tail: str = "") -> str:
    return f"/sandboxes/{quote(sandbox_id, safe='')}{tail}"


def _rename(values: Optional[Mapping[str, Any]], names: Mapping[str, str]) -> Optional[Dict[str, Any]]:
    if values is None:
        return None
    # Unknown keys are passed as they are: the API rejects them with a message naming them.
    return {names.get(k, k): v for k, v in dict(values).items() if v is not None}


def create_body(
    template: Optional[str],
    timeout: Optional[int],
    metadata: Optional[Mapping[str, str]],
    envs: Optional[Mapping[str, str]],
    resources: Optional[Mapping[str, Any]],
    lifecycle: Optional[Mapping[str, Any]],
    image: Optional[str] = None,
    network: Optional[Mapping[str, Any]] = None,
    allow_internet_access: Optional[bool] = None,
    volumes: Optional[Any] = None,
) -> Dict[str, Any]:
    # `image` (a Docker image instead of a template) only works where the server allows it.
    body: Dict[str, Any] = {"image": image} if image and not template else {"templateID": template or DEFAULT_TEMPLATE}
    if timeout is not None:
        body["timeout"] = timeout
    if metadata:
        body["metadata"] = dict(metadata)
    if envs:
        body["envs"] = dict(envs)
    if resources is not None:
        body["resources"] = _rename(resources, _RESOURCE_KEYS)
    if lifecycle is not None:
        body["lifecycle"] = _rename(lifecycle, _LIFECYCLE_KEYS)
    # Seed 004: `allow_internet_access=False` blocks all outbound traffic; `network` overrides it.
    net = _rename(network, _NETWORK_KEYS) if network is not None else {}
    if allow_internet_access is not None and "allowInternet" not in (net or {}):
        net = {**(net or {}), "allowInternet": bool(allow_internet_access)}
    if net:
        body["network"] = net
    if volumes:
        body["volumes"] = mount_body(volumes)
    return body


def create(body: Dict[str, Any], request_timeout: Optional[float] = None) -> Op:
    reply = yield Call("POST", "/sandboxes", json=body, request_timeout=request_timeout)
    return SandboxInfo.from_api(reply.json())


def get_info(sandbox_id: str, request_timeout: Optional[float] = None) -> Op:
    reply = yield Call("GET", sandbox_path(sandbox_id), request_timeout=request_timeout)
    return SandboxInfo.from_api(reply.json())


def connect(sandbox_id: str, timeout: Optional[int] = None, request_timeout: Optional[float] = None) -> Op:
    body = {} if timeout is None else {"timeout": timeout}
    reply = yield Call("POST", sandbox_path(sandbox_id, "/connect"), json=body, request_timeout=request_timeout)
    return SandboxInfo.from_api(reply.json())


def kill(sandbox_id: str, request_timeout: Optional[float] = None) -> Op:
    """True when this call killed it, False when it was already gone (404)."""
    try:
        yield Call("DELETE", sandbox_path(sandbox_id), request_timeout=request_timeout)
    except NotFoundError:
        return False
    return True


def is_running(sandbox_id: str, request_timeout: Optional[float] = None) -> Op:
    try:
        info = yield from get_info(sandbox_id, request_timeout)
    except NotFoundError:
        return False
    return info.state == "running"


def set_timeout(sandbox_id: str, timeout: float, request_timeout: Optional[float] = None) -> Op:
    reply = yield Call("POST", sandbox_path(sandbox_id, "/timeout"), json={"timeout": timeout}, request_timeout=request_timeout)
    return SandboxInfo.from_api(reply.json())


def refresh(sandbox_id: str, duration: float, request_timeout: Optional[float] = None) -> Op:
    reply = yield Call("POST", sandbox_path(sandbox_id, "/refreshes"), json={"duration": duration}, request_timeout=request_timeout)
    return SandboxInfo.from_api(reply.json())


def pause(sandbox_id: str, request_timeout: Optional[float] = None, mode: Optional[str] = None) -> Op:
    if mode is not None and mode not in PAUSE_MODES:
        raise ValueError(f"pause mode {mode!r} is not one of {', '.join(PAUSE_MODES)}")
    body = {"json": {"mode": mode}} if mode is not None else {}
    reply = yield Call("POST", sandbox_path(sandbox_id, "/pause"), request_timeout=request_timeout, **body)
    return SandboxInfo.from_api(reply.json())


#: ``"freeze"`` keeps processes and memory; ``"disk"`` keeps files only and holds no memory (docs/pause.md).
PAUSE_MODES = ("freeze", "disk")


def resume(sandbox_id: str, request_timeout: Optional[float] = None) -> Op:
    reply = yield Call("POST", sandbox_path(sandbox_id, "/resume"), request_timeout=request_timeout)
    return SandboxInfo.from_api(reply.json())


def events(sandbox_id: str, request_timeout: Optional[float] = None) -> Op:
    reply = yield Call("GET", sandbox_path(sandbox_id, "/events"), request_timeout=request_timeout)
    return [{**e} for e in reply.json().get("events", [])]


def endpoint(sandbox_id: str, port: int, request_timeout: Optional[float] = None) -> Op:
    """How to reach a server listening on ``port`` inside the sandbox (through berth's proxy)."""
    reply = yield Call("GET", sandbox_path(sandbox_id, f"/endpoints/{int(port)}"), request_timeout=request_timeout)
    b = reply.json()
    return {"port": b.get("port"), "url": b.get("url"), "websocket_url": b.get("websocketUrl"), "auth": b.get("auth")}


def _time_param(value: Union[datetime, str, int, float, None]) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(int(value))
    return value


def get_metrics(
    sandbox_id: str,
    start: Union[datetime, str, int, None] = None,
    end: Union[datetime, str, int, None] = None,
    request_timeout: Optional[float] = None,
) -> Op:
    """The retained series then the current sample, oldest first."""
    params = [(k, v) for k, v in (("start", _time_param(start)), ("end", _time_param(end))) if v is not None]
    reply = yield Call("GET", sandbox_path(sandbox_id, "/metrics"), params=params or None, request_timeout=request_timeout)
    body = reply.json()
    samples: List[SandboxMetrics] = [SandboxMetrics.from_api(s) for s in body.get("series") or []]
    if body.get("current"):
        samples.append(SandboxMetrics.from_api(body["current"]))
    return samples


def list_params(
    query: Union[SandboxQuery, Mapping[str, Any], None], limit: Optional[int], next_token: Optional[str]
) -> List[Tuple[str, str]]:
    if isinstance(query, SandboxQuery):
        metadata, states = query.metadata, query.state
    else:
        q = dict(query or {})
        metadata, states = q.get("metadata") or {}, q.get("state") or q.get("status")
    params: List[Tuple[str, str]] = [("metadata", f"{k}={v}") for k, v in dict(metadata).items()]
    if states:
        params.append(("status", ",".join([states] if isinstance(states, str) else list(states))))
    if limit is not None:
        params.append(("limit", str(limit)))
    if next_token:
        params.append(("nextToken", next_token))
    return params


def list_sandboxes(
    query: Union[SandboxQuery, Mapping[str, Any], None] = None,
    limit: Optional[int] = None,
    next_token: Optional[str] = None,
    request_timeout: Optional[float] = None,
) -> Op:
    """``{"sandboxes": [row…], "next_token": str | None}`` (seed 004's raw dict, snake_case)."""
    reply = yield Call("GET", "/sandboxes", params=list_params(query, limit, next_token), request_timeout=request_timeout)
    body = reply.json()
    return {"sandboxes": [listed_sandbox(s) for s in body.get("sandboxes") or []], "next_token": body.get("nextToken")}


