"""Claims of T8's statistics and of the probe estimator (theory.amari, amari_curves, ica,
independence, independence_twin, two_sample, estimators), each pinned against an independent
computation or a documented boundary.

Claims: align_columns' cosines are |cos| values in [0, 1] even where round-off pushes a computed
self-cosine past 1; an AmariCurve is immutable; amari_curve is amari_curves with one block, defaults
included; a FastICA fit that used all max_iter iterations is not converged even without a
ConvergenceWarning; check_t8's recovery gate is ``Amari(P) <= max_amari`` (inclusive); the twin's
block-error gate is ``ratio >= min_error_ratio`` (inclusive), the ratio read at the largest sample
size; the projection KS test's Bonferroni factor is the number m of directions (not the dimension
d); the probe is the L2-penalised logistic regression with C = 1 (docs/05-estimation.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.optimize
import scipy.special
import scipy.stats
from hypothesis import example, given, settings
from hypothesis import strategies as st

from synthetic.sources import gaussian_mask, mix, mixture_sampler, random_mixing, source_sampler
from theory.amari import align_columns
from theory.amari_curves import AmariCurve, amari_curve, amari_curves
from theory.certificate import Verdict
from theory.estimators import estimate
from theory.ica import fit_ica
from theory.independence import check_t8, check_t8_twin
from theory.two_sample import projection_ks_test

from .t8_strategies import mixing_matrices

seeds = st.integers(0, 2**32 - 1)

# ---------------------------------------------------------------------------------------------
# theory.amari


# (1, 1, 1)/sqrt(3) has the float self-inner-product 1.0000000000000002 (checked in the test)
ROUND_OFF_ABOVE_ONE = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])


@settings(max_examples=20)
@example(A=ROUND_OFF_ABOVE_ONE)
@given(A=mixing_matrices(k_min=2, k_max=4))
def test_align_columns_cosines_of_a_matrix_with_itself_are_ones_in_the_unit_interval(A):
    """Aligning A with itself matches every column to itself with |cos| = 1, never above 1."""
    if A is ROUND_OFF_ABOVE_ONE:  # the example exercises the clip: a raw self-cosine exceeds 1
        u = A[:, 0] / np.linalg.norm(A[:, 0])
        assert u @ u > 1.0
    al = align_columns(A, A)
    np.testing.assert_array_equal(al.permutation, np.arange(A.shape[1]))
    assert np.all(al.cosines <= 1.0) and np.all(al.cosines >= 0.0)
    np.testing.assert_allclose(al.cosines, 1.0, rtol=0, atol=1e-12)
    assert np.all(al.errors >= 0.0)  # 1 - |cos| is an error: never negative


# ---------------------------------------------------------------------------------------------
# theory.amari_curves


def test_an_amari_curve_is_an_immutable_record():
    """AmariCurve is a frozen dataclass: assigning a field raises FrozenInstanceError."""
    curve = AmariCurve(
        n=np.array([200, 400]),
        values=np.ones((1, 2)),
        median=np.ones(2),
        slope=0.0,
        intercept=0.0,
        not_converged=0,
        block=None,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        curve.slope = -0.5  # type: ignore[misc]


def test_amari_curve_is_amari_curves_with_one_block_defaults_included():
    """amari_curve(A, sampler, n_grid, block=b) equals amari_curves(..., blocks=(b,))[0] when
    neither is given seeds: the same fits, the same seeds, the same medians."""
    A = random_mixing(2, 2, seed=4)
    sampler = mixture_sampler(A, ("laplace", "uniform"))
    grid = np.array([200, 300])
    one = amari_curve(A, sampler, grid)
    many = amari_curves(A, sampler, grid)[0]
    assert one.values.shape == many.values.shape
    np.testing.assert_array_equal(one.values, many.values)
    np.testing.assert_array_equal(one.median, many.median)
    assert one.slope == many.slope and one.block is None


# ---------------------------------------------------------------------------------------------
# theory.ica


@settings(max_examples=10)
@given(seed=st.integers(0, 1000))
def test_a_fit_that_used_every_iteration_is_not_converged(seed):
    """A FastICA fit with n_iter == max_iter is not converged, even when FastICA stopped by its
    tolerance on that last iteration and raised no ConvergenceWarning (IcaFit's docstring)."""
    D = mix(random_mixing(3, 2, seed=2), ("laplace", "uniform"), 500, seed=seed)
    free = fit_ica(D.H, n_components=2, seed=seed)
    assert free.converged and free.n_iter < free.max_iter
    # the same seeded trajectory stopped at exactly the iteration it needed: no warning, all used
    tight = fit_ica(D.H, n_components=2, seed=seed, max_iter=free.n_iter)
    assert tight.n_iter == tight.max_iter == free.n_iter
    assert tight.warnings == ()
    np.testing.assert_array_equal(tight.unmixing, free.unmixing)
    assert not tight.converged


# ---------------------------------------------------------------------------------------------
# theory.independence


def test_check_t8_recovery_gate_is_inclusive_at_max_amari():
    """check_t8 with max_amari equal to the Amari index seen still holds (Amari(P) <= max_amari),
    with margin max_amari / Amari(P) = 1 in the min."""
    D = mix(random_mixing(4, 3, seed=5), ("laplace", "uniform", "gaussian"), 3000, seed=5)
    free = check_t8(D.H, A=D.A)
    assert free.verdict is Verdict.HOLDS and free.residual > 0
    at = check_t8(D.H, A=D.A, max_amari=free.residual)
    assert at.residual == free.residual == at.residual_tolerance
    assert at.verdict is Verdict.HOLDS, at.reason
    assert at.margin == pytest.approx(min(free.margin, 1.0))


# ---------------------------------------------------------------------------------------------
# theory.independence_twin

TWIN_A = random_mixing(3, 3, seed=1)
TWIN_LAWS = ("laplace", "gaussian", "gaussian")
TWIN_KW = dict(
    n_samples=1000,
    control_sample_sources=source_sampler(("laplace", "uniform", "bimodal")),
    ica_sizes=np.array([200, 1600]),
    ica_seeds=range(3),
    seed=1,
)


def _twin(**kw):
    return check_t8_twin(
        TWIN_A, gaussian_mask(TWIN_LAWS), source_sampler(TWIN_LAWS), **TWIN_KW, **kw
    )


def test_twin_block_error_ratio_is_read_at_the_largest_sample_size():
    """block_error_ratio = Gaussian-block median Amari / control-block median Amari, both at the
    largest ICA sample size."""
    cert = _twin()
    n = np.asarray(cert.details["gaussian_block_curve"]["n"])
    last = int(np.argmax(n))
    assert last == n.size - 1
    gauss, ctrl = cert.witness["gaussian_block_amari"], cert.witness["control_block_amari"]
    assert cert.details["block_error_ratio"] == pytest.approx(gauss[last] / ctrl[last], rel=1e-12)
    # the sizes differ enough that the other end would give another ratio
    assert gauss[0] / ctrl[0] != pytest.approx(gauss[last] / ctrl[last], rel=1e-3)


def test_twin_block_error_ratio_does_not_depend_on_the_order_of_the_sizes():
    """The gate reads the largest ICA sample size whatever order ica_sizes are given in: sizes
    [1600, 200] give the ratio of [200, 1600] (before the sizes were sorted, the last one listed,
    n = 200, was read)."""
    ascending = _twin()
    descending = check_t8_twin(
        TWIN_A,
        gaussian_mask(TWIN_LAWS),
        source_sampler(TWIN_LAWS),
        **{**TWIN_KW, "ica_sizes": np.array([1600, 200])},
    )
    assert descending.details["block_error_ratio"] == ascending.details["block_error_ratio"]
    assert descending.verdict == ascending.verdict


def test_twin_block_error_gate_is_inclusive_at_min_error_ratio():
    """check_t8_twin with min_error_ratio equal to the block-error ratio seen still holds (the
    Gaussian block must stay *at least* min_error_ratio times the control's), margin 1."""
    free = _twin()
    ratio = free.details["block_error_ratio"]
    assert free.verdict is Verdict.HOLDS, free.reason
    at = _twin(min_error_ratio=ratio)
    assert at.details["block_error_ratio"] == ratio
    assert at.verdict is Verdict.HOLDS, at.reason
    assert at.margin == pytest.approx(min(free.margin, 1.0))


# ---------------------------------------------------------------------------------------------
# theory.two_sample


@settings(max_examples=15)
@given(seed=seeds, m=st.integers(1, 6), d=st.integers(1, 4))
def test_projection_ks_bonferroni_factor_is_the_number_of_directions(seed, m, d):
    """p_value = min(1, m min_j p_j) with m the number of directions (rows), p_j the two-sample KS
    p-value (scipy.stats.ks_2samp) of the samples projected on the unit direction j."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((150, d))
    Y = rng.standard_normal((120, d)) + 0.25  # a shifted law: small p-values, m p below 1
    D = rng.standard_normal((m, d))
    res = projection_ks_test(X, Y, directions=D, n_random=0)
    U = D / np.linalg.norm(D, axis=1, keepdims=True)
    p = np.array([scipy.stats.ks_2samp(X @ u, Y @ u).pvalue for u in U])
    np.testing.assert_allclose(res.p_values, p, rtol=1e-12)
    assert res.p_values.size == m
    assert res.p_value == pytest.approx(min(1.0, m * p.min()), rel=1e-12)


@pytest.mark.parametrize("m, d", [(5, 2), (1, 3)])
def test_projection_ks_bonferroni_factor_with_fewer_or_more_directions_than_dimensions(m, d):
    """The Bonferroni factor is m whether m > d or m < d: p_value = min(1, m min_j p_j)."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((300, d))
    Y = rng.standard_normal((300, d)) + 0.5
    D = rng.standard_normal((m, d))
    res = projection_ks_test(X, Y, directions=D, n_random=0)
    U = D / np.linalg.norm(D, axis=1, keepdims=True)
    p = min(scipy.stats.ks_2samp(X @ u, Y @ u).pvalue for u in U)
    assert m * p < 1.0 and d * p < 1.0  # neither factor is hidden by the cap at 1
    assert res.p_value == pytest.approx(m * p, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# theory.estimators


def _l2_logistic_weight(X: np.ndarray, y: np.ndarray, C: float) -> np.ndarray:
    """argmin_w,b 1/2 |w|^2 + C sum_i log(1 + exp(-y_i (x_i w + b))), y in {-1, 1}: scikit-learn's
    L2 logistic objective (intercept unpenalised), minimised by scipy's BFGS."""
    d = X.shape[1]

    def f(theta):
        w, b = theta[:d], theta[d]
        z = y * (X @ w + b)
        s = -y * scipy.special.expit(-z)
        return 0.5 * w @ w + C * np.sum(np.logaddexp(0.0, -z)), np.r_[w + C * X.T @ s, C * s.sum()]

    res = scipy.optimize.minimize(
        f, np.zeros(d + 1), jac=True, method="BFGS", options={"gtol": 1e-12}
    )
    return res.x[:d]


@settings(max_examples=10)
@given(seed=st.integers(0, 10_000), d=st.integers(2, 4))
def test_probe_is_the_l2_logistic_regression_with_c_one(seed, d):
    """The probe's vector is the weight of the L2-penalised logistic regression with C = 1
    (docs/05-estimation.md), computed independently by minimising its objective."""
    rng = np.random.default_rng(seed)
    n = 15
    hp = rng.standard_normal((n, d)) + rng.uniform(0.3, 1.0, size=d)
    hm = rng.standard_normal((n, d))
    v = estimate("probe", hp, hm).vector
    w = _l2_logistic_weight(np.vstack([hp, hm]), np.r_[np.ones(n), -np.ones(n)], C=1.0)
    w = w if np.mean((hp - hm) @ w) > 0 else -w  # the estimator's sign convention
    np.testing.assert_allclose(v, w, rtol=1e-5, atol=1e-7)
