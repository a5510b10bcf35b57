"""One error root for everything the SDK raises, mapped from the API's ``{code, message}``.

``ERRORS_BY_CODE`` is the one table from berth's error codes to classes; ``ERRORS_BY_STATUS``
covers answers without a known code. E2B-style aliases (``SandboxException``,
``NotFoundException``, ...) are exported for code written against those SDKs.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type


class BerthError(Exception):
    """Root of every SDK error. ``code`` is the API's code, ``status`` the HTTP status (0 if none)."""

    def __init__(self, message: str, code: str = "error", status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class InvalidArgumentError(BerthError):
    """400: the request is malformed (the message names the field)."""


class UnauthorizedError(BerthError):
    """401: no API key, or one berth does not know."""


class NotFoundError(BerthError):
    """404: unknown, stopped or someone else's sandbox; missing file or command."""


class ConflictError(BerthError):
    """409: valid, but not in the sandbox's current state (e.g. pausing a paused sandbox)."""


class PayloadTooLargeError(BerthError):
    """413: the body or file is larger than berth accepts."""


class RateLimitedError(BerthError):
    """429: a quota is reached (retried with ``Retry-After`` before it is raised)."""


class ProvisionFailedError(BerthError):
    """502 ``provision_failed``: Docker refused to create the sandbox."""


class UpstreamUnavailableError(BerthError):
    """502 ``upstream_unavailable``: nothing listens on the proxied port."""


class UnavailableError(BerthError):
    """503: Temporal or Docker unavailable; nothing changed (retried before it is raised)."""


class TimeoutError(BerthError):  # noqa: A001 - same name as E2B's TimeoutException family
    """The HTTP request did not finish within ``request_timeout``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="timeout", status=0)


class CommandExitError(BerthError):
    """A command exited with a non-zero code (raised by ``commands.run`` and ``handle.wait``)."""

    def __init__(self, exit_code: int, stdout: str, stderr: str, error: Optional[str] = None) -> None:
        tail = (stderr or stdout).strip()[-400:]
        super().__init__(f"command exited with code {exit_code}" + (f": {tail}" if tail else ""), code="command_exit", status=0)
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.error = error


ERRORS_BY_CODE: Dict[str, Type[BerthError]] = {
    "invalid_argument": InvalidArgumentError,
    "invalid_json": InvalidArgumentError,
    "unauthorized": UnauthorizedError,
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "payload_too_large": PayloadTooLargeError,
    "quota_exceeded": RateLimitedError,
    "provision_failed": ProvisionFailedError,
    "upstream_unavailable": UpstreamUnavailableError,
    "unavailable": UnavailableError,
}

ERRORS_BY_STATUS: Dict[int, Type[BerthError]] = {
    400: InvalidArgumentError,
    401: UnauthorizedError,
    403: UnauthorizedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    416: InvalidArgumentError,
    429: RateLimitedError,
    502: UnavailableError,
    503: UnavailableError,
}


def error_from_response(status: int, body: Any) -> BerthError:
    """The error for a non-2xx answer whose (parsed JSON, if any) body is ``body``."""
    code = ""
    message = ""
    if isinstance(body, Mapping):
        code = str(body.get("code") or "")
        message = str(body.get("message") or "")
    elif isinstance(body, str):
        message = body.strip()[:500]
    cls = ERRORS_BY_CODE.get(code) or ERRORS_BY_STATUS.get(status) or BerthError
    return cls(message or f"HTTP {status}", code=code or f"http_{status}", status=status)


# E2B / OpenSandbox-style names for the same classes.
SandboxException = BerthError
NotFoundException = NotFoundError
InvalidArgumentException = InvalidArgumentError
AuthenticationException = UnauthorizedError
ConflictException = ConflictError
RateLimitException = RateLimitedError
TimeoutException = TimeoutError
CommandExitException = CommandExitError
