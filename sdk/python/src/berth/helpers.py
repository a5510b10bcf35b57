"""Seed 000's helpers (cloudcode-style): dict answers instead of objects, kill never raises."""
from __future__ import annotations

from typing import Any, Dict

from . import lifecycle
from .errors import BerthError
from .models import SandboxInfo
from .transport import Op


def _info_dict(info: SandboxInfo) -> Dict[str, Any]:
    return {
        "sandbox_id": info.sandbox_id,
        "template_id": info.template_id,
        "state": info.state,
        "metadata": info.metadata,
        "started_at": info.started_at,
        "end_at": info.end_at,
        "timeout": info.timeout,
    }


def info_op(sandbox_id: str) -> Op:
    info = yield from lifecycle.get_info(sandbox_id)
    return _info_dict(info)


def extend_op(sandbox_id: str, seconds: float) -> Op:
    info = yield from lifecycle.refresh(sandbox_id, seconds)
    return _info_dict(info)


def kill_op(sandbox_id: str) -> Op:
    try:
        killed = yield from lifecycle.kill(sandbox_id)
    except BerthError as exc:
        return {"success": False, "error": f"{exc.code}: {exc.message}"}
    if not killed:
        return {"success": False, "error": f"sandbox {sandbox_id} not found (already stopped?)"}
    return {"success": True, "error": None}


class HelpersMixin:
    """Adds ``get_sandbox_info``, ``extend_sandbox_timeout`` and ``kill_sandbox`` to a sandbox."""

    sandbox_id: str

    def _run(self, op: Op) -> Any:  # provided by the sandbox class
        raise NotImplementedError

    def get_sandbox_info(self) -> Any:
        """``{"sandbox_id", "end_at", "started_at", "state", ...}``."""
        return self._run(info_op(self.sandbox_id))

    def extend_sandbox_timeout(self, seconds: float) -> Any:
        """Keeps the sandbox alive at least ``seconds`` from now (never shortens; ``refresh``)."""
        return self._run(extend_op(self.sandbox_id, seconds))

    def kill_sandbox(self) -> Any:
        """``{"success": bool, "error": str | None}``; never raises for an API error."""
        return self._run(kill_op(self.sandbox_id))


__all__ = ["HelpersMixin"]
