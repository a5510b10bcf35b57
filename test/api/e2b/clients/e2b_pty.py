"""pty flow with the real `e2b` Python SDK against berth's envd (run by envd-sdk.test.ts)."""
import json

from e2b import PtySize, Sandbox

out = {}
sbx = Sandbox.create(template="base", timeout=300)
try:
    chunks = []
    term = sbx.pty.create(PtySize(rows=24, cols=80))
    sbx.pty.send_stdin(term.pid, b"echo $((6*7)); stty size; exit 3\n")
    result = term.wait(on_pty=lambda d: chunks.append(bytes(d)))
    out["first"] = {"pid": term.pid, "output": b"".join(chunks).decode("utf-8", "replace")}
except Exception as e:  # noqa: BLE001 - a non-zero exit raises; keep what it says
    out["first"] = {"pid": term.pid, "output": b"".join(chunks).decode("utf-8", "replace"), "exit_code": getattr(e, "exit_code", None)}
try:
    chunks2 = []
    term2 = sbx.pty.create(PtySize(rows=24, cols=80))
    sbx.pty.resize(term2.pid, PtySize(rows=30, cols=100))
    sbx.pty.send_stdin(term2.pid, b"stty size; exit\n")
    term2.wait(on_pty=lambda d: chunks2.append(bytes(d)))
    out["resized"] = b"".join(chunks2).decode("utf-8", "replace")
    term3 = sbx.pty.create(PtySize(rows=24, cols=80))
    out["kill"] = sbx.pty.kill(term3.pid)
finally:
    out["killed"] = sbx.kill()
print(json.dumps(out))
