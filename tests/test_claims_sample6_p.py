"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 6, P):

- ``over(e, t)`` is e / t; with threshold 0 it is inf when e > 0 and exactly 0 when e = 0;
- ``_hellinger_factor(z, W_U^T)`` is a square root of the softmax Fisher block:
  S^T S = W_U (diag p - p p^T) W_U^T, also where W_U p = 0 (the p p^T term vanishes);
- ``check_t8_rate``'s slack defaults to 0.15 (the default equals the value passed explicitly);
- ``check_t8_twin``'s defaults n_samples 4000, n_random 8 and min_error_ratio 5.0 equal the values
  passed explicitly (and differ from a neighbouring value);
- ``check_t8_twin``'s four samples (A s, B s' and the control's two) are fresh draws: with the
  control sampler equal to the main one, no two of them coincide;
- ``sharded_trait_rows`` on two host devices: chunk k runs on device k mod D and the rows are the
  one-device rows in (alpha, prompt) order, for more chunks than twice the devices.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from synthetic.sources import gaussian_mask, mixture_sampler, random_mixing, source_sampler
from theory.certificate import Verdict
from theory.gates import over
from theory.independence import check_t8_rate, check_t8_twin
from theory.jacobian_kernels import _hellinger_factor

from .host_devices import run_on_two_host_devices

# ---------------------------------------------------------------------------------------------
# theory.gates.over


def test_over_with_a_zero_threshold_is_inf_or_exactly_zero():
    """threshold 0: inf when the evidence is positive, 0 (nothing was seen) when it is 0 too;
    otherwise e / t, >= 1 iff e >= t."""
    assert over(0.0, 0.0) == 0.0
    assert over(1e-300, 0.0) == math.inf
    assert over(3.0, 0.0) == math.inf
    for e, t in np.random.default_rng(6).uniform(0.0, 2.0, size=(20, 2)):
        assert over(float(e), float(t)) == float(e) / float(t)
        assert (over(float(e), float(t)) >= 1) == (e >= t)


# ---------------------------------------------------------------------------------------------
# theory.jacobian_kernels._hellinger_factor


def _fisher(z: np.ndarray, w_t: np.ndarray) -> np.ndarray:
    """W_U (diag p - p p^T) W_U^T with p = softmax(z), W_U = w_t^T (independent reference)."""
    p = np.exp(z - z.max())
    p /= p.sum()
    return w_t.T @ (np.diag(p) - np.outer(p, p)) @ w_t


def _assert_square_root(z: np.ndarray, w_t: np.ndarray) -> None:
    S = np.asarray(_hellinger_factor(jnp.asarray(z), jnp.asarray(w_t)))
    assert S.shape == (min(w_t.shape), w_t.shape[1])
    assert np.all(np.isfinite(S))
    G = _fisher(z, w_t)
    np.testing.assert_allclose(S.T @ S, G, rtol=0, atol=1e-12 * np.abs(G).max())


@pytest.mark.parametrize("V, d", [(6, 3), (3, 5), (4, 4), (9, 2)])
def test_hellinger_factor_squares_to_the_softmax_fisher_block(V, d):
    """S^T S = W_U (diag p - p p^T) W_U^T for random logits and unembeddings (V > d, V < d,
    V = d)."""
    rng = np.random.default_rng(V * 10 + d)
    for _ in range(5):
        _assert_square_root(3.0 * rng.standard_normal(V), rng.standard_normal((V, d)))


@pytest.mark.parametrize("V, d", [(2, 1), (4, 2), (6, 3), (8, 5)])
def test_hellinger_factor_where_the_mean_unembedding_vanishes(V, d):
    """W_U p = 0 (tokens in pairs of equal probability with opposite unembeddings, or uniform p
    with a centred unembedding): the mean term p p^T vanishes and S^T S = W_U diag(p) W_U^T; the
    factor stays finite there."""
    rng = np.random.default_rng(V + d)
    half = rng.standard_normal(V // 2)
    w_half = rng.standard_normal((V // 2, d))
    z, w_t = np.concatenate([half, half]), np.concatenate([w_half, -w_half])
    _assert_square_root(z, w_t)
    w_c = rng.standard_normal((V, d))
    _assert_square_root(np.zeros(V), w_c - w_c.mean(axis=0))


# ---------------------------------------------------------------------------------------------
# theory.independence.check_t8_rate


def test_rate_slack_defaults_to_0_15():
    """slack defaults to 0.15: leaving it out gives the certificate of slack=0.15 passed
    explicitly (tolerance 0.15), and not that of slack=0.3."""
    A = random_mixing(2, 2, seed=3)
    sampler = mixture_sampler(A, ("laplace", "uniform"))
    sizes = np.array([300, 1200])
    default = check_t8_rate(A, sampler, sizes, seeds=range(2))
    explicit = check_t8_rate(A, sampler, sizes, seeds=range(2), slack=0.15)
    assert default == explicit
    assert default.tolerance == 0.15 == default.residual_tolerance
    assert default != check_t8_rate(A, sampler, sizes, seeds=range(2), slack=0.3)


# ---------------------------------------------------------------------------------------------
# theory.independence_twin.check_t8_twin

TWIN_LAWS = ("laplace", "gaussian", "gaussian")
CONTROL_LAWS = ("laplace", "uniform", "laplace")
TWIN_A = random_mixing(3, 3, seed=1)
TWIN_SMALL = {
    "n_samples": 3000,
    "control_sample_sources": source_sampler(CONTROL_LAWS),
    "ica_sizes": np.array([300, 1500]),
    "ica_seeds": range(3),
}


def _twin(**kw):
    return check_t8_twin(TWIN_A, gaussian_mask(TWIN_LAWS), source_sampler(TWIN_LAWS), **kw)


@pytest.mark.parametrize(
    "name, value, neighbour, others",
    [
        ("n_samples", 4000, 4001, {}),
        ("n_random", 8, 9, {"n_samples": 600}),
        ("min_error_ratio", 5.0, 10.0, TWIN_SMALL),
    ],
)
def test_twin_defaults_are_the_documented_values(name, value, neighbour, others):
    """Leaving out n_samples / n_random / min_error_ratio gives the certificate of 4000 / 8 / 5.0
    passed explicitly, and not that of a neighbouring value."""
    default = _twin(**others)
    assert default == _twin(**others, **{name: value})
    assert default != _twin(**others, **{name: neighbour})
    if name == "n_samples":
        assert default.details["n_samples"] == 4000
    if name == "min_error_ratio":  # holds: block error ratio >= 5, margin <= ratio / 5
        assert default.verdict is Verdict.HOLDS, default.reason
        ratio = default.details["block_error_ratio"]
        assert ratio >= 5.0 and default.margin <= ratio / 5.0


def test_twin_samples_are_fresh_draws():
    """The two samples of the twin test and the two of the control test are four draws: with the
    control sampler equal to the main one, no two coincide (the control is not a replay)."""
    inner = source_sampler(TWIN_LAWS)
    drawn = []

    def sampler(n, rng):
        S = inner(n, rng)
        drawn.append(S.copy())
        return S

    cert = check_t8_twin(
        TWIN_A, gaussian_mask(TWIN_LAWS), sampler, n_samples=300, control_sample_sources=sampler
    )
    assert len(drawn) == 4
    for i in range(4):
        for j in range(i):
            assert not np.array_equal(drawn[i], drawn[j]), (i, j)
    assert cert.details["control_test"] != cert.details["twin_test"]


# ---------------------------------------------------------------------------------------------
# theory.jacobian_sharding.sharded_trait_rows (two host devices: a subprocess)

TRAIT_ROWS = r"""
import json, numpy as np, jax, jax.numpy as jnp
import theory.jacobian_sharding as S
from theory.jacobian import LocalProblem, trait_rows

placed = []
grad = S._trait_grad
def spy(fn, h, *rest):  # records the device of each chunk's prompts, then computes as before
    placed.append(next(iter(h.devices())).id)
    return grad(fn, h, *rest)
S._trait_grad = spy

def fn(h):
    return jnp.tanh(h) + 0.5 * jnp.cumsum(h, axis=1) ** 2
rng = np.random.default_rng(6)
N, T, d, V = 5, 2, 3, 4
problem = LocalProblem(fn, rng.standard_normal((N, T, d)), rng.standard_normal((d, V)),
                       alphas=(1.0, -0.5), plus=(0,), minus=(2,))
v = rng.standard_normal(d)
one = trait_rows(problem, v)
two = trait_rows(problem, v, prompt_chunk=1, devices=2)
ids = [dev.id for dev in jax.devices()[:2]]
out = {"devices": len(jax.devices()), "ids": ids, "placed": placed,
       "shapes": [list(one.shape), list(two.shape)],
       "err": float(np.abs(one - two).max() / np.abs(one).max())}
print(json.dumps(out))
"""


def test_two_device_trait_rows_place_chunk_k_on_device_k_mod_d():
    """Chunks of one prompt over two host devices (five chunks per strength): chunk k runs on
    device k mod 2, and the rows are the one-device rows, (alpha, prompt) order."""
    out = run_on_two_host_devices(TRAIT_ROWS)
    assert out["devices"] == 2
    ids = out["ids"]
    assert out["placed"] == [ids[k % 2] for _ in range(2) for k in range(5)]
    assert out["shapes"] == [[2 * 5, 3], [2 * 5, 3]]
    assert out["err"] <= 1e-13
