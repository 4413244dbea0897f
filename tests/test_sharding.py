"""The engine spread over several devices gives the one-device spectrum: R^T R = sum_j R_j^T R_j.

JAX fixes its device count when it starts, so the two-device run is a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (two CPU devices)."""

import json
import os
import subprocess
import sys

import pytest

from theory.jacobian import EngineOptions

SCRIPT = r"""
import json, numpy as np, jax
from synthetic.zoo import load_model, make_prompts
from synthetic.local_problems import local_problem, steering_vector
from theory.jacobian import EngineOptions, local_spectrum
out = {"devices": len(jax.devices())}
for name in ("tiny-ln", "tiny-rms"):
    m = load_model(name)
    v = steering_vector(m)
    problem = local_problem(m, 1, prompts=make_prompts(m, 7, 6, 0), alphas=(1.0, 2.0))
    for channel in ("logits", "probs"):
        one = local_spectrum(problem, v, channel, options=EngineOptions(devices=1))
        two = local_spectrum(problem, v, channel, options=EngineOptions(prompt_chunk=3))
        a, b = one.singular_values, two.singular_values
        out[f"{name} {channel}"] = [float(np.abs(a - b).max() / a[0]), one.rank, two.rank]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_two_devices_give_the_one_device_singular_values():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out.pop("devices") == 2
    assert len(out) == 4
    for key, (err, rank_one, rank_two) in out.items():
        assert err <= 1e-13, key
        assert rank_one == rank_two, key


def test_devices_must_be_a_local_device_count():
    with pytest.raises(ValueError, match="devices"):
        EngineOptions(devices=0)
    with pytest.raises(ValueError, match="devices"):
        EngineOptions(devices=10_000)
