"""The engine spread over several devices gives the one-device spectrum: R^T R = sum_j R_j^T R_j
(logits, probs), and the trait channel's gradient rows are the one-device rows, in order.

JAX fixes its device count when it starts, so the two-device run is a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (two CPU devices)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from synthetic.local_problems import local_problem, steering_vector
from synthetic.zoo import load_model, make_prompts
from theory import jacobian_sharding
from theory.jacobian import EngineOptions, _options, square_root_factor
from theory.jacobian_sharding import prompt_mesh, sharded_factor

from .host_devices import run_on_two_host_devices

SCRIPT = r"""
import json, numpy as np, jax
from synthetic.zoo import load_model, make_prompts
from synthetic.local_problems import local_problem, steering_vector
from theory.jacobian import EngineOptions, local_spectrum, trait_rows
out = {"devices": len(jax.devices())}
for name in ("tiny-ln", "tiny-rms"):
    m = load_model(name)
    v = steering_vector(m)
    problem = local_problem(m, 1, prompts=make_prompts(m, 7, 6, 0), alphas=(1.0, 2.0))
    for channel in ("logits", "probs", "trait"):
        one = local_spectrum(problem, v, channel, options=EngineOptions(devices=1))
        chunk = 3 if channel != "trait" else None  # trait: N / 2 prompts per device by default
        two = local_spectrum(problem, v, channel, options=EngineOptions(prompt_chunk=chunk))
        a, b = one.singular_values, two.singular_values
        out[f"{name} {channel}"] = [float(np.abs(a - b).max() / a[0]), one.rank, two.rank]
    # the trait rows themselves, in (alpha, prompt) order, chunks of 2 prompts over 2 devices
    one, two = trait_rows(problem, v), trait_rows(problem, v, prompt_chunk=2, devices=2)
    scale = float(np.abs(one).max())
    out[f"{name} trait rows"] = [float(np.abs(one - two).max() / scale), one.shape[0], two.shape[0]]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_two_devices_give_the_one_device_singular_values():
    out = run_on_two_host_devices(SCRIPT, timeout=600)
    assert out.pop("devices") == 2
    assert len(out) == 8
    for key, (err, rank_one, rank_two) in out.items():  # trait rows: row counts, not ranks
        assert err <= 1e-13, key
        assert rank_one == rank_two, key


def test_devices_must_be_a_local_device_count():
    with pytest.raises(ValueError, match="devices"):
        EngineOptions(devices=0)
    with pytest.raises(ValueError, match="devices"):
        EngineOptions(devices=10_000)


def _factor_setup(channel):
    """tiny-ln at layer 1, N = 7 prompts (a last chunk padded with weight-0 repeats), two
    strengths: the arguments of ``sharded_factor`` and the plain one-device factor."""
    m = load_model("tiny-ln")
    problem = local_problem(m, 1, prompts=make_prompts(m, 7, 6, 0), alphas=(1.0, 2.0))
    vec = jnp.asarray(problem.vector(steering_vector(m)))
    args = problem.jax_args(channel)
    k = min(problem.vocab, problem.d)
    r_u = jnp.asarray(scipy.linalg.qr(problem.w_u.T, mode="r")[0][:k])
    opt = _options(EngineOptions(devices=1))
    plain = square_root_factor(problem, vec, channel, options=EngineOptions(devices=1))
    return (problem, vec, channel, args, r_u), opt, plain


@pytest.mark.parametrize("channel", ["logits", "probs"])
@pytest.mark.parametrize("chunk", [2, 3])
def test_the_shard_map_program_folds_the_one_device_factor(channel, chunk):
    """The accelerator path (one ``shard_map`` program over the mesh) on a one-device mesh: its
    factor R satisfies R^T R = J^T J of the plain loop, as does the factor of the devices folding
    in turns; the default is the fold of its platform (in turns on host devices)."""
    head, opt, plain = _factor_setup(channel)
    mesh = prompt_mesh(1)
    shard = sharded_factor(*head, chunk, opt, mesh, in_turns=False)
    turns = sharded_factor(*head, chunk, opt, mesh, in_turns=True)
    default = sharded_factor(*head, chunk, opt, mesh)
    d = head[0].d
    assert shard.shape == turns.shape == default.shape == (d, d)
    gram = plain.T @ plain
    scale = np.abs(gram).max()
    assert scale > 0
    assert np.abs(shard.T @ shard - gram).max() <= 1e-12 * scale
    assert np.abs(turns.T @ turns - gram).max() <= 1e-12 * scale
    on_host = mesh.devices.flat[0].platform == "cpu"
    assert np.array_equal(default, turns if on_host else shard)


@pytest.mark.parametrize(("in_turns", "takes_turns"), [(None, True), (True, True), (False, False)])
def test_host_devices_fold_in_turns_unless_told_otherwise(monkeypatch, in_turns, takes_turns):
    """The SPMD program can deadlock XLA's CPU runtime, so on host devices the default folds in
    turns; an explicit ``in_turns`` is obeyed. (Which fold runs is observed by wrapping
    ``_per_device_factor``; the factor itself is checked above.)"""
    host_mesh = jax.sharding.Mesh(np.asarray(jax.devices("cpu")[:1]), (jacobian_sharding.AXIS,))
    calls = []
    real = jacobian_sharding._per_device_factor

    def recording(*args):
        calls.append(len(args))
        return real(*args)

    monkeypatch.setattr(jacobian_sharding, "_per_device_factor", recording)
    head, opt, plain = _factor_setup("logits")
    kw = {} if in_turns is None else {"in_turns": in_turns}
    r = sharded_factor(*head, 3, opt, host_mesh, **kw)
    assert bool(calls) is takes_turns
    gram = plain.T @ plain
    assert np.abs(r.T @ r - gram).max() <= 1e-12 * np.abs(gram).max()
