"""Run a script on two host (CPU) devices: JAX fixes its device count when it starts, so the run
is a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=2``; the script prints one
JSON line last, which is returned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def run_on_two_host_devices(script: str, timeout: int = 300) -> dict[str, Any]:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])
