"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 5, K):

- T1b: the re-run residual of the ray members is held to ``allowed_residual(class)``
  (``residual_tolerance``), and both are None when v has no ray (k = 0 or v_id = 0);
- T3(c): the exact-symmetry gate measures max_eps |B(v + eps 1/sqrt(d)) - B(v)| relative to
  max(|B(v)|, 1) and passes iff that is at most 1e-12 (steps below 1, where max(1, max eps) = 1);
- T3(a): the constant-rank neighbours sit at distance radius * max(|v|, 1) from v, also when
  |v| < 1 (a ball of constant rank of radius rho > radius around v gives holds).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from theory.certificate import Verdict
from theory.first_order import check_t3c
from theory.linear import equivalence_class
from theory.linear_checks import check_t1b
from theory.linear_evidence import RESIDUAL_TOL, allowed_residual
from theory.local import LAYERNORM_MEAN, spectrum_certificate
from theory.local_problem import LocalProblem

from .test_claims_screen_e import RHO, _ball_problem

# ---------------------------------------------------------------------------------------------
# T1b: the residual and the tolerance it is held to


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_t1b_ray_residual_is_held_to_the_allowed_residual(seed):
    """v with a nonzero identified part and a nonzero kernel part has a ray: its re-run members
    give a residual, held to allowed_residual(class) = max(RESIDUAL_TOL, 10 tau / s_1)."""
    rng = np.random.default_rng(seed)
    L = rng.standard_normal((2, 5))
    v = rng.standard_normal(5)
    cert = check_t1b(L, v)
    cls = equivalence_class(L, v)
    assert cert.verdict is Verdict.HOLDS
    s = np.linalg.svd(L, compute_uv=False)
    expected = max(RESIDUAL_TOL, 10.0 * cls.decision.tolerance / float(s[0]))
    assert cert.residual_tolerance is not None
    assert cert.residual_tolerance == pytest.approx(expected, rel=1e-12)
    assert cert.residual_tolerance == allowed_residual(cls)
    assert cert.residual is not None and 0.0 <= cert.residual <= cert.residual_tolerance


@pytest.mark.parametrize("part", ["row", "kernel"])
def test_t1b_without_a_ray_has_no_residual_and_no_tolerance(part):
    """k = 0 (v in the row space) or v_id = 0 (v in the kernel): no ray is re-run, so neither a
    residual nor a tolerance for it is reported."""
    rng = np.random.default_rng(5)
    L = rng.standard_normal((2, 5))
    if part == "row":
        v = L.T @ rng.standard_normal(2)
    else:
        _, _, vt = np.linalg.svd(L)
        v = vt[2:].T @ rng.standard_normal(3)
    cert = check_t1b(L, v)
    assert cert.verdict is Verdict.HOLDS
    assert cert.residual is None
    assert cert.residual_tolerance is None


# ---------------------------------------------------------------------------------------------
# T3(c): the exact-symmetry gate

D = 3
E0 = np.array([1.0, 0.0, 0.0])


def _mean_square_downstream(p, h):
    """y = c (h - mean(h) 1) + kappa mean(h)^2 e_0: at a v with mean 0, J 1 = 0 exactly (the
    LayerNorm direction is in the null space), yet moving along 1 by eps / sqrt(d) changes y by
    kappa eps^2 / d e_0 (second order)."""
    m = jnp.mean(h, axis=-1, keepdims=True)
    return p["c"] * (h - m) + p["kappa"] * m**2 * jnp.asarray(E0)


def _mean_square_problem(kappa: float, c: float, w_u: np.ndarray) -> LocalProblem:
    params = {"c": jnp.asarray(c), "kappa": jnp.asarray(kappa)}
    fn = jax.tree_util.Partial(_mean_square_downstream, params)
    return LocalProblem(fn, np.zeros((1, 1, D)), w_u)  # the downstream map sees h = v


@pytest.mark.parametrize("c", [0.2, 0.35, 3.0])
@pytest.mark.parametrize("target", [0.5, 1.5])
def test_t3c_symmetry_change_is_relative_to_max_of_behaviour_norm_and_one(c, target):
    """symmetry_change_max = max_eps |B(v + eps 1/sqrt(d)) - B(v)| / max(|B(v)|, 1), and the
    symmetry gate passes iff it is <= 1e-12 max(1, max eps); kappa is chosen so that this
    relative change is ``target`` * 1e-12 (with |B(v)| below 1, between 1 and 2, or above 2)."""
    w_u = np.random.default_rng(3).standard_normal((D, 4))
    v = np.array([0.3, -0.3, 0.0])  # mean exactly 0 in floats
    eps = np.array([1e-4, 1e-3, 1e-2])
    b_norm = float(np.linalg.norm(c * v @ w_u))  # B(v) = c v W_U since mean(v) = 0
    scale = max(b_norm, 1.0)
    per_kappa = eps.max() ** 2 / D * float(np.linalg.norm(E0 @ w_u))  # change / kappa
    kappa = target * 1e-12 * scale / per_kappa
    cert = check_t3c(_mean_square_problem(kappa, c, w_u), v, "logits", eps=eps, kl=False)
    d = cert.details
    assert LAYERNORM_MEAN in cert.symmetries
    expected = kappa * per_kappa / scale
    assert d["symmetry_change_max"] == pytest.approx(expected, rel=1e-3)
    assert d["symmetry_change_max"] == pytest.approx(target * 1e-12, rel=1e-3)
    gate = d["gate_margins"]["symmetry"]
    assert (gate >= 1) is (target <= 1)
    if target > 1:
        assert cert.verdict is Verdict.VIOLATED
    assert math.isfinite(gate)


# ---------------------------------------------------------------------------------------------
# T3(a): where the neighbours are drawn when |v| < 1


@pytest.mark.parametrize(
    ("centre", "radius"),
    [
        ((0.0, 0.3, 0.4), 0.07),  # |v| = 0.5: distance 0.07 < rho (not 2 * 0.07)
        ((0.0, 0.6, 0.8), 0.07),  # |v| = 1: distance 0.07 < rho
        ((0.0, 0.0, 0.0), 0.08),  # v = 0: distance radius = 0.08 < rho
        ((0.0, 0.3, 0.4), 0.15),  # |v| = 0.5: distance 0.15 > rho
        ((0.0, 0.0, 0.0), 0.15),  # v = 0: distance 0.15 > rho
    ],
)
def test_t3a_neighbours_of_a_short_v_sit_at_radius(centre, radius):
    """For |v| <= 1 the neighbours are at distance radius * max(|v|, 1) = radius: every one has
    the rank of v (holds) iff radius < rho."""
    v = np.array(centre)
    distance = radius * max(float(np.linalg.norm(v)), 1.0)
    inside = distance < RHO
    cert = spectrum_certificate(_ball_problem(v), v, "logits", neighbours=3, radius=radius)
    assert cert.rank == 2
    assert cert.details["neighbour_ranks"] == [2 if inside else 3] * 3
    assert (cert.verdict is Verdict.HOLDS) is inside
