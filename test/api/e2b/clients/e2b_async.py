"""The async e2b Python SDK (AsyncSandbox) through the control plane; prints one JSON object."""
import asyncio
import json
import sys

from e2b import AsyncSandbox, SandboxQuery


async def main():
    tag = sys.argv[1]
    out = {}
    sbx = await AsyncSandbox.create(template="base", timeout=60, metadata={"suite": "e2b-async", "tag": tag})
    out["sandbox_id"] = sbx.sandbox_id
    out["state"] = (await sbx.get_info()).state.value
    out["pause"] = await sbx.pause()
    out["pause_again"] = await sbx.pause()
    again = await AsyncSandbox.connect(sbx.sandbox_id, timeout=90)
    out["state_after_connect"] = (await again.get_info()).state.value
    out["listed"] = [s.sandbox_id for s in await AsyncSandbox.list(query=SandboxQuery(metadata={"tag": tag})).next_items()]
    await sbx.set_timeout(30)
    out["kill"] = await sbx.kill()
    out["kill_again"] = await sbx.kill()
    print(json.dumps(out))


asyncio.run(main())
