"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 9, G):

- T4 is T1 on the centred activations: every score move ``w -> w + u`` changes the scores by
  ``H_c u``, so with the same seed and the same rank cut-off (``scale = |H|_2``) ``check_t4``
  draws the member that ``check_t1(H_c, w)`` draws, ``w + |w| u`` (u a unit vector of ker H_c),
  and reaches the same verdict.
- When H_c has full column rank, ker H_c = {0} and w is identified exactly: nothing moves, so T4
  holds with its rank margin (as T1 on H_c does); a claimed member equal to w holds as well.
- ``check_t8_laws``'s default twin rotates the first Gaussian plane by pi/4, the rotation that
  mixes the two Gaussian columns equally: every entry of that block of ``A^+ B`` has modulus
  1/sqrt(2), and the certificate records ``angle = pi/4``.
- ``trait_rows``' default direction chunk is the engine's (``EngineOptions.direction_chunk``,
  64): forward-mode trait rows read with the default are those read at that width, bit for bit,
  on a d > 64 problem where the width splits the basis directions.
"""

from __future__ import annotations

import inspect
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from theory.certificate import Verdict
from theory.estimation import centred, check_t4, probe_class
from theory.independence import check_t8_laws
from theory.jacobian import EngineOptions, LocalProblem, trait_rows
from theory.linear_checks import check_t1

# ---------------------------------------------------------------------------------------------
# T4 against T1 on the centred activations


@pytest.mark.parametrize("seed", [0, 3, 11])
@pytest.mark.parametrize(("n", "d", "w_scale"), [(3, 6, 1.5), (4, 7, 0.2), (5, 5, 3.0)])
def test_t4_draws_the_member_t1_draws_on_the_centred_activations(seed, n, d, w_scale):
    rng = np.random.default_rng(100 * n + d)
    H = rng.standard_normal((n, d)) + 2.0  # an offset mean: centring matters
    w = w_scale * rng.standard_normal(d)
    t4 = check_t4(H, w, b=0.3, seed=seed)
    t1 = check_t1(centred(H), w, seed=seed, scale=float(np.linalg.norm(H, 2)))
    assert t4.dim == t1.dim == d - (n - 1) > 0
    assert t4.verdict is t1.verdict is Verdict.HOLDS
    member = t4.witness["member"]
    np.testing.assert_array_equal(member, t1.witness["member"])
    # the member is w + |w| u with u a unit vector of ker H_c
    u = (member - w) / np.linalg.norm(w)
    assert abs(np.linalg.norm(u) - 1.0) <= 1e-12
    assert np.linalg.norm(centred(H) @ u) <= 1e-12 * np.linalg.norm(H, 2)


# ---------------------------------------------------------------------------------------------
# T4 with ker H_c = {0}


@pytest.mark.parametrize("seed", [0, 1])
def test_t4_holds_when_the_centred_activations_have_full_column_rank(seed):
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((20, 4))
    w = rng.standard_normal(4)
    cls = probe_class(H, w)
    assert cls.certified and cls.rank == 4 and cls.dim == 0
    cert = check_t4(H, w, b=-0.7, seed=seed)
    assert cert.verdict is Verdict.HOLDS, cert.reason
    assert cert.dim == 0
    assert cert.margin == cls.decision.margin
    # nothing moved: no member other than w is offered, and the scores are unchanged
    assert "member" not in cert.witness
    assert cert.details["score_change_in_class"] == 0.0
    t1 = check_t1(centred(H), w, seed=seed, scale=float(np.linalg.norm(H, 2)))
    assert t1.verdict is Verdict.HOLDS


def test_t4_holds_for_a_claimed_member_equal_to_w():
    rng = np.random.default_rng(7)
    H = rng.standard_normal((3, 6))
    w = rng.standard_normal(6)
    cert = check_t4(H, w, b=0.5, member=w.copy())
    assert cert.dim == 4
    assert cert.verdict is Verdict.HOLDS, cert.reason
    assert cert.details["score_change_in_class"] == 0.0


# ---------------------------------------------------------------------------------------------
# T8's default twin


@pytest.mark.parametrize(
    ("shape", "gaussian"),
    [((5, 3), [True, False, True]), ((4, 4), [False, True, True, False]), ((3, 2), [True, True])],
)
def test_t8_laws_default_twin_mixes_the_gaussian_columns_equally(shape, gaussian):
    rng = np.random.default_rng(sum(shape))
    A = rng.standard_normal(shape)
    cert = check_t8_laws(A, gaussian)
    assert cert.verdict is Verdict.VIOLATED, cert.reason
    assert cert.details["angle"] == math.pi / 4
    idx = np.flatnonzero(gaussian)[:2]
    P = np.linalg.pinv(A) @ cert.witness["twin"]
    block = P[np.ix_(idx, idx)]
    np.testing.assert_allclose(np.abs(block), np.full((2, 2), 1.0 / math.sqrt(2.0)), atol=1e-12)
    # off the Gaussian plane A^+ B is the identity
    rest = np.setdiff1d(np.arange(shape[1]), idx)
    np.testing.assert_allclose(P[np.ix_(rest, rest)], np.eye(rest.size), atol=1e-12)


# ---------------------------------------------------------------------------------------------
# trait_rows' default direction chunk


def _norm(p, x):
    c = x - x.mean(axis=-1, keepdims=True)
    return c / jnp.sqrt((c * c).mean(axis=-1, keepdims=True) + 1e-3) * p["g"]


def _downstream(p, h):
    a = _norm(p, h)
    return _norm(p, h + jnp.tanh(a @ p["w1"]) @ p["w2"])


def test_trait_rows_default_direction_chunk_is_the_engines():
    default = inspect.signature(trait_rows).parameters["direction_chunk"].default
    assert default == EngineOptions().direction_chunk == 64
    d, V = 65, 7
    rng = np.random.default_rng(65)
    p = {
        "w1": rng.standard_normal((d, d)) / np.sqrt(d),
        "w2": rng.standard_normal((d, d)) / np.sqrt(d),
        "g": 1.0 + 0.2 * rng.standard_normal(d),
    }
    problem = LocalProblem(
        jax.tree_util.Partial(_downstream, jax.tree_util.tree_map(jnp.asarray, p)),
        rng.standard_normal((3, 2, d)),
        rng.standard_normal((d, V)),
        alphas=(1.0, -0.5),
        plus=np.array([0, 1]),
        minus=np.array([2, 3]),
    )
    v = rng.standard_normal(d)
    rows = trait_rows(problem, v, mode="forward")
    at_engine_width = trait_rows(
        problem, v, mode="forward", direction_chunk=EngineOptions().direction_chunk
    )
    np.testing.assert_array_equal(rows, at_engine_width)
    # the forward rows are the gradients: reverse mode agrees to round-off
    reverse = trait_rows(problem, v, mode="reverse")
    assert np.max(np.abs(rows - reverse)) <= 1e-13 * np.max(np.abs(reverse))
