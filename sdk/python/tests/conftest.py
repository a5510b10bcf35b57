"""Fixtures for the live suites: a berth API from BERTH_API_URL / BERTH_API_KEY (test/sdk/python-sdk.test.ts
starts one and runs this suite). Unit tests (test_unit_*.py) need no stack."""
from __future__ import annotations

import os
import uuid

import pytest

from berth import Sandbox

TEMPLATE = os.environ.get("BERTH_TEST_TEMPLATE", "tiny")


@pytest.fixture(scope="session")
def live() -> None:
    if not os.environ.get("BERTH_API_URL") or not os.environ.get("BERTH_API_KEY"):
        pytest.fail("set BERTH_API_URL and BERTH_API_KEY (npx vitest run test/sdk/python-sdk.test.ts does it)")


@pytest.fixture
def tag() -> str:
    """A unique metadata value, so listings only see this test's sandboxes."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def make(live):
    """Creates sandboxes and kills whatever is left of them at the end of the test."""
    made = []

    def create(**kwargs):
        kwargs.setdefault("template", TEMPLATE)
        kwargs.setdefault("timeout", 300)
        sbx = Sandbox.create(**kwargs)
        made.append(sbx)
        return sbx

    yield create
    for sbx in made:
        try:
            sbx.kill()
        finally:
            sbx.close()


@pytest.fixture(scope="module")
def shared(request):
    """One sandbox for a whole module (commands, files)."""
    request.getfixturevalue("live")
    sbx = Sandbox.create(template=TEMPLATE, timeout=600, metadata={"suite": request.module.__name__})
    yield sbx
    sbx.kill()
    sbx.close()
