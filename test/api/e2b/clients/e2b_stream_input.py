"""StreamInput (client streaming) from the real `e2b` Python SDK over HTTP/1.1 (run by envd-sdk.test.ts)."""
import json

from e2b import Sandbox

out = {}
sbx = Sandbox.create(template="base", timeout=120)
try:
    h = sbx.commands.run("head -n 2", background=True, stdin=True)
    try:
        sbx.commands.stream_input(h.pid, iter(["first\n", "second\n"]))
        out["stream_input"] = "ok"
    except Exception as e:  # noqa: BLE001
        out["stream_input"] = f"{type(e).__name__}: {e}"
    out["stdout"] = h.wait().stdout if out["stream_input"] == "ok" else None
finally:
    sbx.kill()
print(json.dumps(out))
