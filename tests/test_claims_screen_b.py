"""Claims on ``theory/`` stated against the mathematics or a documented contract (screen B):

- ``Alignment`` and ``Estimate`` are immutable records (no field can be reassigned);
- ``align_columns`` recovers a planted permutation, signs and |cos| = 1 from scaled, signed,
  permuted columns, and ``aligned`` is the estimate put back in planted order and sign;
- ``log_spaced_sizes``: distinct increasing integers from n_min to n_max; n_max = n_min + 1 is the
  smallest valid range, n_max <= n_min, n_min < MIN_SAMPLES and n_points < 2 are refused;
- ``relative_error`` is |a_hat - a| / |a| at every scale of a (invariant under a -> c a), and the
  absolute error when a = 0;
- basis pursuit: a dual vector's equality residual is held to the documented DUAL_TOL = 1e-9 (a
  residual above it cannot prove uniqueness, one below it can);
- basis pursuit: a code with more nonzeros than rows has a non-injective A_S, so it is never the
  unique minimiser and the LP's sparser answer is a violation (whatever the dual says);
- ``Certificate`` keeps an absent model / channel as None and stores a given one as a ``str``;
- ``class_certificate`` (``steerid class``) re-runs T1's gates exactly as ``check_t1`` at its
  documented default seed 0: same residual and point gap;
- T9: ``layernorm-mean`` is named iff the stack is rank deficient and the all-ones direction is in
  every layer's null space;
- T5: a zero gradient is (trivially) parallel to v: the sample is degenerate with slope 0;
- T5: the predicted median |R - 1| is rho |c| median|U|, with median|U| = 1/sqrt 2 for d = 3 (U =
  cos of a uniform angle) and 1/2 for d = 4 (U uniform on [-1, 1], Archimedes);
- ``probe_scores`` has documented default bias 0: scores <w, h_i>; ``check_t4`` reports its
  number of activation rows as ``n_samples``;
- the estimators need at least 2 pairs: exactly 2 are accepted, 1 is refused.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from theory.amari import align_columns
from theory.amari_curves import log_spaced_sizes
from theory.bp_recovery import (
    DUAL_TOL,
    RECOVERY_TOL,
    bp_recovery_certificate,
    dual_certificate,
    relative_error,
    verify_dual,
)
from theory.certificate import Certificate, Verdict
from theory.class_report import class_certificate
from theory.cross_layer import check_t9
from theory.efficacy import (
    EfficacySample,
    coordinate_law,
    median_abs_deviation,
    sample_efficacy,
)
from theory.estimation import check_t4, probe_scores
from theory.estimators import ESTIMATORS, estimate, estimate_all
from theory.linear_checks import check_t1
from theory.local_problem import LocalProblem
from theory.mixing import MIN_SAMPLES
from theory.validation import InputError

# ---------------------------------------------------------------------------------------------
# immutable records


def test_alignment_and_estimate_are_immutable():
    """A result is evidence: neither an Alignment nor an Estimate can be changed once built."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 3))
    al = align_columns(A, A)
    with pytest.raises(dataclasses.FrozenInstanceError):
        al.signs = -al.signs  # type: ignore[misc]
    hp = rng.standard_normal((5, 3))
    est = estimate("caa", hp + 1.0, hp)
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.vector = -est.vector  # type: ignore[misc]


def test_align_columns_recovers_a_planted_permutation_and_signs():
    """E = A[:, perm] * signs * scales: the matching undoes perm and the signs, |cos| = 1 for
    every column (error 0), and ``aligned`` is E in planted order and sign."""
    rng = np.random.default_rng(1)
    d, k = 6, 4
    A = rng.standard_normal((d, k))
    inv = rng.permutation(k)  # estimated column i is planted column inv[i]
    s = np.array([1.0, -1.0, -1.0, 1.0])
    E = A[:, inv] * s * np.array([0.5, 2.0, 3.0, 1.0])
    al = align_columns(E, A)
    perm = np.argsort(inv)  # planted column j sits in estimated column perm[j]
    np.testing.assert_array_equal(al.permutation, perm)
    np.testing.assert_array_equal(al.signs, s[perm])
    np.testing.assert_allclose(al.cosines, 1.0, atol=1e-14)
    np.testing.assert_allclose(al.errors, 0.0, atol=1e-14)
    np.testing.assert_array_equal(al.aligned, E[:, perm] * s[perm])
    cos = np.sum(al.aligned * A, axis=0) / np.linalg.norm(al.aligned, axis=0)
    assert np.all(cos / np.linalg.norm(A, axis=0) > 1 - 1e-14)  # flipped onto +A


# ---------------------------------------------------------------------------------------------
# sample-size grids


def test_log_spaced_sizes_edges():
    n0 = MIN_SAMPLES
    np.testing.assert_array_equal(log_spaced_sizes(n0, n0 + 1, 2), [n0, n0 + 1])
    sizes = log_spaced_sizes(n0, 100 * n0, 7)
    assert sizes[0] == n0 and sizes[-1] == 100 * n0 and sizes.size == 7
    assert np.all(np.diff(sizes) > 0)
    np.testing.assert_allclose(np.diff(np.log(sizes)), math.log(100) / 6, rtol=1e-2)
    for bad in [(n0, n0, 2), (n0, n0 - 1, 2), (n0 - 1, 10 * n0, 2), (n0, 10 * n0, 1)]:
        with pytest.raises(InputError):
            log_spaced_sizes(*bad)


# ---------------------------------------------------------------------------------------------
# basis pursuit


@pytest.mark.parametrize("scale", [1e-3, 0.5, 1.0, 7.0])
def test_relative_error_is_scale_invariant(scale):
    rng = np.random.default_rng(2)
    a, a_hat = rng.standard_normal(5), rng.standard_normal(5)
    expected = np.linalg.norm(a_hat - a) / np.linalg.norm(a)
    assert relative_error(scale * a_hat, scale * a) == pytest.approx(expected, rel=1e-14)
    zero = np.zeros(5)
    assert relative_error(scale * a_hat, zero) == pytest.approx(scale * np.linalg.norm(a_hat))


def _shifted_dual(A, a, w, e):
    """w + delta with A_S^T delta = e (least-norm delta): equality residual |e|_inf."""
    S = np.flatnonzero(a)
    AS = A[:, S]
    return w + AS @ np.linalg.solve(AS.T @ AS, e)


@pytest.mark.parametrize("factor", [0.5, 1.5])
def test_dual_equality_residual_is_held_to_1e_9(factor):
    """DUAL_TOL, documented as what a re-run dual vector's equality residual is held to, is
    1e-9: a residual 0.5e-9 still proves uniqueness (holds), 1.5e-9 fails the re-run."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((8, 12))
    a = np.zeros(12)
    a[[2, 7]] = [1.0, -2.0]
    t, w, injective = dual_certificate(A, a)
    assert injective and t < 0.9  # a 2-sparse code is well inside recovery at m = 8
    assert DUAL_TOL == 1e-9
    w2 = _shifted_dual(A, a, w, np.array([factor * 1e-9, 0.0]))
    t2, eq = verify_dual(A, a, w2)
    assert eq == pytest.approx(factor * 1e-9, rel=1e-4) and t2 < 0.9
    cert = bp_recovery_certificate(A, a, dual_vector=w2)
    if factor < 1:
        assert cert.verdict is Verdict.HOLDS
        assert cert.margin <= 1e-9 / eq
    else:
        assert cert.verdict is Verdict.UNDECIDED
        assert cert.reason == "the dual vector failed its re-run"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_code_denser_than_the_rows_is_violated_as_not_injective(seed):
    """k = 4 > m = 3: A_S (3 x 4) has a kernel, so a is not the unique l1 minimiser; the LP's
    vertex answer (at most m nonzeros) is another code with A x = y and |x|_1 <= |a|_1, hence a
    violation, margin capped by the rank margin of A_S. No dual vector is needed (none exists:
    A_S^T w = sign(a_S) is 4 equations in 3 unknowns)."""
    rng = np.random.default_rng(10 + seed)
    m, p = 3, 7
    A = rng.standard_normal((m, p))
    a = np.zeros(p)
    S = rng.choice(p, 4, replace=False)
    a[S] = rng.choice([-1.0, 1.0], 4) * rng.uniform(0.5, 2.0, 4)
    cert = bp_recovery_certificate(A, a)
    assert cert.verdict is Verdict.VIOLATED and not cert.ok
    x = cert.witness["recovered"]
    np.testing.assert_allclose(A @ x, A @ a, atol=1e-9 * np.linalg.norm(A @ a))
    assert np.abs(x).sum() <= np.abs(a).sum() * (1 + 1e-9)
    assert np.count_nonzero(np.abs(x) > 1e-12) <= m
    assert cert.details["A_S_injective"] is False
    assert relative_error(x, a) > RECOVERY_TOL
    assert cert.margin >= 1


# ---------------------------------------------------------------------------------------------
# Certificate's typed string fields


def test_certificate_string_fields_absent_stay_none_given_become_str():
    cert = Certificate(theorem="T1", verdict="holds")
    assert cert.model is None and cert.channel is None
    assert cert.to_dict()["model"] is None and cert.to_dict()["channel"] is None
    named = Certificate(theorem="T1", verdict="holds", model=np.str_("tiny"), channel="logits")
    assert type(named.model) is str and named.model == "tiny"
    assert type(named.channel) is str and named.channel == "logits"
    assert Certificate.from_json(named.to_json()) == named


# ---------------------------------------------------------------------------------------------
# the class report re-runs T1's gates


@pytest.mark.parametrize("shape", [(3, 8), (2, 5)])
def test_class_certificate_runs_t1_gates_as_check_t1_at_seed_0(shape):
    """``steerid class`` is T1's check plus the twin and cosine range: its member re-run and its
    point gap are check_t1's at the documented default seed 0 (the same numbers, not a re-draw)."""
    rng = np.random.default_rng(4)
    L = rng.standard_normal(shape)
    v = rng.standard_normal(shape[1])
    cert = class_certificate(L, v)
    t1 = check_t1(L, v)
    assert t1.residual == check_t1(L, v, seed=0).residual
    assert cert.verdict is t1.verdict is Verdict.HOLDS
    assert cert.residual == t1.residual
    assert cert.residual_tolerance == t1.residual_tolerance
    assert cert.details["point_vs_lstsq"] == t1.details["point_vs_lstsq"]
    assert cert.residual != check_t1(L, v, seed=1).residual  # the seed does reach the residual


# ---------------------------------------------------------------------------------------------
# T9: the LayerNorm symmetry


def _linear_problem(w_u, rng):
    """Identity downstream: the logits Jacobian of one steered position is w_u^T."""
    d = w_u.shape[0]
    return LocalProblem(lambda x: x, rng.standard_normal((1, 2, d)), w_u, alphas=(1.0,))


@pytest.mark.parametrize(
    "centred, V, named",
    [
        ((True, True), 2, True),  # 1 killed by every layer: the symmetry survives the stack
        ((True, False), 2, False),  # rank deficient, but layer 2 reads 1
        ((False, False), 2, False),  # rank deficient, 1 read by both
        ((False, False), 6, False),  # full rank: no null direction at all
    ],
)
def test_layernorm_symmetry_named_iff_ones_in_every_null_space(centred, V, named):
    rng = np.random.default_rng(5)
    d = 5
    problems = []
    for c in centred:
        w_u = rng.standard_normal((d, V))
        if c:
            w_u -= w_u.mean(axis=0)  # every logit ignores the all-ones direction
        problems.append(_linear_problem(w_u, rng))
    cert = check_t9(problems, rng.standard_normal(d), "logits")
    assert cert.verdict is not Verdict.UNDECIDED
    assert cert.dim == max(0, d - 2 * V)
    assert ("layernorm-mean" in cert.symmetries) is named


# ---------------------------------------------------------------------------------------------
# T5


def test_zero_gradient_sample_is_degenerate():
    """s(x) = 1 - |x - v|^2 has gradient 0 at v (parallel to v): slope 0, a degenerate sample,
    R = 1 - rho^2 for every draw (|u| = rho |v|, gain |v|^2)."""
    rng = np.random.default_rng(6)
    v = rng.standard_normal(5)
    rho = 0.1

    def score(X):
        return 1.0 - np.sum((X - v) ** 2, axis=1)

    sample = sample_efficacy(score, v, np.zeros(5), rho, n=50)
    assert sample.degenerate and sample.slope == 0.0
    assert sample.first_order_residual is None and sample.ks_pvalue is None
    np.testing.assert_allclose(sample.ratios, 1 - rho**2, atol=1e-12)


@pytest.mark.parametrize("d, median_u", [(3, 1 / math.sqrt(2)), (4, 0.5)])
def test_predicted_median_abs_deviation_closed_forms(d, median_u):
    rho, c = 0.2, 1.5
    sample = EfficacySample(d, rho, c, np.ones(3), False, 0.0, 0.0, 1.0)
    assert sample.predicted_median_abs_deviation == pytest.approx(rho * c * median_u, rel=1e-12)
    assert median_abs_deviation(d, rho, math.atan(c)) == pytest.approx(rho * c * median_u)
    law = coordinate_law(d)
    assert law.cdf(median_u) - law.cdf(-median_u) == pytest.approx(0.5, rel=1e-12)
    # an affine score s(x) = <w, x>: the measured median |R - 1| approaches the prediction
    rng = np.random.default_rng(7)
    v, w = rng.standard_normal(d), rng.standard_normal(d)
    measured = sample_efficacy(lambda X: X @ w, v, w, rho, n=4000, seed=1)
    assert not measured.degenerate
    assert measured.median_abs_deviation == pytest.approx(
        measured.predicted_median_abs_deviation, rel=0.05
    )


# ---------------------------------------------------------------------------------------------
# T4 and the estimators


def test_probe_scores_default_bias_is_zero_and_t4_counts_rows():
    rng = np.random.default_rng(8)
    H, w = rng.standard_normal((6, 4)), rng.standard_normal(4)
    np.testing.assert_array_equal(probe_scores(H, w), H @ w)
    np.testing.assert_array_equal(probe_scores(H, w, 0.0), H @ w)
    np.testing.assert_allclose(probe_scores(H, w, 2.5), H @ w + 2.5, rtol=0, atol=1e-15)
    assert check_t4(H, w).details["n_samples"] == 6
    assert check_t4(H[:3], w).details["n_samples"] == 3


def test_estimators_need_at_least_two_pairs():
    rng = np.random.default_rng(9)
    hm = rng.standard_normal((2, 3))
    hp = hm + np.array([[1.0, 0.5, 0.0], [1.2, 0.3, 0.1]])
    found = estimate_all(hp, hm)
    assert set(found) == set(ESTIMATORS)
    for est in found.values():
        assert float(np.mean((hp - hm) @ est.vector)) > 0  # sign: mean projection positive
    with pytest.raises(InputError, match="at least 2 pairs"):
        estimate("caa", hp[:1], hm[:1])
