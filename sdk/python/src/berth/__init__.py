"""berth's Python SDK: ``Sandbox`` / ``AsyncSandbox``, ``SandboxManager`` and typed errors.

Configure with ``BERTH_API_URL`` and ``BERTH_API_KEY`` (or pass ``api_key=``, ``domain=``).
Importing the package does no network I/O.
"""
from .commands import CommandHandle, Commands
from .config import ConnectionConfig
from .errors import (
    AuthenticationException,
    BerthError,
    CommandExitError,
    CommandExitException,
    ConflictError,
    ConflictException,
    InvalidArgumentError,
    InvalidArgumentException,
    NotFoundError,
    NotFoundException,
    PayloadTooLargeError,
    ProvisionFailedError,
    RateLimitedError,
    RateLimitException,
    SandboxException,
    TimeoutError,
    TimeoutException,
    UnauthorizedError,
    UnavailableError,
    UpstreamUnavailableError,
)
from .files import Filesystem
from .manager import AsyncSandboxManager, SandboxManager
from .models import CommandLogs, CommandResult, EntryInfo, ProcessInfo, SandboxInfo, SandboxMetrics, SandboxQuery, WriteEntry
from .pty import Pty, PtyHandle, PtyInfo, PtySize
from .sandbox import AsyncSandbox, Sandbox
from .snapshots import SnapshotInfo
from .volumes import AsyncVolume, Volume, VolumeInfo

__version__ = "0.1.0"

__all__ = [
    "AsyncSandbox", "AsyncSandboxManager", "AuthenticationException", "BerthError", "CommandExitError",
    "CommandExitException", "CommandHandle", "CommandLogs", "CommandResult", "Commands", "ConflictError",
    "ConflictException", "ConnectionConfig", "EntryInfo", "Filesystem", "InvalidArgumentError",
    "InvalidArgumentException", "NotFoundError", "NotFoundException", "PayloadTooLargeError", "ProcessInfo",
    "ProvisionFailedError", "Pty", "PtyHandle", "PtyInfo", "PtySize", "RateLimitedError", "RateLimitException", "Sandbox", "SandboxException", "SandboxInfo",
    "SandboxManager", "SandboxMetrics", "SandboxQuery", "SnapshotInfo", "TimeoutError", "TimeoutException", "UnauthorizedError",
    "UnavailableError", "UpstreamUnavailableError", "WriteEntry", "Volume", "AsyncVolume", "VolumeInfo",
]
