"""Control-plane flow with the real `e2b` Python SDK against berth (run by control-plane.test.ts).

Env: E2B_API_URL, E2B_API_KEY (set by the test). Prints one JSON object with what it saw.
"""
import json
import sys
import time

from e2b import Sandbox, SandboxQuery, SandboxState

out = {}
tag = sys.argv[1]

sbx = Sandbox.create(
    template="base",
    timeout=120,
    metadata={"suite": "e2b-py", "tag": tag},
    envs={"GREETING": "hello"},
)
out["sandbox_id"] = sbx.sandbox_id
info = sbx.get_info()
out["info"] = {
    "sandbox_id": info.sandbox_id,
    "template_id": info.template_id,
    "metadata": info.metadata,
    "state": str(info.state.value),
    "started_at": info.started_at.timestamp(),
    "end_at": info.end_at.timestamp(),
    "cpu_count": info.cpu_count,
    "memory_mb": info.memory_mb,
}

sbx.set_timeout(60)
out["end_at_after_set_timeout"] = sbx.get_info().end_at.timestamp()
out["now_after_set_timeout"] = time.time()

out["pause"] = sbx.pause()
out["state_after_pause"] = Sandbox.get_info(sbx.sandbox_id).state.value
out["pause_again"] = sbx.pause()

again = Sandbox.connect(sbx.sandbox_id)
out["connect_id"] = again.sandbox_id
out["state_after_connect"] = again.get_info().state.value

paginator = Sandbox.list(query=SandboxQuery(metadata={"tag": tag}))
listed = []
while paginator.has_next:
    listed.extend(paginator.next_items())
out["listed"] = [s.sandbox_id for s in listed]
paginator = Sandbox.list(query=SandboxQuery(metadata={"tag": tag}, state=[SandboxState.PAUSED]))
out["listed_paused"] = [s.sandbox_id for s in paginator.next_items()]

metrics = sbx.get_metrics()
out["metrics"] = [{"cpu_count": m.cpu_count, "mem_total": m.mem_total, "mem_used": m.mem_used} for m in metrics]

out["kill"] = sbx.kill()
out["kill_again"] = sbx.kill()
out["kill_by_id"] = Sandbox.kill(sbx.sandbox_id)
try:
    Sandbox.get_info(sbx.sandbox_id)
    out["get_after_kill"] = "found"
except Exception as e:  # noqa: BLE001
    out["get_after_kill"] = type(e).__name__

print(json.dumps(out))
