"""Snapshots: a sandbox's filesystem committed to an image you can boot new sandboxes from
(``sbx.create_snapshot()``, ``sbx.list_snapshots()``, ``Sandbox.restore(...)``; see docs/snapshots.md).
Written once as :mod:`berth.transport` ops, driven by both ``Sandbox`` and ``AsyncSandbox``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import quote

from .errors import NotFoundError
from .lifecycle import sandbox_path
from .models import SandboxInfo, parse_time
from .transport import Call, Op

SNAPSHOT_PREFIX = "snap_"


@dataclass
class SnapshotInfo:
    """A snapshot of yours: boot it with ``Sandbox.restore(snapshot_id)`` or ``Sandbox.create(template=snapshot_id)``."""

    snapshot_id: str
    #: The sandbox it was taken from (it may be stopped since).
    sandbox_id: str
    #: The source sandbox's template (a boot from the snapshot takes its default resources and timeout).
    template_id: str
    #: ``"snapshot"`` (taken by a user).
    kind: str
    created_at: Optional[datetime]
    size_bytes: int
    #: When the server's retention removes it (None: kept until deleted).
    expires_at: Optional[datetime]

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> "SnapshotInfo":
        return cls(
            snapshot_id=body["snapshotID"],
            sandbox_id=body.get("sandboxID") or "",
            template_id=body.get("templateID") or "",
            kind=body.get("kind") or "snapshot",
            created_at=parse_time(body.get("createdAt")),
            size_bytes=int(body.get("sizeBytes") or 0),
            expires_at=parse_time(body.get("expiresAt")),
        )


def _snapshot_path(snapshot_id: str, tail: str = "") -> str:
    return f"/snapshots/{quote(snapshot_id, safe='')}{tail}"


def create_snapshot(sandbox_id: str, request_timeout: Optional[float] = None) -> Op:
    reply = yield Call("POST", sandbox_path(sandbox_id, "/snapshots"), request_timeout=request_timeout)
    return SnapshotInfo.from_api(reply.json())


def list_of_sandbox(sandbox_id: str, request_timeout: Optional[float] = None) -> Op:
    """The sandbox's snapshots, newest first (also after it stopped)."""
    reply = yield Call("GET", sandbox_path(sandbox_id, "/snapshots"), request_timeout=request_timeout)
    return [SnapshotInfo.from_api(s) for s in reply.json().get("snapshots") or []]


def list_snapshots(limit: Optional[int] = None, next_token: Optional[str] = None, request_timeout: Optional[float] = None) -> Op:
    """``{"snapshots": [SnapshotInfo…], "next_token": str | None}``: your snapshots, newest first."""
    params = [(k, v) for k, v in (("limit", None if limit is None else str(limit)), ("nextToken", next_token)) if v is not None]
    reply = yield Call("GET", "/snapshots", params=params or None, request_timeout=request_timeout)
    body = reply.json()
    return {"snapshots": [SnapshotInfo.from_api(s) for s in body.get("snapshots") or []], "next_token": body.get("nextToken")}


def get_snapshot(snapshot_id: str, request_timeout: Optional[float] = None) -> Op:
    reply = yield Call("GET", _snapshot_path(snapshot_id), request_timeout=request_timeout)
    return SnapshotInfo.from_api(reply.json())


def delete_snapshot(snapshot_id: str, request_timeout: Optional[float] = None) -> Op:
    """True when deleted, False when it was already gone; ConflictError while a sandbox booted from it lives."""
    try:
        yield Call("DELETE", _snapshot_path(snapshot_id), request_timeout=request_timeout)
    except NotFoundError:
        return False
    return True


def restore(sandbox_or_snapshot_id: str, snapshot_id: Optional[str], body: Dict[str, Any], request_timeout: Optional[float] = None) -> Op:
    """Boots a new sandbox from a snapshot: ``snapshot_id``, else the first argument when it is a
    snapshot ID, else the newest snapshot of the sandbox it names (seed 004's ``Sandbox.restore``)."""
    chosen = snapshot_id or (sandbox_or_snapshot_id if sandbox_or_snapshot_id.startswith(SNAPSHOT_PREFIX) else None)
    if chosen is None:
        snapshots: List[SnapshotInfo] = yield from list_of_sandbox(sandbox_or_snapshot_id, request_timeout)
        if not snapshots:
            raise NotFoundError(f"sandbox {sandbox_or_snapshot_id} has no snapshots: take one with create_snapshot()", "not_found", 404)
        chosen = snapshots[0].snapshot_id
    reply = yield Call("POST", _snapshot_path(chosen, "/restore"), json=body, request_timeout=request_timeout)
    return SandboxInfo.from_api(reply.json())
