"""Runs examples/seed004_walkthrough.py as a user would, against the live stack."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "seed004_walkthrough.py"


def test_seed004_walkthrough_runs(live):
    proc = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "command: hello 42" in proc.stdout
    assert proc.stdout.rstrip().endswith("done")
