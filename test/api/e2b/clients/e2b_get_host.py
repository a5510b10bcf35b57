"""Prints what the real e2b Python SDK's get_host(port) gives for a new sandbox (the test opens it)."""
import json
import sys

from e2b import Sandbox

sbx = Sandbox.create(template="base", timeout=120)
print(json.dumps({"sandbox_id": sbx.sandbox_id, "host": sbx.get_host(int(sys.argv[1]))}))
