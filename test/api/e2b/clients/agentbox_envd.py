"""envd flow with the real `agentbox-python-sdk` in debug mode (AGENTBOX_DEBUG=true: envd at
http://localhost:49983, reached through the test's forward proxy; no E2b-Sandbox-Id header, the
envd access token names the sandbox). Run by envd-sdk.test.ts; prints one JSON object."""
import json
import os
import time

from agentbox import Sandbox

proxy = os.environ["BERTH_TEST_PROXY"]
out = {}
sbx = Sandbox(template="base", timeout=300, proxy=proxy)
out["sandbox_id"] = sbx.sandbox_id
seen = []
r = sbx.commands.run("echo hi; echo err >&2; whoami", on_stdout=lambda d: seen.append(d))
out["run"] = {"exit_code": r.exit_code, "stdout": r.stdout, "stderr": r.stderr, "streamed": "".join(seen)}
bg = sbx.commands.run("sleep 0.5; echo bg", background=True)
out["bg_listed"] = bg.pid in [p.pid for p in sbx.commands.list()]
out["bg"] = bg.wait().stdout
w = sbx.files.write("/home/user/ab/a.txt", "agent")
out["write"] = {"name": w.name, "path": w.path}
out["read"] = sbx.files.read("/home/user/ab/a.txt")
out["make_dir"] = sbx.files.make_dir("/home/user/ab/sub")
out["list"] = sorted([[e.name, e.path] for e in sbx.files.list("/home/user/ab")])
out["rename"] = sbx.files.rename("/home/user/ab/a.txt", "/home/user/ab/b.txt").path
out["exists"] = sbx.files.exists("/home/user/ab/b.txt")
sbx.files.remove("/home/user/ab/b.txt")
out["exists_removed"] = sbx.files.exists("/home/user/ab/b.txt")
handle = sbx.files.watch_dir("/home/user/ab")
sbx.files.write("/home/user/ab/watched.txt", "x")
events = []
for _ in range(40):
    events.extend(handle.get_new_events())
    if any(e.name == "watched.txt" for e in events):
        break
    time.sleep(0.25)
handle.stop()
out["watch"] = [e.name for e in events]
print(json.dumps(out))
