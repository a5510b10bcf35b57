"""Lifecycle against a live berth: create / get / list / kill, timeouts, pause / resume / connect."""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

import pytest

import berth
from berth import Sandbox, SandboxManager, SandboxQuery

TEMPLATE = os.environ.get("BERTH_TEST_TEMPLATE", "tiny")


def test_create_get_list_kill(make, tag):
    sbx = make(metadata={"tag": tag, "job": "basics"}, timeout=120)
    assert len(sbx.sandbox_id) == 20
    info = sbx.get_info()
    assert isinstance(info, berth.SandboxInfo)
    assert (info.sandbox_id, info.template_id, info.state, info.timeout) == (sbx.sandbox_id, TEMPLATE, "running", 120)
    assert info.metadata == {"tag": tag, "job": "basics"}
    assert info.end_at - info.started_at == timedelta(seconds=120)
    assert sbx.is_running() is True

    page = Sandbox.list(query={"metadata": {"tag": tag}})
    assert [s["sandbox_id"] for s in page["sandboxes"]] == [sbx.sandbox_id]
    assert page["sandboxes"][0]["state"] == "running"

    assert sbx.kill() is True
    assert sbx.kill() is False  # already gone
    assert sbx.is_running() is False
    with pytest.raises(berth.NotFoundError):
        sbx.get_info()
    assert Sandbox.list(query={"metadata": {"tag": tag}})["sandboxes"] == []
    stopped = Sandbox.list(query=SandboxQuery(metadata={"tag": tag}, state=["stopped"]))["sandboxes"]
    assert [(s["sandbox_id"], s["stop_reason"]) for s in stopped] == [(sbx.sandbox_id, "user")]


def test_constructor_creates_like_seed_003(live, tag):
    with Sandbox(template=TEMPLATE, timeout=60, metadata={"tag": tag}) as sbx:
        info = sbx.get_info()
        assert info.end_at - info.started_at == timedelta(seconds=60)
        assert sbx.kill() is True


def test_set_timeout_and_refresh(make):
    sbx = make(timeout=300)
    before = datetime.now(timezone.utc)
    info = sbx.set_timeout(30)  # may shorten: end_at = now + 30 s
    assert info.timeout == 30
    assert before + timedelta(seconds=25) <= info.end_at <= datetime.now(timezone.utc) + timedelta(seconds=31)
    assert sbx.get_info().end_at == info.end_at or sbx.get_info().end_at >= info.end_at

    refreshed = sbx.refresh(600)  # never shortens, here it extends
    assert refreshed.end_at >= before + timedelta(seconds=595)
    again = sbx.refresh(5)  # shorter than what is left: unchanged
    assert again.end_at >= refreshed.end_at


def test_absolute_timeout_mode(make):
    sbx = make(timeout=300, lifecycle={"timeout_mode": "absolute"})
    info = sbx.get_info()
    assert (info.timeout_mode, info.lifecycle["timeout_mode"]) == ("absolute", "absolute")
    assert info.end_at - info.started_at == timedelta(seconds=300)
    sbx.commands.run("true")  # interactions do not move an absolute deadline
    assert sbx.get_info().end_at == info.end_at
    assert sbx.refresh(5).end_at == info.end_at  # never shortens
    shortened = sbx.set_timeout(30)  # may shorten
    assert shortened.end_at < info.end_at and shortened.timeout_mode == "absolute"


def test_pause_resume_connect(make):
    sbx = make()
    assert sbx.pause().state == "paused"
    assert sbx.is_running() is False
    with pytest.raises(berth.ConflictError):
        sbx.pause()
    assert sbx.resume().state == "running"
    with pytest.raises(berth.ConflictError):
        sbx.resume()

    sbx.pause()
    other = Sandbox.connect(sbx.sandbox_id)  # connect resumes a paused sandbox
    try:
        assert other.sandbox_id == sbx.sandbox_id
        assert other.get_info().state == "running"
        assert other.commands.run("echo connected").stdout == "connected\n"
    finally:
        other.close()
    reconnected = Sandbox(sandbox_id=sbx.sandbox_id)  # seed 000's reconnect by ID
    assert reconnected.get_info().state == "running"
    reconnected.close()


def test_pause_to_disk_keeps_files_not_processes(make):
    sbx = make()
    sbx.files.write("/tmp/kept.txt", "kept")
    sbx.commands.run("sleep 1000", background=True)
    sleepers = lambda: sbx.commands.run('ps -o args | grep "[s]leep 1000" | wc -l').stdout.strip()  # noqa: E731
    for _ in range(100):
        if sleepers() != "0":
            break
        time.sleep(0.1)
    assert sleepers() != "0"  # running (under the command's own wrapper processes)
    paused = sbx.pause(mode="disk")
    assert (paused.state, paused.paused_mode) == ("paused", "disk")
    assert sbx.get_info().paused_mode == "disk"
    with pytest.raises(berth.ConflictError):
        sbx.pause(mode="disk")
    resumed = sbx.resume()
    assert (resumed.state, resumed.paused_mode) == ("running", None)
    assert sbx.files.read("/tmp/kept.txt") == "kept"
    assert sleepers() == "0"  # the container started afresh
    with pytest.raises(ValueError, match="freeze, disk"):
        sbx.pause(mode="ram")


def test_context_manager_closes_but_never_kills(make):
    sbx = make()
    with Sandbox.connect(sbx.sandbox_id) as inner:
        inner.files.write_file("/tmp/keep.txt", "still here")
    assert inner._client.is_closed
    assert sbx.is_running() is True
    assert sbx.files.read_file("/tmp/keep.txt") == "still here"


def test_metadata_listing_with_pagination(make, tag):
    ids = {make(metadata={"tag": tag, "n": str(i)}).sandbox_id for i in range(3)}
    make(metadata={"tag": "someone-else-" + tag})
    seen, token, pages = [], None, 0
    while True:
        page = Sandbox.list(query={"metadata": {"tag": tag}}, limit=2, next_token=token)
        pages += 1
        assert len(page["sandboxes"]) <= 2
        seen += [s["sandbox_id"] for s in page["sandboxes"]]
        token = page["next_token"]
        if not token:
            break
    assert pages >= 2
    assert sorted(seen) == sorted(ids)
    one = Sandbox.list(query={"metadata": {"tag": tag, "n": "1"}})["sandboxes"]
    assert len(one) == 1 and one[0]["metadata"]["n"] == "1"


def test_sandbox_manager(make, tag):
    sbx = make(metadata={"tag": tag})
    with SandboxManager() as manager:
        assert [s["sandbox_id"] for s in manager.list_sandbox_infos({"metadata": {"tag": tag}})["sandboxes"]] == [sbx.sandbox_id]
        assert manager.get_sandbox_info(sbx.sandbox_id).state == "running"
        renewed = manager.renew_sandbox(sbx.sandbox_id, 900)
        assert renewed.end_at >= datetime.now(timezone.utc) + timedelta(seconds=890)
        assert manager.pause_sandbox(sbx.sandbox_id).state == "paused"
        assert manager.resume_sandbox(sbx.sandbox_id).state == "running"
        assert manager.kill_sandbox(sbx.sandbox_id) is True
        assert manager.kill_sandbox(sbx.sandbox_id) is False
        with pytest.raises(berth.NotFoundError):
            manager.get_sandbox_info(sbx.sandbox_id)


def test_seed_000_helpers(make):
    sbx = make(timeout=120)
    info = sbx.get_sandbox_info()
    assert info["sandbox_id"] == sbx.sandbox_id
    assert isinstance(info["end_at"], datetime)
    sbx.extend_sandbox_timeout(1800)
    extended = sbx.get_sandbox_info()
    assert extended["end_at"] >= info["end_at"] + timedelta(seconds=1500)
    assert sbx.kill_sandbox() == {"success": True, "error": None}
    second = sbx.kill_sandbox()
    assert second["success"] is False and "not found" in second["error"]


def test_metrics_endpoint_and_events(make):
    sbx = make()
    ep = sbx.get_endpoint(8080)
    assert ep["port"] == 8080 and ep["url"].endswith(f"/sandboxes/{sbx.sandbox_id}/proxy/8080/")
    assert ep["websocket_url"].startswith("ws")
    samples = sbx.get_metrics()
    assert samples, "the current sample is always there"
    last = samples[-1]
    assert last.mem_total and last.mem_used is not None and last.timestamp is not None
    sbx.pause()
    sbx.resume()
    assert [e["status"] for e in sbx.get_events()][-2:] == ["paused", "running"]


def test_error_mapping(make):
    with pytest.raises(berth.InvalidArgumentError, match="unknown templateID"):
        Sandbox.create(template="no-such-template")
    with pytest.raises(berth.InvalidArgumentError, match="timeout"):
        Sandbox.create(template=TEMPLATE, timeout=-5)
    with pytest.raises(berth.InvalidArgumentError, match="custom images are disabled"):
        Sandbox.create(image="berth/busybox:1")
    with pytest.raises(berth.NotFoundError):
        Sandbox.connect("doesnotexist00000000")
    with pytest.raises(berth.UnauthorizedError):
        Sandbox.list(api_key="wrong-key")
    sbx = make()
    with pytest.raises(berth.UnauthorizedError):
        Sandbox.connect(sbx.sandbox_id, api_key="wrong-key")
    other = os.environ.get("BERTH_TEST_OTHER_API_KEY")
    if other:  # another owner's sandbox is a 404, never a 403
        with SandboxManager(api_key=other) as manager:
            with pytest.raises(berth.NotFoundError):
                manager.get_sandbox_info(sbx.sandbox_id)
            assert manager.kill_sandbox(sbx.sandbox_id) is False
    assert sbx.is_running() is True
    with pytest.raises(berth.BerthError):
        Sandbox.list(domain="127.0.0.1:1", request_timeout=2)


def test_paused_sandbox_auto_resume_or_conflict(make):
    plain = make()
    plain.pause()
    with pytest.raises(berth.ConflictError, match="resume"):
        plain.commands.run("true")
    auto = make(lifecycle={"on_timeout": "pause", "auto_resume": True})
    assert auto.get_info().lifecycle == {"on_timeout": "pause", "auto_resume": True, "timeout_mode": "idle", "pause_mode": "freeze"}
    auto.pause()
    assert auto.commands.run("echo woke").stdout == "woke\n"  # the interaction resumed it
    assert auto.get_info().state == "running"


def test_by_id_class_variants_like_e2b(make):
    sbx = make(timeout=120)
    assert Sandbox.get_info(sbx.sandbox_id).sandbox_id == sbx.sandbox_id
    assert Sandbox.set_timeout(sbx.sandbox_id, 90).timeout == 90
    assert Sandbox.is_running(sbx.sandbox_id) is True
    assert Sandbox.get_metrics(sbx.sandbox_id)
    with pytest.raises(berth.UnauthorizedError):
        Sandbox.get_info(sbx.sandbox_id, api_key="wrong-key")
    assert Sandbox.kill(sbx.sandbox_id) is True
    assert Sandbox.kill(sbx.sandbox_id) is False
    assert sbx.is_running() is False


def test_network_policy_round_trip(make):
    sbx = make(template="tiny", network={"allow_out": ["203.0.113.0/24"], "deny_out": ["198.51.100.7"]})
    assert sbx.get_info().network == {"allow_internet": True, "allow_out": ["203.0.113.0/24"], "deny_out": ["198.51.100.7/32"]}
    closed = make(template="tiny", allow_internet_access=False)  # seed 004's switch
    assert closed.get_info().network["allow_internet"] is False
    with pytest.raises(berth.InvalidArgumentError):
        make(template="tiny", network={"allow_out": ["not-a-cidr"]})
