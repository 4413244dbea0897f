"""Claims about the level-set walk (T3 twins), the T3 argument checks and the multi-device engine
that the other tests leave unstated.

- Gauss-Newton pulls a trial back onto the level set: on the rotation-invariant behaviour
  B(w) = |w|^2 the walk's twins stay on the sphere |w| = |v| and reach cosine 0;
- a Gauss-Newton step that exactly halves the residual is progress, not a stall (the walk stops
  only when a step fails to halve it): hand-derived Newton iterates on z(w) = (w^2, 2);
- a trial is kept when its residual is <= ``residual_tol`` (the documented bound, equality
  included);
- ``options`` of a T3 function is None or an ``EngineOptions``, anything else a ValueError naming
  it;
- the relative image of the all-ones direction is |J 1| / (sqrt(d) s_max), independent of the scale
  of J;
- one block of logit tangents re-run through the model is at most 128 MiB of float64;
- on a host with two devices, ``devices=2`` spreads the prompts over both (the sharded fold, trait
  chunks of ceil(N / 2) prompts by default) and gives the one-device J^T J and trait rows, and
  ``prompt_mesh(n)`` spans the first n devices.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import local
from theory.certificate import Verdict
from theory.jacobian import EngineOptions, LocalProblem, coordinates, local_spectrum
from theory.level_set import _gauss_newton, twin_search
from theory.local_common import as_options, exact_symmetries
from theory.validation import InputError

from .host_devices import run_on_two_host_devices


def _square(h):
    """y = h^2 elementwise."""
    return h**2


def _square_second(h):
    """y = (h_1, h_2^2): linear in the first coordinate, quadratic in the second."""
    return jnp.stack([h[..., 0], h[..., 1] ** 2], axis=-1)


def _squared_norm(h):
    """y = (|h|^2, 0): invariant under rotations of h."""
    return jnp.stack([jnp.sum(h**2, axis=-1), jnp.zeros(h.shape[:-1])], axis=-1)


def _identity(h):
    return h * 1.0


def test_twins_of_a_rotation_invariant_behaviour_lie_on_the_sphere():
    """B(w) = |w|^2: the twin has |w| = |v| (pulled back onto the level set) and cosine <= 0."""
    problem = LocalProblem(_squared_norm, np.zeros((1, 1, 2)), np.eye(2))
    v = np.array([3.0, 4.0])
    cert = twin_search(problem, v, channel="logits", target_cosine=0.0)
    twin = cert.witness["twin"]
    assert cert.verdict == Verdict.HOLDS
    assert cert.details["accepted"] >= 1 and cert.details["reached_target"]
    assert cert.cosine <= 0.0
    assert math.isclose(float(np.linalg.norm(twin)), 5.0, rel_tol=1e-9)
    assert math.isclose(cert.cosine, float(twin @ v) / 25.0, rel_tol=1e-9, abs_tol=1e-12)


def test_gauss_newton_goes_on_after_a_step_that_exactly_halves_the_residual():
    """z(w) = (w^2, 2), target 0, from w = 2: Newton halves w; |r| = sqrt 20 -> sqrt 5 (exactly
    half: not a stall) -> sqrt(4.0625) (more than half: stop at w = 1/2)."""
    problem = LocalProblem(
        _square, np.zeros((1, 1, 1)), np.array([[1.0, 0.0]]), b_u=np.array([0.0, 2.0])
    )
    w0 = np.array([2.0])
    target = np.zeros_like(coordinates(problem, w0, "logits"))
    assert 0.5 * math.sqrt(20.0) == math.sqrt(5.0)  # the tie is exact in floating point
    w, res = _gauss_newton(problem, "logits", w0, target, 1.0, 1e-12, 10, None, None)
    assert w.tolist() == [0.5]
    assert res == math.sqrt(0.5**4 + 2.0**2)


def test_a_trial_whose_residual_equals_residual_tol_is_kept():
    """z(w) = (w_1, w_2^2), v = e_1: the first trial (1, 1/4) is pulled back by 10 Newton halvings
    to w_2 = 2^-12, whose residual is 2^-24 exactly; with residual_tol = 2^-24 it is kept and
    ends the walk."""
    problem = LocalProblem(_square_second, np.zeros((1, 1, 2)), np.eye(2))
    v = np.array([1.0, 0.0])
    cert = twin_search(problem, v, channel="logits", residual_tol=2.0**-24)
    w2 = 0.25 / 2**10  # the returned iterate, after max_iter = 10 Newton halvings
    assert cert.details["trials"] == 1 and cert.details["accepted"] == 1
    assert np.allclose(np.abs(cert.witness["twin"]), [1.0, w2], rtol=0, atol=1e-15)
    assert math.isclose(cert.cosine, 1.0 / math.sqrt(1.0 + w2**2), rel_tol=1e-15)
    assert cert.verdict == Verdict.HOLDS


def test_options_of_a_t3_function_is_none_or_engine_options():
    """as_options returns None and an EngineOptions unchanged, and refuses anything else."""
    opt = EngineOptions(direction_chunk=1)
    assert as_options(opt) is opt
    assert as_options(None) is None
    for bad in ("fast", 1, {"devices": 1}):
        with pytest.raises(InputError, match="options"):
            as_options(bad)


def test_twin_search_takes_engine_options_and_refuses_other_options():
    """twin_search with EngineOptions(direction_chunk=1) walks as without them; a str is refused."""
    problem = LocalProblem(_square_second, np.zeros((1, 1, 2)), np.eye(2))
    v = np.array([1.0, 0.0])
    plain = twin_search(problem, v, channel="logits", residual_tol=2.0**-22)
    opt = EngineOptions(direction_chunk=1)
    chunked = twin_search(problem, v, channel="logits", residual_tol=2.0**-22, options=opt)
    assert math.isclose(chunked.cosine, plain.cosine, rel_tol=1e-14)
    assert chunked.details["trials"] == plain.details["trials"]
    with pytest.raises(InputError, match="options"):
        twin_search(problem, v, channel="logits", options="fast")


@settings(max_examples=15, deadline=None)  # the first example pays for JAX compilation
@given(st.integers(0, 2**32 - 1), st.floats(0.05, 20.0))
def test_relative_image_of_ones_is_its_image_over_sqrt_d_s_max(seed, scale):
    """Linear B(v) = (h + v) W_U: exact_symmetries' ratio = |W_U^T 1| / (sqrt(d) |W_U|_2),
    unchanged by scaling W_U (so by the scale of J)."""
    rng = np.random.default_rng(seed)
    d, V = 3, 4
    w_u = scale * rng.standard_normal((d, V))
    stream = rng.standard_normal((1, 1, d))
    problem = LocalProblem(_identity, stream, w_u)
    spec = local_spectrum(problem, rng.standard_normal(d), "logits")
    _, ratio = exact_symmetries(spec)
    expected = np.linalg.norm(w_u.T @ np.ones(d)) / (math.sqrt(d) * np.linalg.norm(w_u, 2))
    assert 0.0 <= ratio <= 1.0 + 1e-12  # |J u| <= s_max |u|
    assert math.isclose(ratio, expected, rel_tol=1e-9, abs_tol=1e-15)


def test_a_block_of_logit_tangents_is_at_most_128_mib():
    """The documented budget of one (b, N, T, V) block of tangents: 128 MiB of float64."""
    assert local._JVP_BLOCK_FLOATS * np.dtype(np.float64).itemsize == 128 * 2**20


TWO_DEVICES = r"""
import json, math, numpy as np, jax, jax.numpy as jnp
import theory.jacobian as J
from theory.jacobian import EngineOptions, LocalProblem
from theory.jacobian_sharding import prompt_mesh

out = {"devices": len(jax.devices())}
out["mesh"] = [prompt_mesh(1).devices.size, prompt_mesh(2).devices.size, prompt_mesh().devices.size]
out["mesh_first"] = prompt_mesh(1).devices.flat[0] == jax.devices()[0]
folds, trait_chunks = [], []
sharded_factor, sharded_trait_rows = J.sharded_factor, J.sharded_trait_rows
def spy_factor(*args):  # records the mesh size, then folds as before
    folds.append(int(args[-1].devices.size))
    return sharded_factor(*args)
def spy_trait(problem, vec, args, chunk, devices):  # records the chunk, then computes as before
    trait_chunks.append([chunk, len(devices)])
    return sharded_trait_rows(problem, vec, args, chunk, devices)
J.sharded_factor, J.sharded_trait_rows = spy_factor, spy_trait

def fn(h):
    return jnp.tanh(h) + 0.5 * jnp.cumsum(h, axis=1) ** 2
rng = np.random.default_rng(0)
N, T, d, V = 7, 2, 3, 4
problem = LocalProblem(fn, rng.standard_normal((N, T, d)), rng.standard_normal((d, V)),
                       alphas=(1.0, 2.0), plus=(0,), minus=(1,))
v = rng.standard_normal(d)
one = J.square_root_factor(problem, v, "logits", EngineOptions(devices=1))
two = J.square_root_factor(problem, v, "logits", EngineOptions(devices=2))
g1, g2 = one.T @ one, two.T @ two
out["gram"] = float(np.abs(g1 - g2).max() / np.abs(g1).max())
r1, r2 = J.trait_rows(problem, v), J.trait_rows(problem, v, devices=2)
out["rows"] = [list(r1.shape), list(r2.shape), float(np.abs(r1 - r2).max() / np.abs(r1).max())]
out["folds"], out["trait_chunks"] = folds, trait_chunks
print(json.dumps(out))
"""


def test_two_devices_spread_the_prompts_and_keep_the_one_device_numbers():
    """Two host devices: devices=2 folds per device (mesh of 2), trait chunks of ceil(7 / 2) = 4
    prompts, J^T J and the trait rows of one device; prompt_mesh(n) spans the first n devices."""
    out = run_on_two_host_devices(TWO_DEVICES)
    assert out["devices"] == 2
    assert out["mesh"] == [1, 2, 2] and out["mesh_first"]
    assert out["folds"] == [2]  # devices=1 runs the plain loop, devices=2 the per-device fold
    assert out["gram"] <= 1e-13
    assert out["trait_chunks"] == [[math.ceil(7 / 2), 2]]
    shape_one, shape_two, err = out["rows"]
    assert shape_one == shape_two == [2 * 7, 3]
    assert err <= 1e-13
