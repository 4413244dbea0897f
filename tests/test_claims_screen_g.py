"""Claims on ``theory/`` stated against the mathematics or a documented contract (screen G):

- ``behaviour_residual`` is |B(w) - B(v)| / |B(v) - B(0)|, the scale falling back to
  max(1, |B(v)|) exactly when |B(v) - B(0)| <= sqrt(eps) max(1, |B(v)|);
- ``compare_behaviours``: inside = |B(w) - B(v)|, outside = |B(v + s) - B(v)| (0 when there is no
  step out of the class), noise = 1e3 eps max |B(.)|;
- ``BehaviourComparison.separated`` asks for a step *clearly* above round-off and the inside gap:
  outside exactly 100 noise or exactly 10 inside is not separated;
- T9: a common null direction u is held to the documented bound (10 tau + 1e3 eps s_1) |u|;
- ``rotation_group_dim(g)`` is the integer dim O(g) = C(g, 2);
- ``TwinCheck.failure`` is "" exactly when the twin passes all three gates (at each gate's edge);
- ``TwoSampleTest`` is an immutable record;
- ``as_sample_size`` admits n * width up to 2^27 float64 numbers (1 GiB) and refuses one more row;
- ``coerce_matrix(exact=True)`` converts a float array to the rationals it represents exactly and
  an integer array to the integers themselves (beyond 2^53 too);
- the exact spark truncated by ``max_size`` bounds spark <= rank + 1 (any rank + 1 columns are
  dependent), the bound a float search of the same matrix gives, and attained by generic matrices;
- a float spark's circuit residual is sigma_min of the column-normalised circuit (<= tau), 0 for a
  circuit with more columns than rows.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg
import sympy

from theory.certificate import Verdict
from theory.cross_layer import check_t9
from theory.local_problem import LocalProblem
from theory.residual import BehaviourComparison, behaviour_residual, compare_behaviours
from theory.rotations import TWIN_MIN_AMARI, TWIN_RESIDUAL_TOL, TwinCheck, rotation_group_dim
from theory.spark import spark
from theory.spark_base import coerce_matrix
from theory.two_sample import projection_ks_test
from theory.validation import InputError, as_sample_size

from .test_t7_sparsity import brute_force_spark

EPS = float(np.finfo(np.float64).eps)

# ---------------------------------------------------------------------------------------------
# residual


def _reference_residual(bw, bv, b0=None):
    floor = max(1.0, float(np.linalg.norm(bv)))
    scale = 0.0 if b0 is None else float(np.linalg.norm(bv - b0))
    if scale <= math.sqrt(EPS) * floor:
        scale = floor
    return float(np.linalg.norm(bw - bv)) / scale


@pytest.mark.parametrize("size", [1e-3, 1.0, 1e4, 1e8])
@pytest.mark.parametrize("move", [1e-12, 1e-9, 1e-6, 1e-2, 1.0])
def test_behaviour_residual_scale_falls_back_below_sqrt_eps(size, move):
    """The ratio uses |B(v) - B(0)| unless that is <= sqrt(eps) max(1, |B(v)|); then the scale is
    max(1, |B(v)|) (relative to the behaviour, or absolute)."""
    rng = np.random.default_rng(0)
    bv = size * rng.standard_normal(4)
    d0 = rng.standard_normal(4)
    b0 = bv - move * d0 / np.linalg.norm(d0)
    bw = bv + 1e-3 * rng.standard_normal(4)
    got = behaviour_residual(bw, bv, b0)
    assert got == pytest.approx(_reference_residual(bw, bv, b0), rel=1e-12)
    floor = max(1.0, float(np.linalg.norm(bv)))
    scale = floor if move <= math.sqrt(EPS) * floor else move
    assert got == pytest.approx(float(np.linalg.norm(bw - bv)) / scale, rel=1e-9)
    assert behaviour_residual(bw, bv) == pytest.approx(float(np.linalg.norm(bw - bv)) / floor)


def _behaviour(M):
    return lambda x: np.tanh(M @ x) + 0.5 * (M @ x)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compare_behaviours_fields_follow_their_definitions(seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((3, 5)) * 10.0**seed
    B = _behaviour(M)
    v, w, s = rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal(5)
    cmp = compare_behaviours(B, v, w, s)
    bv, bw, bs = B(v), B(w), B(v + s)
    assert cmp.inside == pytest.approx(np.linalg.norm(bw - bv), rel=1e-14)
    assert cmp.outside == pytest.approx(np.linalg.norm(bs - bv), rel=1e-14)
    sizes = [np.linalg.norm(bv), np.linalg.norm(bw), np.linalg.norm(bs)]
    assert cmp.noise == pytest.approx(1e3 * EPS * max(sizes), rel=1e-14)
    none = compare_behaviours(B, v, w, None)  # every vector in the class: no step out of it
    assert none.outside == 0.0 and none.inside == cmp.inside
    assert none.noise == pytest.approx(1e3 * EPS * max(sizes[:2]), rel=1e-14)
    assert not none.separated()


def test_separated_needs_a_step_clearly_above_noise_and_inside_gap():
    noise = 2.0**-20
    inside = 2.0**-30
    edge = BehaviourComparison(inside=inside, outside=100 * noise, noise=noise)
    assert 100 * noise > 10 * inside and not edge.separated()
    assert BehaviourComparison(inside=inside, outside=101 * noise, noise=noise).separated()
    big = 2.0**-5
    assert not BehaviourComparison(inside=big, outside=10 * big, noise=noise).separated()
    assert BehaviourComparison(inside=big, outside=11 * big, noise=noise).separated()


# ---------------------------------------------------------------------------------------------
# T9: the documented re-verification bound of a common null direction


def test_t9_null_direction_is_held_to_ten_tau_plus_1e3_eps_s1():
    """Two linear layers reading 2 logits each of d = 5: a common null direction exists, and its
    images are held to (10 tau + 1e3 eps s_1) |u| (docstring of ``stacked_certificate``)."""
    rng = np.random.default_rng(5)
    d = 5
    problems = [
        LocalProblem(lambda x: x, rng.standard_normal((1, 2, d)), rng.standard_normal((d, 2)))
        for _ in range(2)
    ]
    cert = check_t9(problems, rng.standard_normal(d), "logits")
    assert cert.verdict is Verdict.VIOLATED
    u = cert.witness["common_null_direction"]
    s1 = float(cert.singular_values[0])
    bound = (10 * cert.tolerance + 1e3 * EPS * s1) * float(np.linalg.norm(u))
    assert cert.residual_tolerance == pytest.approx(bound, rel=1e-12)
    assert cert.residual <= cert.residual_tolerance


# ---------------------------------------------------------------------------------------------
# rotations


@pytest.mark.parametrize("g", range(7))
def test_rotation_group_dim_is_the_integer_binomial(g):
    dim = rotation_group_dim(g)
    assert type(dim) is int and dim == math.comb(g, 2)
    # the skew-symmetric g x g matrices (the Lie algebra so(g)) have exactly that dimension
    basis = [np.eye(g)[i][:, None] * np.eye(g)[j] for i in range(g) for j in range(g)]
    skew = np.array([(b - b.T).ravel() for b in basis]) if g else np.zeros((0, 0))
    assert (np.linalg.matrix_rank(skew) if g else 0) == dim


_T, _A = TWIN_RESIDUAL_TOL, TWIN_MIN_AMARI


@pytest.mark.parametrize("cov", [0.0, _T, 2 * _T])
@pytest.mark.parametrize("block", [0.0, _T, 2 * _T])
@pytest.mark.parametrize("amari", [_A / 2, _A, 2 * _A, math.inf])
def test_twin_failure_is_empty_iff_ok(cov, block, amari):
    """A residual equal to the tolerance passes its gate, an Amari index equal to the minimum fails
    its gate; ``failure`` names exactly the failed gates."""
    tc = TwinCheck(covariance_residual=cov, block_residual=block, amari=amari)
    assert tc.ok is (cov <= _T and block <= _T and amari > _A)
    assert (tc.failure == "") is tc.ok
    assert ("covariance" in tc.failure) is (cov > _T)
    assert ("non-Gaussian" in tc.failure) is (block > _T)
    assert ("permutation" in tc.failure) is (amari <= _A)
    if amari != _A:  # the margin's own edge (amari == min_amari) is the gate's edge: 1 there
        assert (tc.margin >= 1) is tc.ok


# ---------------------------------------------------------------------------------------------
# two-sample test record


def test_two_sample_test_is_immutable():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((100, 2)), rng.standard_normal((100, 2))
    res = projection_ks_test(X, Y, n_random=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.p_value = 0.0  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# validation: the 1 GiB bound on drawn arrays


@pytest.mark.parametrize("width", [1, 3, 8, 1000])
def test_sample_size_admits_exactly_one_gib_of_float64(width):
    most = 2**30 // 8 // width  # 2^27 float64 numbers: 1 GiB
    assert as_sample_size("n", most, width) == most
    with pytest.raises(InputError, match="1 GiB"):
        as_sample_size("n", most + 1, width)


# ---------------------------------------------------------------------------------------------
# spark


def test_exact_coercion_keeps_the_represented_numbers():
    F = np.array([[0.5, -0.25, 3.0], [2.0**-40, 1.0 / 3.0, -7.75]])
    Q, exact = coerce_matrix("A", F, exact=True)
    assert exact and Q.shape == F.shape
    for i, j in itertools.product(range(2), range(3)):
        f = Fraction(float(F[i, j]))
        assert Q[i, j] == sympy.Rational(f.numerator, f.denominator)
    big = np.array([[2**53 + 1, -(2**60) - 3], [1, 2]], dtype=np.int64)
    Z, exact = coerce_matrix("A", big)
    assert exact and Z[0, 0] == 2**53 + 1 and Z[0, 1] == -(2**60) - 3


@pytest.mark.parametrize("shape, rank", [((3, 6), 3), ((4, 6), 3), ((5, 6), 4)])
def test_truncated_exact_spark_bounds_by_rank_plus_one(shape, rank):
    rng = np.random.default_rng(sum(shape) + rank)
    m, p = shape
    A = rng.integers(-5, 6, (m, rank)) @ rng.integers(-5, 6, (rank, p))
    r = sympy.Matrix(A).rank()
    true = brute_force_spark(sympy.Matrix(A))
    res = spark(A, max_size=1)
    assert res.exact and res.value is None and res.truncated_at == 1
    assert res.lower == 2 <= true <= res.upper == r + 1
    fl = spark(A.astype(float), max_size=1)
    assert (fl.lower, fl.upper) == (res.lower, res.upper)
    if true == r + 1:  # generic: the bound is attained
        assert res.upper == true


@pytest.mark.parametrize("shape", [(2, 4), (3, 5), (4, 4), (3, 7)])
def test_float_circuit_residual_is_sigma_min_of_normalised_circuit(shape):
    rng = np.random.default_rng(shape[0] * 10 + shape[1])
    A = rng.standard_normal(shape)
    A[:, -1] = A[:, 0] - 2 * A[:, 1] if shape == (4, 4) else A[:, -1]
    res = spark(A)
    assert res.decided and res.subset is not None
    C = A[:, list(res.subset)]
    C = C / np.linalg.norm(C, axis=0)
    sv = np.concatenate([scipy.linalg.svdvals(C), np.zeros(C.shape[1])])[: C.shape[1]]
    assert res.residual <= res.tolerance
    assert res.residual == pytest.approx(sv[-1], abs=1e-12)
    if C.shape[1] > C.shape[0]:
        assert res.residual == 0.0
