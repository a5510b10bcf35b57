"""Expiry: a sandbox that is not renewed stops at the expiry get_info shows, never before it."""
import time
from datetime import datetime, timedelta, timezone

from opensandbox import SandboxManagerSync, SandboxSync
from opensandbox.exceptions import SandboxApiException
from opensandbox.models.execd import RunCommandOpts

from conftest import IMAGE, sync_config


def _gone(manager, sandbox_id) -> bool:
    try:
        manager.get_sandbox_info(sandbox_id)
        return False
    except SandboxApiException as e:
        assert e.status_code == 404, e
        return True


def test_expiry_without_renew_stops_on_time():
    cfg = sync_config()
    sbx = SandboxSync.create(IMAGE, timeout=timedelta(seconds=8), entrypoint=["sh", "-c", "echo started > /tmp/entry.txt; sleep 600"], connection_config=cfg)
    manager = SandboxManagerSync.create(connection_config=cfg)
    try:
        # a real entrypoint runs (as a background command: berth's containers have their own init)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                if sbx.files.read_file("/tmp/entry.txt").strip() == "started":
                    break
            except SandboxApiException:
                pass
            time.sleep(0.2)
        assert sbx.files.read_file("/tmp/entry.txt").strip() == "started"
        time.sleep(1)
        expires_at = sbx.get_info().expires_at
        assert expires_at is not None
        # Poll (get_info does not move the expiry) until it is gone: every answer that says
        # "gone" must come at or after the expiry shown; one that comes before it is an early stop.
        seen = []
        deadline = time.time() + 60
        while time.time() < deadline:
            gone = _gone(manager, sbx.id)
            answered = datetime.now(timezone.utc)
            seen.append((answered.isoformat(), gone))
            if gone:
                break
            time.sleep(0.2)
        assert seen and seen[-1][1], "still there 60 s after its expiry"
        assert answered >= expires_at, f"stopped before its expiry {expires_at.isoformat()}: {seen}"
        assert any(not g for _, g in seen), "gone at the first look: nothing was checked before the expiry"
    finally:
        try:
            sbx.kill()
        except SandboxApiException:
            pass
        sbx.close()
        manager.close()
