"""Absolute expiry with the real `e2b` Python SDK: one sandbox with timeout=6 (killed when it
expires) and one with lifecycle on_timeout=pause (paused), both used all along (get_info,
get_metrics, connect without timeout): E2B's timeout is absolute, so that use must not move
their end. Prints what it saw; the test checks berth's events."""
import json
import time

from e2b import Sandbox
from e2b.exceptions import NotFoundException, SandboxException

killed = Sandbox.create(template="base", timeout=6, metadata={"suite": "e2b-py-expiry"})
paused = Sandbox.create(template="base", timeout=6, metadata={"suite": "e2b-py-expiry"}, lifecycle={"on_timeout": "pause"})
out = {"killed": killed.sandbox_id, "paused": paused.sandbox_id, "killed_end_ats": [], "paused_end_ats": []}

deadline = time.time() + 90
killed_alive, paused_running = True, True
while (killed_alive or paused_running) and time.time() < deadline:
    if killed_alive:
        try:
            out["killed_end_ats"].append(killed.get_info().end_at.timestamp())
            killed.get_metrics()
        except NotFoundException:
            killed_alive = False
            out["killed_gone_seen_at"] = time.time()
    if paused_running:
        info = paused.get_info()
        if info.state.value == "paused":
            paused_running = False
            out["paused_seen_at"] = time.time()
        else:
            out["paused_end_ats"].append(info.end_at.timestamp())
            try:
                paused.get_metrics()
            except SandboxException as err:
                # It paused between get_info and get_metrics (berth answers 409 for a paused
                # sandbox's metrics): the next get_info sees it.
                if "paused" not in str(err):
                    raise
    time.sleep(0.5)

print(json.dumps(out))
