"""Claims about steering-level checks (T5 efficacy, T6 environments, T3(c) KL gate, T2a default
tolerance, re-runs, behaviour comparisons), stated so that a wrong operator, comparison or
constant in ``theory/`` breaks one of them.

Each test states one claim from a docstring, a documented constant or docs/theorems.md and checks
it against an independent computation: the T5 first-order residual of a quadratic score in closed
form, the edge p = alpha / 100 of the T5 verdict, the round-off model of ``compare_behaviours``,
the generic stacked rank min(d, sum r_e) of T6, the KL ratio at a large step recomputed from the
model, and the edges of the T2a, re-run and separation rules.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.certificate import Verdict
from theory.efficacy import EfficacySample, sample_efficacy, t5_certificate
from theory.environments import environment_changes, identifiable_fraction
from theory.first_order import check_t3c, kl_divergences
from theory.jacobian import LocalProblem
from theory.norm_symmetry import check_t2a
from theory.rerun import rerun_ratio
from theory.residual import BehaviourComparison, compare_behaviours

from .strategies import ranked_matrices
from .test_jacobian_engine import small_downstream

unit_floats = st.floats(-1.0, 1.0)

# ---------------------------------------------------------------------------------------------
# T5: the first-order residual and the violated verdict


@st.composite
def quadratic_scores(draw):
    """(v, w, q, rho): s(x) = <w, x> + q |P_perp x|^2 (P_perp: orthogonal to v), <w, v> > 0."""
    d = draw(st.integers(3, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    v = rng.standard_normal(d) * draw(st.floats(0.1, 10.0))
    vhat = v / np.linalg.norm(v)
    raw = rng.standard_normal(d)
    perp = raw - (raw @ vhat) * vhat
    perp = perp / np.linalg.norm(perp) * draw(st.floats(0.2, 3.0))
    w = draw(st.floats(0.5, 2.0)) * vhat + perp
    return v, w, draw(st.floats(0.1, 2.0) | st.floats(-2.0, -0.1)), draw(st.floats(0.05, 0.5))


@settings(max_examples=20)
@given(quadratic_scores())
def test_t5_first_order_residual_of_a_quadratic_score_is_q_rho_v_over_perp_w(drawn):
    """For s(x) = <w, x> + q |P_perp x|^2, R - 1 - rho c U = q rho^2 |v|^2 / <w, v> on every draw,
    so max |R - 1 - rho c U| / (rho |c|) = |q| rho |v| / |P_perp w|."""
    v, w, q, rho = drawn
    vhat = v / np.linalg.norm(v)

    def score(X):
        X = np.atleast_2d(X)
        P = X - np.outer(X @ vhat, vhat)
        return X @ w + q * np.sum(P * P, axis=1)

    sample = sample_efficacy(score, v, w, rho, n=16, seed=1)  # gradient at v is w: P_perp v = 0
    perp_w = np.linalg.norm(w - (w @ vhat) * vhat)
    expected = abs(q) * rho * np.linalg.norm(v) / perp_w
    assert not sample.degenerate
    assert sample.slope == pytest.approx(np.linalg.norm(v) * perp_w / (w @ v), rel=1e-12)
    assert sample.first_order_residual == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_t5_violated_exactly_below_alpha_over_100(alpha):
    """t5_certificate: with the affine gate failing, a KS p-value just below alpha / 100 is
    violated and p = alpha / 100 itself is undecided (the documented edge)."""

    def sample(p):
        return EfficacySample(
            d=5,
            rho=0.1,
            slope=1.0,
            ratios=np.array([0.9, 1.0, 1.1]),
            degenerate=False,
            first_order_residual=1.0,  # far above AFFINE_TOL: the affine gate fails
            ks_statistic=0.5,
            ks_pvalue=p,
        )

    edge = alpha / 100
    below = t5_certificate(sample(edge * (1 - 1e-3)), alpha)
    assert below.verdict is Verdict.VIOLATED
    assert t5_certificate(sample(edge), alpha).verdict is Verdict.UNDECIDED


# ---------------------------------------------------------------------------------------------
# T6: environments


@settings(max_examples=20)
@given(ranked_matrices(max_dim=5, min_rank=1), st.lists(unit_floats, min_size=5, max_size=5))
def test_environment_changes_use_the_round_off_of_b_at_v_and_v_plus_u(M, raw):
    """environment_changes: per environment, (|L(v + u) - L v|, the round-off of B at v and at
    v + u), the same change and noise that compare_behaviours(L, v, v + u) measures."""
    L = M.L
    v = np.array(raw[: M.d]) + np.eye(M.d)[0]
    if np.linalg.norm(L @ v) == 0:
        v = M.row_space[:, 0]
    for t in (0.5, 1.0, 1.7):
        u = t * v  # |L(v + u)| = (1 + t) |L v| exceeds both |L v| and |L(v - u)|
        ((change, noise),) = environment_changes([L], v, u)
        ref = compare_behaviours(lambda x: L @ x, v, v + u, None)
        assert change == pytest.approx(np.linalg.norm(L @ u), rel=1e-9)
        assert change == pytest.approx(ref.inside, rel=1e-9)
        assert noise == pytest.approx(ref.noise, rel=1e-12)


@settings(max_examples=15)
@given(st.integers(2, 6).flatmap(lambda d: st.tuples(st.just(d), st.integers(1, d))))
def test_identifiable_fraction_is_one_iff_the_environments_reach_rank_d(dims):
    """Generic Gaussian readouts of rank r stack to rank min(d, E r): ceil(d / r) environments
    identify v in every draw, fewer (E r < d) in none."""
    d, r = dims
    enough = math.ceil(d / r)
    assert identifiable_fraction(d, r, enough, 3, 0) == 1.0
    if enough > 1:
        assert identifiable_fraction(d, r, enough - 1, 3, 0) == 0.0


# ---------------------------------------------------------------------------------------------
# T3(c): the KL gate at every step


def _fixed_problem():
    """A LocalProblem of the small family of test_jacobian_engine (N, T, d, V) = (2, 3, 5, 4)."""
    N, T, d, V = 2, 3, 5, 4
    rng = np.random.default_rng(0)
    p = {
        "w1": rng.standard_normal((d, d)) / np.sqrt(d),
        "w2": rng.standard_normal((d, d)) / np.sqrt(d),
        "w3": rng.standard_normal((d, d)) / np.sqrt(d),
        "g": 1.0 + 0.2 * rng.standard_normal(d),
        "centre": np.asarray(1.0),
    }
    ids = rng.permutation(V)
    problem = LocalProblem(
        jax.tree_util.Partial(small_downstream, jax.tree_util.tree_map(jnp.asarray, p)),
        rng.standard_normal((N, T, d)),
        rng.standard_normal((d, V)),
        alphas=(1.0,),
        plus=ids[:1],
        minus=ids[1:2],
    )
    return problem, 1.5 * rng.standard_normal(d)


def test_t3c_fails_when_the_kl_ratio_at_some_step_is_off_by_more_than_a_half():
    """check_t3c: the KL ratio must be within KL_TOL_ALL = 1/2 of 1 at every step; a large step
    whose ratio KL / ((eps^2 / 2) u^T F u) (recomputed here) is off by between 1/2 and 1 makes
    it violated with the kl_all gate failing, margin 1/2 / |ratio - 1|."""
    problem, v = _fixed_problem()
    eps = [1e-5, 2e-5, 1.0]
    # slopes are fitted over all steps, a large step bends them: loosen only their tolerance
    cert = check_t3c(problem, v, "trait", eps=eps, slope_tol=100.0)
    u, uFu = cert.witness["u_kl"], cert.details["uFu"]
    kl = float(kl_divergences(problem, v, u, [1.0])[0])
    ratio = kl / (0.5 * uFu)
    assert 0.55 < abs(ratio - 1.0) < 0.95  # the step is off by more than 1/2 (and less than 1)
    assert abs(cert.details["kl_ratio"] - 1.0) <= 1e-2  # the smallest step is fine
    margins = cert.details["gate_margins"]
    assert margins["kl_all"] == pytest.approx(0.5 / abs(ratio - 1.0), rel=1e-6)
    assert cert.verdict is Verdict.VIOLATED and "kl_all" in cert.reason
    assert all(m >= 1 for k, m in margins.items() if k != "kl_all")


# ---------------------------------------------------------------------------------------------
# T2a: the default tolerance


def test_t2a_default_tolerance_is_a_relative_change_of_1e_12():
    """check_t2a's default tolerance is SYMMETRY_TOL = 1e-12 relative change (float64
    round-off): a map that moves by 1.5e-12 of |B(v) - B(0)| violates T2a, one that moves by
    0.5e-12 satisfies it."""
    v = np.array([1.0, 0.0, 0.0, 0.0])

    def run_with(change):
        # B(v) - B(0) = (1, 0); B(v + 5 1) - B(v) = (0, change)
        return lambda x: np.array([x[0] - x[1], change * x[2] / 5.0])

    moved = check_t2a({"map": run_with(1.5e-12)}, v)
    assert moved.verdict is Verdict.VIOLATED
    assert moved.residual == pytest.approx(1.5e-12, rel=1e-3)
    still = check_t2a({"map": run_with(0.5e-12)}, v)
    assert still.verdict is Verdict.HOLDS
    assert still.margin == pytest.approx(2.0, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# re-runs and behaviour comparisons


def test_rerun_ratio_is_inf_when_a_map_does_not_move_along_g():
    """rerun_ratio: a behaviour map that does not move along g (a constant map) makes the ratio
    inf, even when it does not move along u either: nothing can be verified through it."""
    v, u = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.0])
    A = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    assert rerun_ratio([lambda x: np.ones(2)], v, u) == math.inf
    assert rerun_ratio([lambda x: A @ x, lambda x: np.ones(2)], v, u) == math.inf
    assert math.isfinite(rerun_ratio([lambda x: A @ x], v, u))


@settings(max_examples=30)
@given(
    st.floats(1e-6, 1e3),
    st.floats(1.001, 1.09) | st.floats(0.91, 0.999),
    st.floats(0.0, 1e-3),
)
def test_separated_iff_outside_exceeds_ten_times_inside(inside, factor, noise_share):
    """BehaviourComparison.separated: with the noise far below, the step out of the class
    separates iff outside > 10 inside, in agreement with separation_margin >= 1."""
    outside = 10.0 * inside * factor
    comp = BehaviourComparison(inside=inside, outside=outside, noise=noise_share * inside)
    assert comp.separated() is (factor > 1)
    assert (comp.separation_margin() >= 1) is (factor > 1)
