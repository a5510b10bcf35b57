"""Fixtures for driving berth with the real, unmodified OpenSandbox SDK (opensandbox==1.1.1).

test/api/opensandbox/sdk.test.ts starts a berth stack and sets:
  OS_DOMAIN      host:port of berth's listener
  OS_API_KEY     a key of owner alice;  OS_OTHER_API_KEY  a key of owner bob
  OS_IMAGE       the image to create from (a berth template's image)
"""
import os
from datetime import timedelta

import pytest
from opensandbox.config import ConnectionConfig
from opensandbox.config.connection_sync import ConnectionConfigSync

DOMAIN = os.environ["OS_DOMAIN"]
IMAGE = os.environ.get("OS_IMAGE", "berth/debian-python:bookworm")


def sync_config(key: str | None = None, server_proxy: bool = False) -> ConnectionConfigSync:
    return ConnectionConfigSync(
        domain=DOMAIN,
        protocol="http",
        api_key=key or os.environ["OS_API_KEY"],
        use_server_proxy=server_proxy,
        request_timeout=timedelta(seconds=120),
    )


def async_config(key: str | None = None, server_proxy: bool = False) -> ConnectionConfig:
    return ConnectionConfig(
        domain=DOMAIN,
        protocol="http",
        api_key=key or os.environ["OS_API_KEY"],
        use_server_proxy=server_proxy,
        request_timeout=timedelta(seconds=120),
    )


@pytest.fixture
def other_key() -> str:
    return os.environ["OS_OTHER_API_KEY"]
