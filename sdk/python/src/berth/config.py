"""Connection settings: explicit arguments first, then ``BERTH_API_URL`` / ``BERTH_API_KEY``."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

DEFAULT_API_URL = "http://127.0.0.1:3000"
DEFAULT_REQUEST_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3


@dataclass(frozen=True)
class ConnectionConfig:
    """Where and how to reach berth. Build it with :meth:`resolve`."""

    api_url: str
    api_key: Optional[str]
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES

    @classmethod
    def resolve(
        cls,
        api_key: Optional[str] = None,
        domain: Optional[str] = None,
        request_timeout: Optional[float] = None,
        api_url: Optional[str] = None,
        max_retries: Optional[int] = None,
    ) -> "ConnectionConfig":
        """``domain`` is ``host:port`` (http) or a full URL; it wins over ``api_url`` and the env."""
        url = api_url or os.environ.get("BERTH_API_URL") or DEFAULT_API_URL
        if domain:
            url = domain if "://" in domain else f"http://{domain}"
        key = api_key if api_key is not None else os.environ.get("BERTH_API_KEY")
        return cls(
            api_url=url.rstrip("/"),
            api_key=key or None,
            request_timeout=DEFAULT_REQUEST_TIMEOUT_S if request_timeout is None else float(request_timeout),
            max_retries=DEFAULT_MAX_RETRIES if max_retries is None else int(max_retries),
        )

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
