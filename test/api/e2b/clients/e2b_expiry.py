"""Expiry with the real `e2b` Python SDK: one sandbox that times out (killed) and one created
with lifecycle on_timeout=pause (paused). Prints their IDs; the test watches them."""
import json

from e2b import Sandbox

killed = Sandbox.create(template="base", timeout=5, metadata={"suite": "e2b-py-expiry"})
paused = Sandbox.create(template="base", timeout=5, metadata={"suite": "e2b-py-expiry"}, lifecycle={"on_timeout": "pause"})
print(json.dumps({"killed": killed.sandbox_id, "paused": paused.sandbox_id, "paused_end_at": paused.get_info().end_at.timestamp()}))
