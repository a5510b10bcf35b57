"""OpenSandbox's timeout is an absolute expiry: interactions do not extend it, renew sets it."""
import time
from datetime import datetime, timedelta, timezone

from opensandbox import SandboxSync
from opensandbox.exceptions import SandboxApiException

from conftest import IMAGE, sync_config


def test_interactions_do_not_extend_the_expiry():
    sbx = SandboxSync.create(IMAGE, timeout=timedelta(seconds=10), connection_config=sync_config())
    try:
        info = sbx.get_info()
        created_expiry = info.expires_at
        # the expiry is start + timeout, whatever happens meanwhile
        assert 0 < (created_expiry - info.created_at).total_seconds() <= 12
        stopped = None
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                sbx.commands.run("true")
                assert sbx.get_info().expires_at == created_expiry
            except SandboxApiException as e:
                assert e.status_code == 404, e
                stopped = datetime.now(timezone.utc)
                break
            time.sleep(0.5)
        assert stopped is not None, "the sandbox was kept alive by interactions"
        assert stopped >= created_expiry
    finally:
        try:
            sbx.kill()
        except SandboxApiException:
            pass
        sbx.close()


def test_renew_may_shorten_and_extend():
    sbx = SandboxSync.create(IMAGE, timeout=timedelta(minutes=5), connection_config=sync_config())
    try:
        short = sbx.renew(timedelta(seconds=30)).expires_at
        assert 20 < (short - datetime.now(timezone.utc)).total_seconds() <= 30
        sbx.commands.run("true")
        assert sbx.get_info().expires_at == short
        longer = sbx.renew(timedelta(minutes=10)).expires_at
        assert 590 < (longer - datetime.now(timezone.utc)).total_seconds() <= 600
        assert sbx.get_info().expires_at == longer
    finally:
        sbx.kill()
        sbx.close()
