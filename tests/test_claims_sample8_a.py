"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 8, A):

- ``dual_certificate`` projects the LP's dual vector onto ``A_S^T w = sign(a_S)``: the equality
  residual is at the round-off of that least-squares step, <= 4 eps |A_S|_2 |w|_2.
- A *violated* basis-pursuit certificate's margin is the documented minimum of its gates; with
  ``A = [1, c]``, ``a = e_1`` the dual bound is tight (``t = |a|_1 / |x|_1 = c``), so the
  ``t / (1 + decision_tol)`` term is the one that binds; on random instances the l1 term binds.
- A non-degenerate ``EfficacySample`` without its first-order residual or KS p-value is refused.
- ``sample_efficacy`` takes n = 2 (and refuses n = 1); a gradient off v by 1e-12 |g| or less is
  the degenerate theta = 0 case, one off by more is not.
- ``_exp_excess``'s series (|x| < 1e-2) is e^x - 1 - x to 4 ulps: its truncation after x^7 costs
  x^6 / 20160 < 1e-16 relative, so every kept term must be right (the x^7 term alone is 4e-14
  relative near the switch).
- ``EquivalenceClass.member(c)`` is ``v + basis @ c``: its coordinates in the orthonormal basis
  are c.
- With dim [v] = 0, ``member([])`` is v.
- ``ray_cosine`` at s = 0 is cos(v, v_id) = a / sqrt(a^2 + b^2), as a float and in an array.
- T1b's sampled members reach 1e3 |v|: along a one-dimensional ker L the sampled minimum cosine
  is within 2e-3 of the infimum (a member at t |v| misses it by O(1 / t)).
- A twin search that moved holds with the re-run's margin, tolerance / residual (the rank margin
  of J(v) enters only when ker J(v) = 0 and nothing moved).
- T3(a)'s neighbours are drawn from ``seed`` (default 0): around a v near the edge of the
  rank-2 ball, where only some directions leave it, seed 0 and seed 1 see different neighbour
  ranks and the default sees seed 0's.
- A twin search "moved" when cos(w, v) < 1 - 1e-9: one accepted step to cos = 1 - 1.5e-9 holds,
  one to 1 - 0.5e-9 is a walk that did not move (undecided).
- A twin search at a v where ker J(v) = 0 (a certified full rank) has nothing to walk along and
  holds: v is locally identifiable, with the rank's margin.
- An ``IcaFit``'s unmixing, mixing and mean are read-only (the fit is a frozen record).
- An exact T6 counterexample's ``equivalent`` is v plus its ``common_null_direction`` (as in
  float), and it reads like v in every environment.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import scipy.optimize
import sympy

from theory.bp_recovery import (
    LP_TOL,
    RECOVERY_TOL,
    bp_recovery_certificate,
    dual_certificate,
    verify_dual,
)
from theory.certificate import Verdict, ratio_margin
from theory.efficacy import EfficacySample, sample_efficacy, t5_certificate
from theory.environments import check_t6
from theory.first_order import _exp_excess
from theory.ica import fit_ica
from theory.jacobian import LocalProblem, local_spectrum
from theory.level_set import twin_search
from theory.linear import equivalence_class, ray_cosine
from theory.linear_checks import check_t1b
from theory.local import spectrum_certificate
from theory.validation import InputError

from .test_claims_sample6_q import _flat_problem
from .test_claims_screen_e import _ball_problem

EPS = float(np.finfo(np.float64).eps)


def test_the_dual_vector_meets_its_equalities_to_round_off():
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(300):
        m = int(rng.integers(3, 9))
        p = int(rng.integers(m + 1, 2 * m + 4))
        k = int(rng.integers(1, m))
        A = rng.standard_normal((m, p)) * rng.choice([1.0, 1e3, 1e-3])
        a = np.zeros(p)
        S = rng.choice(p, k, replace=False)
        a[S] = rng.standard_normal(k)
        _, w, _ = dual_certificate(A, a)
        _, eq = verify_dual(A, a, w)
        # the least-squares projection is backward stable: its equality residual is a small
        # multiple of eps |A_S| |w| (measured: at most 1.02 here), while an LP solution that is
        # not projected, or projected the wrong way, keeps the solver's ~1e-14 (13x the bound)
        scale = EPS * np.linalg.norm(A[:, S], 2) * np.linalg.norm(w)
        worst = max(worst, eq / scale)
    assert worst <= 4.0


def _violated_margin(cert, decision_tol=1e-7):
    d = cert.details
    return min(
        d["relative_error"] / RECOVERY_TOL,
        ratio_margin(LP_TOL, d["lp_residual"]),
        d["l1_planted"] * (1 + 1e-9) / d["l1_returned"],
        d["dual_sup_norm"] / (1 + decision_tol),
    )


@pytest.mark.parametrize("c", [2.0, 3.0])
def test_a_tight_dual_bound_makes_t_the_binding_margin(c):
    A = np.array([[1.0, c]])
    a = np.array([1.0, 0.0])
    cert = bp_recovery_certificate(A, a)
    assert cert.verdict is Verdict.VIOLATED
    d = cert.details
    # BP returns (0, 1/c): |x|_1 = 1/c, and w = 1 is the only dual vector: t = c
    assert d["l1_returned"] == pytest.approx(1 / c, rel=1e-12)
    assert d["dual_sup_norm"] == pytest.approx(c, rel=1e-12)
    assert cert.margin == pytest.approx(c / (1 + 1e-7), rel=1e-12)
    assert cert.margin == pytest.approx(_violated_margin(cert), rel=1e-12)


def test_a_violated_margin_is_the_smallest_gate():
    rng = np.random.default_rng(1)
    seen = binding = 0
    for _ in range(12):
        A = rng.standard_normal((4, 10))
        a = np.zeros(10)
        a[rng.choice(10, 3, replace=False)] = rng.standard_normal(3)
        cert = bp_recovery_certificate(A, a)
        if cert.verdict is not Verdict.VIOLATED:
            continue
        seen += 1
        d = cert.details
        l1_term = d["l1_planted"] * (1 + 1e-9) / d["l1_returned"]
        # weak duality: |a|_1 = <A^T w, x> <= t |x|_1, so the l1 term is below t's (but for 1e-7)
        assert l1_term <= d["dual_sup_norm"] * (1 + 1e-9)
        assert cert.margin == pytest.approx(_violated_margin(cert), rel=1e-13)
        # t / (1 + 1e-7) binds only when the dual bound is tight to 1e-7 (as for A = [1, c])
        if d["dual_sup_norm"] / (1 + 1e-7) > l1_term:
            assert cert.margin == pytest.approx(l1_term, rel=1e-13)
            binding += 1
    assert seen >= 8 and binding >= 8


@pytest.mark.parametrize("missing", ["first_order_residual", "ks_pvalue"])
def test_a_non_degenerate_sample_needs_its_residual_and_p_value(missing):
    fields = dict(
        d=4,
        rho=0.1,
        slope=0.5,
        ratios=np.ones(3),
        degenerate=False,
        first_order_residual=1e-3,
        ks_statistic=0.2,
        ks_pvalue=0.5,
    )
    fields[missing] = None
    with pytest.raises(InputError, match="first-order residual and KS p-value"):
        t5_certificate(EfficacySample(**fields))


def _linear_score(w):
    return lambda X: np.asarray(X) @ w


def test_two_draws_are_a_sample_and_one_is_not():
    v = np.array([1.0, 0.0, 0.0, 0.0])
    g = np.array([1.0, 0.5, 0.0, 0.0])
    sample = sample_efficacy(_linear_score(g), v, g, 0.1, n=2, seed=0)
    assert sample.n == 2 and not sample.degenerate
    with pytest.raises(InputError, match=r"\bn must"):
        sample_efficacy(_linear_score(g), v, g, 0.1, n=1, seed=0)


@pytest.mark.parametrize(("off", "degenerate"), [(0.5e-12, True), (1.5e-12, False)])
def test_theta_zero_is_a_gradient_within_1e_12_of_v(off, degenerate):
    v = np.array([1.0, 0.0, 0.0, 0.0])
    g = np.array([1.0, off, 0.0, 0.0])
    sample = sample_efficacy(_linear_score(g), v, g, 0.1, n=8, seed=0)
    assert sample.degenerate is degenerate
    assert (sample.first_order_residual is None) is degenerate
    assert math.isfinite(sample.slope)


def test_the_series_of_e_to_the_x_minus_one_minus_x_is_right_to_four_ulps():
    xs = np.array([0.00999, -0.00999, 0.0099, -0.0099, 0.009, -0.009, 0.005, -0.003, 1e-3])
    got = _exp_excess(xs)
    with mpmath.workdps(50):
        exact = np.array([float(mpmath.expm1(mpmath.mpf(x)) - mpmath.mpf(x)) for x in xs])
    assert np.all(np.abs(got - exact) <= 4 * EPS * exact)


def test_an_exact_t6_counterexample_is_v_plus_its_common_null_direction():
    L1, L2 = sympy.Matrix([[1, 0, 0]]), sympy.Matrix([[0, 1, 1]])
    v = sympy.Matrix([1, 2, 3])
    cert = check_t6([L1, L2], v)
    assert cert.verdict is Verdict.VIOLATED
    w = cert.witness
    u = w["common_null_direction"]
    assert np.abs(u).max() > 0
    np.testing.assert_array_equal(w["equivalent"], w["v"] + u)
    for L in (L1, L2):
        Lf = np.array(L, dtype=float)
        np.testing.assert_allclose(Lf @ w["equivalent"], Lf @ w["v"], rtol=0, atol=1e-15)


def test_an_ica_fit_is_read_only():
    rng = np.random.default_rng(0)
    H = rng.laplace(size=(400, 2)) @ np.array([[1.0, 0.5], [0.2, 1.0]])
    fit = fit_ica(H)
    for name in ("unmixing", "mixing", "mean"):
        arr = getattr(fit, name)
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0.0


def test_a_member_of_the_class_has_coordinates_c():
    rng = np.random.default_rng(5)
    L = rng.standard_normal((2, 5))
    v = rng.standard_normal(5)
    cls = equivalence_class(L, v)
    c = rng.standard_normal(cls.dim) * 3
    w = cls.member(c)
    np.testing.assert_allclose(cls.basis.T @ (w - v), c, rtol=0, atol=1e-13)
    np.testing.assert_allclose(w, v + cls.basis @ c, rtol=0, atol=1e-14)


def _norm_and_small_third(h):
    """y = (|h|^2, 1e-6 h_3, 0): J(v) has rank 2, its second singular value ~1e-6 (a small rank
    margin); the class near v is the circle |w| = |v|, w_3 = v_3."""
    return jnp.stack([jnp.sum(h**2, axis=-1), 1e-6 * h[..., 2], jnp.zeros(h.shape[:-1])], axis=-1)


def test_a_twin_search_that_moved_holds_with_the_rerun_margin():
    problem = LocalProblem(_norm_and_small_third, np.zeros((1, 1, 3)), np.eye(3))
    v = np.array([3.0, 4.0, 1.0])
    cert = twin_search(problem, v, channel="logits", target_cosine=0.0)
    assert cert.verdict is Verdict.HOLDS and cert.cosine < 0
    rank_margin = local_spectrum(problem, v, "logits", None, None).decision.margin
    rerun = ratio_margin(cert.residual_tolerance, cert.residual)
    assert rank_margin < rerun  # so the two documented margins differ here
    assert cert.margin == rerun


def test_a_class_of_dimension_zero_has_one_member():
    rng = np.random.default_rng(6)
    L = rng.standard_normal((4, 3))
    v = rng.standard_normal(3)
    cls = equivalence_class(L, v)
    assert cls.dim == 0
    np.testing.assert_array_equal(cls.member([]), v)


@pytest.mark.parametrize(("a", "b"), [(3.0, 4.0), (1.0, 0.0), (0.5, 2.0)])
def test_the_ray_starts_at_v_id(a, b):
    expected = a / math.hypot(a, b)
    assert ray_cosine(a, b, 0.0) == pytest.approx(expected, rel=1e-15)
    assert ray_cosine(a, b, np.array([0.0, 1.0]))[0] == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("d", [3, 4, 5])
def test_t1b_samples_reach_the_infimum_along_a_null_line(d):
    rng = np.random.default_rng(d)
    L = rng.standard_normal((d - 1, d))
    v = rng.standard_normal(d)
    cert = check_t1b(L, v)
    assert cert.dim == 1 and cert.verdict is Verdict.HOLDS
    gap = cert.details["sampled_min_cosine"] - cert.cosine_range.inf
    assert 0 <= gap <= 2e-3


def test_t3a_neighbours_come_from_the_seed_default_zero():
    v = np.array([0.0, 0.3, 0.4])
    problem = _ball_problem(np.array([0.0, 0.37, 0.4]))  # rank 2 on |h - c| < 0.1, v inside

    def ranks(**kw):
        cert = spectrum_certificate(problem, v, "logits", neighbours=8, radius=0.05, **kw)
        return cert.details["neighbour_ranks"]

    assert ranks(seed=0) != ranks(seed=1)  # the sphere of radius 0.05 leaves the ball in part
    assert set(ranks(seed=0)) == {2, 3}
    assert ranks() == ranks(seed=0)


@pytest.mark.parametrize(("drop", "moved"), [(1.5e-9, True), (0.5e-9, False)])
def test_a_walk_moved_when_its_cosine_is_below_one_minus_1e_9(drop, moved):
    """B(w) = w_1 on R^3: the first step goes along -Pi_ker v / |Pi_ker v| and stays in the class;
    its length is solved so that 1 - cos(w, v) = drop."""
    v = np.array([1.0, 1.0, 0.5])
    nv = float(np.linalg.norm(v))
    direction = -np.array([0.0, 1.0, 0.5]) / math.hypot(1.0, 0.5)

    def one_minus_cos(step):
        w = v + step * nv * direction
        return 1.0 - float(w @ v) / (float(np.linalg.norm(w)) * nv)

    step = scipy.optimize.brentq(lambda s: one_minus_cos(s) - drop, 1e-8, 1e-2, xtol=1e-18)
    cert = twin_search(_flat_problem(), v, "logits", target_cosine=-1.0, max_steps=1, step=step)
    assert cert.details["accepted"] == 1
    assert 1 - cert.cosine == pytest.approx(drop, rel=1e-3)
    assert (cert.verdict is Verdict.HOLDS) is moved
    if not moved:
        assert "no member other than v" in cert.reason


def _identity_map(h):
    return h * 1.0


def test_a_twin_search_with_a_trivial_kernel_holds():
    problem = LocalProblem(_identity_map, np.zeros((1, 1, 2)), np.eye(2))
    v = np.array([1.0, 2.0])
    cert = twin_search(problem, v, channel="logits")
    spec = local_spectrum(problem, v, "logits", None, None)
    assert spec.null_dim == 0 and spec.decision.certified
    assert cert.details["trials"] == 0 and cert.cosine == 1.0
    assert cert.verdict is Verdict.HOLDS and cert.reason == ""
    assert cert.margin == min(
        spec.decision.margin, ratio_margin(cert.residual_tolerance, cert.residual)
    )
