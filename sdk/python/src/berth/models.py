"""Typed views of the API's JSON (snake_case fields) and the small parsers that build them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Union


def parse_time(value: Any) -> Optional[datetime]:
    """ISO-8601 (``...Z``) → aware ``datetime``; ``None`` stays ``None``."""
    if not value:
        return None
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass
class SandboxInfo:
    """``get_info()``: what ``GET /sandboxes/{id}`` answers."""

    sandbox_id: str
    template_id: str
    state: str
    metadata: Dict[str, str]
    created_at: Optional[datetime]
    started_at: Optional[datetime]
    end_at: Optional[datetime]
    timeout: int
    lifecycle: Dict[str, Any]
    resources: Dict[str, Any]
    running_time_ms: int = 0
    #: Egress policy (``allow_internet``, ``allow_out``, ``deny_out``); None for sandboxes made before policies existed.
    network: Optional[Dict[str, Any]] = None
    stop_reason: Optional[str] = None
    history_url: Optional[str] = None
    #: ``"idle"`` (interactions move ``end_at``) or ``"absolute"`` (only set_timeout / refresh / connect do).
    timeout_mode: str = "idle"
    #: When the sandbox stopped (None while it lives) and the stop's detail (e.g. a provisioning error).
    stopped_at: Optional[datetime] = None
    stop_detail: Optional[str] = None
    #: How the sandbox is paused (``"freeze"`` or ``"disk"``); None unless paused.
    paused_mode: Optional[str] = None

    @property
    def status(self) -> str:
        return self.state

    @property
    def name(self) -> str:
        """The template's name (seed 003's ``SandboxInfo.name``)."""
        return self.template_id

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> "SandboxInfo":
        res = body.get("resources") or {}
        life = body.get("lifecycle") or {}
        return cls(
            sandbox_id=body["sandboxID"],
            template_id=body.get("templateID") or "",
            state=body.get("status") or "",
            metadata=dict(body.get("metadata") or {}),
            created_at=parse_time(body.get("createdAt")),
            started_at=parse_time(body.get("startedAt")),
            end_at=parse_time(body.get("endAt")),
            timeout=int(body.get("timeout") or 0),
            lifecycle={
                "on_timeout": life.get("onTimeout", "kill"),
                "auto_resume": bool(life.get("autoResume", False)),
                "timeout_mode": life.get("timeoutMode", "idle"),
                "pause_mode": life.get("pauseMode", "freeze"),
            },
            resources={"cpu": res.get("cpu"), "memory_mb": res.get("memoryMB")},
            running_time_ms=int(body.get("runningTimeMs") or 0),
            network=_network(body.get("network")),
            stop_reason=body.get("stopReason"),
            history_url=body.get("historyURL"),
            timeout_mode=body.get("timeoutMode") or "idle",
            stopped_at=parse_time(body.get("stoppedAt")),
            stop_detail=body.get("stopDetail"),
            paused_mode=body.get("pausedMode"),
        )


def _network(body: Any) -> Optional[Dict[str, Any]]:
    if not isinstance(body, Mapping):
        return None
    return {
        "allow_internet": bool(body.get("allowInternet", True)),
        "allow_out": list(body.get("allowOut") or []),
        "deny_out": list(body.get("denyOut") or []),
    }


def listed_sandbox(body: Mapping[str, Any]) -> Dict[str, Any]:
    """One row of ``Sandbox.list()``: the API's row with snake_case keys."""
    return {
        "sandbox_id": body.get("sandboxID"),
        "template_id": body.get("templateID"),
        "state": body.get("status"),
        "metadata": dict(body.get("metadata") or {}),
        "created_at": parse_time(body.get("createdAt")),
        "stopped_at": parse_time(body.get("stoppedAt")),
        "stop_reason": body.get("stopReason"),
        "history_url": body.get("historyURL"),
    }


@dataclass
class SandboxMetrics:
    """One sample of ``get_metrics()`` (E2B field names)."""

    timestamp: Optional[datetime]
    cpu_used_pct: Optional[float]
    cpu_count: Optional[float]
    mem_used: Optional[int]
    mem_total: Optional[int]
    disk_used: Optional[int]

    @classmethod
    def from_api(cls, s: Mapping[str, Any]) -> "SandboxMetrics":
        return cls(
            timestamp=parse_time(s.get("at")),
            cpu_used_pct=s.get("cpuPercent"),
            cpu_count=s.get("cpuLimit"),
            mem_used=s.get("memoryUsedBytes"),
            mem_total=s.get("memoryLimitBytes"),
            disk_used=s.get("diskUsedBytes"),
        )


@dataclass
class CommandResult:
    """A finished command. ``exit_code`` 137 with ``timed_out`` means berth killed it."""

    stdout: str
    stderr: str
    exit_code: int
    cmd_id: Optional[str] = None
    timed_out: bool = False
    error: Optional[str] = None


@dataclass
class ProcessInfo:
    """A background command's status (``GET /commands/{cmdID}``)."""

    cmd_id: str
    pid: Optional[int]
    cmd: Union[str, List[str]]
    state: str
    running: bool
    exit_code: Optional[int]
    timed_out: bool
    cwd: Optional[str] = None
    user: Optional[str] = None
    started_at: Optional[datetime] = None

    @classmethod
    def from_api(cls, b: Mapping[str, Any]) -> "ProcessInfo":
        return cls(
            cmd_id=b["cmdID"],
            pid=b.get("pid"),
            cmd=b.get("cmd") or "",
            state=b.get("state") or "",
            running=bool(b.get("running")),
            exit_code=b.get("exitCode"),
            timed_out=bool(b.get("timedOut")),
            cwd=b.get("cwd"),
            user=b.get("user"),
            started_at=parse_time(b.get("startedAt")),
        )


@dataclass
class CommandLogs:
    """Output read so far from a background command; pass ``cursor`` back to read on."""

    stdout: str
    stderr: str
    cursor: str
    status: ProcessInfo


@dataclass
class EntryInfo:
    """A file system entry. ``mode`` is the permission bits as an int, ``permissions`` as octal text."""

    path: str
    name: str
    type: str
    size: int
    mode: int
    permissions: str
    owner: Optional[str]
    group: Optional[str]
    uid: Optional[int] = None
    gid: Optional[int] = None
    modified_time: Optional[datetime] = None

    @classmethod
    def from_api(cls, e: Mapping[str, Any]) -> "EntryInfo":
        perms = str(e.get("mode") or "0")
        return cls(
            path=e["path"],
            name=e.get("name") or "",
            type=e.get("type") or "other",
            size=int(e.get("size") or 0),
            mode=int(perms, 8),
            permissions=perms,
            owner=e.get("owner"),
            group=e.get("group"),
            uid=e.get("uid"),
            gid=e.get("gid"),
            modified_time=parse_time(e.get("modifiedAt")),
        )


@dataclass
class WriteEntry:
    """One file for ``files.write_files`` (``data`` str is UTF-8; bytes are sent exactly)."""

    path: str
    data: Union[str, bytes] = ""
    mode: Optional[Union[int, str]] = None
    owner: Optional[str] = None
    group: Optional[str] = None


@dataclass
class SandboxQuery:
    """Filter of ``Sandbox.list``: metadata ``key=value`` (all must match) and states."""

    metadata: Dict[str, str] = field(default_factory=dict)
    state: Optional[List[str]] = None
