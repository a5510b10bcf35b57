"""envd flow with the real `e2b` Python SDK against berth (run by envd-sdk.test.ts).

Env: E2B_API_URL, E2B_API_KEY, E2B_SANDBOX_URL (berth's envd listener). Prints one JSON object.
"""
import io
import json
import time

from e2b import Sandbox
from e2b.sandbox.commands.command_handle import CommandExitException

out = {}
sbx = Sandbox.create(template="base", timeout=300, envs={"GREETING": "hello"})
out["sandbox_id"] = sbx.sandbox_id
try:
    # commands.run with streaming callbacks
    seen_out, seen_err = [], []
    r = sbx.commands.run(
        "echo $GREETING; echo oops >&2; whoami; pwd",
        on_stdout=lambda d: seen_out.append(d),
        on_stderr=lambda d: seen_err.append(d),
    )
    out["run"] = {"exit_code": r.exit_code, "stdout": r.stdout, "stderr": r.stderr, "streamed_out": "".join(seen_out), "streamed_err": "".join(seen_err)}
    try:
        sbx.commands.run("echo before; exit 7")
        out["exit7"] = None
    except CommandExitException as e:
        out["exit7"] = {"exit_code": e.exit_code, "stdout": e.stdout}
    out["as_root"] = sbx.commands.run("whoami", user="root").stdout

    # a background command, listed, then waited for
    bg = sbx.commands.run("for i in 1 2 3; do echo bg$i; sleep 0.3; done", background=True)
    out["bg_listed"] = bg.pid in [p.pid for p in sbx.commands.list()]
    out["bg_stdout"] = bg.wait().stdout

    # send_stdin to a command started with stdin
    h = sbx.commands.run("read line; echo got:$line", background=True, stdin=True)
    sbx.commands.send_stdin(h.pid, "hello stdin\n")
    out["stdin"] = h.wait().stdout
    c = sbx.commands.run("cat; echo eof", background=True, stdin=True)
    sbx.commands.send_stdin(c.pid, "piped\n")
    sbx.commands.close_stdin(c.pid)
    out["close_stdin"] = c.wait().stdout

    # connect to a running command from a new handle; kill
    long = sbx.commands.run("sleep 1; echo connected", background=True)
    out["connect"] = sbx.commands.connect(long.pid).wait().stdout
    sleeper = sbx.commands.run("sleep 60", background=True)
    out["kill"] = sbx.commands.kill(sleeper.pid)
    time.sleep(0.5)
    out["kill_again"] = sbx.commands.kill(sleeper.pid)

    # files
    w = sbx.files.write("/home/user/notes/a.txt", "alpha\n")
    out["write"] = {"name": w.name, "path": w.path, "type": w.type.value if w.type else None}
    out["read"] = sbx.files.read("/home/user/notes/a.txt")
    out["read_bytes"] = list(sbx.files.read("/home/user/notes/a.txt", format="bytes"))
    out["write_relative"] = sbx.files.write("rel.txt", b"\x00\x01").path
    out["write_stream"] = sbx.files.write("/home/user/notes/streamed.bin", io.BytesIO(b"s" * 100000)).path
    out["read_stream_len"] = len(sbx.files.read("/home/user/notes/streamed.bin", format="bytes"))
    sbx.files.remove("/home/user/notes/streamed.bin")
    out["make_dir"] = sbx.files.make_dir("/home/user/notes/sub")
    out["make_dir_again"] = sbx.files.make_dir("/home/user/notes/sub")
    out["list"] = sorted([[e.name, e.type.value, e.path] for e in sbx.files.list("/home/user/notes")])
    info = sbx.files.get_info("/home/user/notes/a.txt")
    out["info"] = {"size": info.size, "owner": info.owner, "permissions": info.permissions}
    moved = sbx.files.rename("/home/user/notes/a.txt", "/home/user/notes/b.txt")
    out["rename"] = moved.path
    out["exists_old"] = sbx.files.exists("/home/user/notes/a.txt")
    out["exists_new"] = sbx.files.exists("/home/user/notes/b.txt")
    sbx.files.remove("/home/user/notes/b.txt")
    out["exists_removed"] = sbx.files.exists("/home/user/notes/b.txt")
    try:
        sbx.files.read("/home/user/notes/missing.txt")
        out["read_missing"] = None
    except Exception as e:  # noqa: BLE001
        out["read_missing"] = type(e).__name__

    # watch_dir (sync: unary watcher calls)
    handle = sbx.files.watch_dir("/home/user/notes")
    sbx.files.write("/home/user/notes/watched.txt", "x")
    events = []
    for _ in range(40):
        events.extend(handle.get_new_events())
        if any(e.name == "watched.txt" for e in events):
            break
        time.sleep(0.25)
    handle.stop()
    out["watch"] = [[e.name, e.type.value] for e in events]
    out["is_running"] = sbx.is_running()
finally:
    out["killed"] = sbx.kill()
out["is_running_after_kill"] = sbx.is_running()
print(json.dumps(out))
