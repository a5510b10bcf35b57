"""Control-plane flow with the real `agentbox-python-sdk` in debug mode (AGENTBOX_DEBUG=true:
control plane at http://localhost:3000, reached through the test's forward proxy given as
`proxy=` and HTTP_PROXY). Run by control-plane.test.ts; prints one JSON object."""
import json
import os
import sys

from agentbox import Sandbox
from agentbox.sandbox.sandbox_api import SandboxQuery

proxy = os.environ["BERTH_TEST_PROXY"]
tag = sys.argv[1]
out = {}

sbx = Sandbox(template="base", timeout=120, metadata={"suite": "agentbox", "tag": tag}, envs={"GREETING": "hello"}, proxy=proxy)
out["sandbox_id"] = sbx.sandbox_id
info = sbx.get_info()
out["info"] = {
    "sandbox_id": info.sandbox_id,
    "template_id": info.template_id,
    "metadata": info.metadata,
    "started_at": info.started_at.timestamp(),
    "end_at": info.end_at.timestamp(),
    "envd_version": info.envd_version,
}
sbx.set_timeout(30)  # a local no-op in debug mode
out["end_at_after_set_timeout"] = sbx.get_info().end_at.timestamp()

out["pause"] = sbx.pause()
again = Sandbox.connect(sbx.sandbox_id, proxy=proxy)
out["connect_id"] = again.sandbox_id
out["pause_again"] = again.pause()
resumed = Sandbox.resume(sbx.sandbox_id, timeout=120)  # POST /sandboxes/{id}/resume (through HTTP_PROXY)
out["resume_id"] = resumed.sandbox_id
out["listed"] = [s.sandbox_id for s in Sandbox.list(query=SandboxQuery(metadata={"tag": tag}))]
out["kill"] = sbx.kill()  # a local no-op in debug mode: the sandbox stays
print(json.dumps(out))
