"""Claims of T8's toolkit (theory.amari, amari_curves, gaussianity, ica, independence, mixing,
rotations, two_sample, observations) pinned against independent computations.

Each test states one claim: the Amari column matching reports the true cosines for columns of any
norm; a non-square P is refused; two log-spaced sizes are allowed; the Gaussian band is inclusive;
the negentropy approximation and the normal-theory kurtosis standard error match their closed
forms; the fitted ICA mean is the exact sample mean; a single-source mixture has one component;
a certificate reports the dimension d of h; the sample-size floors are 200 and 100 rows; a
one-source mask is valid; Hellinger coordinates are 2 sqrt(p); the twin and block tolerances are
1e-12; a zero row or column of ``A^+ B`` marks a twin as no permutation/scale of A; the KS test's
directions are unit rows.
"""

from __future__ import annotations

import math
from fractions import Fraction

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from theory.amari import align_columns, match_rows
from theory.amari_curves import log_spaced_sizes
from theory.gaussianity import gaussianity, moment_standard_errors
from theory.ica import fit_ica, n_components_from_data
from theory.independence import check_t8_laws
from theory.local_problem import LocalProblem
from theory.mixing import MIN_SAMPLES, MIN_TEST_SAMPLES, as_gaussian_mask, as_samples
from theory.observations import observe
from theory.rotations import embed_block_rotation, plane_rotation, verify_twin
from theory.two_sample import projection_ks_test
from theory.validation import InputError

from .t8_strategies import mixing_matrices

seeds = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------------------------------------
# theory.amari


@settings(max_examples=20)
@given(mixing_matrices(k_min=2, k_max=4), seeds, st.floats(0.05, 20.0))
def test_align_columns_reports_the_true_cosines_for_columns_of_any_norm(A, seed, scale):
    """align_columns' cosines are |cos(estimated_perm[j], planted_j)|, whatever the column norms."""
    rng = np.random.default_rng(seed)
    d, k = A.shape
    planted = A * rng.uniform(0.1, 3.0, size=k) * scale
    perm = rng.permutation(k)
    estimated = planted[:, perm] * rng.choice([-1.0, 1.0], size=k) * rng.uniform(0.2, 5.0, size=k)
    estimated = estimated + 0.05 * scale * rng.standard_normal((d, k))
    al = align_columns(estimated, planted)
    for j in range(k):
        e, a = estimated[:, al.permutation[j]], planted[:, j]
        direct = abs(float(e @ a)) / (np.linalg.norm(e) * np.linalg.norm(a))
        assert al.cosines[j] == pytest.approx(direct, rel=1e-12, abs=1e-14)
        assert 0.0 <= al.cosines[j] <= 1.0


def test_match_rows_refuses_a_non_square_matrix():
    """match_rows needs a square P = W A: a 2 x 3 (or 3 x 2) P raises InputError naming P."""
    for shape in ((2, 3), (3, 2)):
        with pytest.raises(InputError, match="P must be square"):
            match_rows(np.arange(1.0, 1.0 + shape[0] * shape[1]).reshape(shape))


# ---------------------------------------------------------------------------------------------
# theory.amari_curves


def test_log_spaced_sizes_accepts_the_documented_minimum_of_two_points():
    """n_points = 2 (the least a slope needs) gives exactly the two end sizes n_min and n_max."""
    assert log_spaced_sizes(MIN_SAMPLES, 5 * MIN_SAMPLES, 2).tolist() == [200, 1000]
    with pytest.raises(InputError, match="n_points"):
        log_spaced_sizes(MIN_SAMPLES, 5 * MIN_SAMPLES, 1)


# ---------------------------------------------------------------------------------------------
# theory.gaussianity


@settings(max_examples=15)
@given(seeds, st.integers(MIN_TEST_SAMPLES, 800))
def test_gaussian_band_is_inclusive_of_its_edges(seed, n):
    """A non-rejected column whose bounds equal (max_skew, max_excess_kurtosis) is "gaussian"
    (``|g1| + z se1 <= max_skew`` and ``|g2| + z se2 <= max_excess_kurtosis``)."""
    y = np.random.default_rng(seed).standard_normal((n, 1))
    first = gaussianity(y, alpha=0.01, max_skew=10.0, max_excess_kurtosis=10.0)
    c = first.components[0]
    assume(c.p_value >= first.level)
    edge = gaussianity(
        y, alpha=0.01, max_skew=c.skew_bound, max_excess_kurtosis=c.kurtosis_bound
    ).components[0]
    assert edge.kind == "gaussian"
    below = gaussianity(
        y,
        alpha=0.01,
        max_skew=np.nextafter(c.skew_bound, 0.0),
        max_excess_kurtosis=c.kurtosis_bound,
    ).components[0]
    assert below.kind == "inconclusive"


@settings(max_examples=15)
@given(seeds, st.sampled_from(["laplace", "uniform", "exponential"]), st.integers(100, 600))
def test_negentropy_is_skew_squared_over_12_plus_kurtosis_squared_over_48(seed, law, n):
    """J = g1^2/12 + g2^2/48 with g1, g2 scipy's biased sample skew and excess kurtosis."""
    rng = np.random.default_rng(seed)
    y = getattr(rng, law)(size=n)
    c = gaussianity(y[:, None]).components[0]
    g1 = float(scipy.stats.skew(y))
    g2 = float(scipy.stats.kurtosis(y, fisher=True))
    assert c.negentropy == pytest.approx(g1 * g1 / 12.0 + g2 * g2 / 48.0, rel=1e-12, abs=1e-15)
    assert c.negentropy >= 0.0


@pytest.mark.parametrize("n", [4, 5, 10, 37, 100, 1000, 123457])
def test_moment_standard_errors_match_the_normal_theory_closed_forms(n):
    """se1^2 = 6(n-2)/((n+1)(n+3)) and se2^2 = 24 n (n-2)(n-3)/((n+1)^2 (n+3)(n+5)) (exact
    rationals: the variances of the sample skew and kurtosis of n normal observations)."""
    var1 = Fraction(6 * (n - 2), (n + 1) * (n + 3))
    var2 = Fraction(24 * n * (n - 2) * (n - 3), (n + 1) ** 2 * (n + 3) * (n + 5))
    se1, se2 = moment_standard_errors(n)
    assert se1 == pytest.approx(math.sqrt(var1), rel=1e-14)
    assert se2 == pytest.approx(math.sqrt(var2), rel=1e-14)


# ---------------------------------------------------------------------------------------------
# theory.ica


def test_fitted_mean_is_the_exact_sample_mean_of_h():
    """IcaFit.mean is the sample mean of H (d = k) within one ulp of the exact rational mean, even
    on a large offset where a plain float mean is off by several ulps."""
    rng = np.random.default_rng(3)
    n = 2000
    S = np.column_stack([rng.laplace(size=n), rng.uniform(-1.7, 1.7, size=n)])
    for offset in (1e6, 1e9):
        H = S @ np.array([[1.0, 0.3], [0.2, 1.0]]).T + offset + 0.1
        exact = np.array([float(sum(map(Fraction, H[:, j])) / n) for j in range(2)])
        fit = fit_ica(H, seed=0)
        assert np.all(np.abs(fit.mean - exact) <= np.spacing(exact))


def test_single_source_mixture_has_one_component():
    """Centred H = s a^T + c (one source) has certified rank 1: n_components_from_data gives 1 and
    fit_ica fits one component; constant rows (rank 0) are refused."""
    rng = np.random.default_rng(0)
    s = rng.laplace(size=MIN_SAMPLES)
    H = np.outer(s, [1.0, -2.0, 0.5]) + np.array([3.0, 1.0, -1.0])
    assert n_components_from_data(H) == 1
    assert fit_ica(H).unmixing.shape == (1, 3)
    with pytest.raises(InputError, match="no variance"):
        n_components_from_data(np.tile([1.0, 2.0, 3.0], (MIN_SAMPLES, 1)))


# ---------------------------------------------------------------------------------------------
# theory.independence


@pytest.mark.parametrize("gaussian", [[False, False], [True, True]])
def test_t8_laws_certificate_reports_the_dimension_of_h(gaussian):
    """check_t8_laws on A (d x k) = (3 x 2) reports d = 3 (h in R^d) and rank k = 2."""
    A = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    cert = check_t8_laws(A, gaussian)
    assert cert.d == 3 and cert.rank == 2


# ---------------------------------------------------------------------------------------------
# theory.mixing


def test_sample_floors_are_200_rows_and_100_held_out_rows():
    """The documented floors: MIN_SAMPLES = 200 rows (accepted at 200, refused at 199) and the
    held-out statistic's MIN_TEST_SAMPLES = 200 // 2 = 100 rows, an integer in the refusal."""
    rng = np.random.default_rng(0)
    assert as_samples("X", rng.standard_normal((200, 2))).shape == (200, 2)
    with pytest.raises(InputError, match=r"at least 200 rows"):
        as_samples("X", rng.standard_normal((199, 2)))
    assert gaussianity(rng.standard_normal((100, 2))).n == 100
    with pytest.raises(InputError, match=r"at least 100 rows"):
        gaussianity(rng.standard_normal((99, 2)))
    assert isinstance(MIN_TEST_SAMPLES, int) and 2 * MIN_TEST_SAMPLES == MIN_SAMPLES


def test_gaussian_mask_of_one_source_is_valid_and_an_empty_one_is_not():
    """A model with k = 1 source has a valid one-entry mask; an empty mask raises InputError."""
    assert as_gaussian_mask([True]).tolist() == [True]
    assert as_gaussian_mask([0], k=1).tolist() == [False]
    cert = check_t8_laws(np.array([[1.0], [2.0]]), [True])
    assert cert.verdict.value == "holds" and cert.dim == 0
    with pytest.raises(InputError, match="non-empty"):
        as_gaussian_mask([])


# ---------------------------------------------------------------------------------------------
# theory.observations


@pytest.mark.parametrize("seed", [0, 1])
def test_hellinger_coordinates_are_twice_the_square_root_of_the_probabilities(seed):
    """observe(..., "hellinger") = 2 sqrt(softmax(logits)): each position's squares sum to 4."""
    rng = np.random.default_rng(seed)
    N, T, d, V = 2, 3, 4, 5
    problem = LocalProblem(
        downstream=lambda h: jnp.tanh(h),
        stream=rng.standard_normal((N, T, d)),
        w_u=2.0 * rng.standard_normal((d, V)),
        b_u=rng.standard_normal(V),
        alphas=(0.5, -1.0),
        plus=(0,),
        minus=(1,),
    )
    v = rng.standard_normal(d)
    z = observe(problem, v, "logits")
    hel = observe(problem, v, "hellinger")
    assert hel.shape == z.shape
    np.testing.assert_allclose(hel, 2.0 * np.sqrt(scipy.special.softmax(z, axis=-1)), rtol=1e-12)
    np.testing.assert_allclose((hel**2).sum(axis=-1), 4.0, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# theory.rotations


def _twin_with_block_error(eps: float):
    """A = I_3, Gaussian block {0, 1} turned by pi/4, the non-Gaussian entry R[2, 2] = 1 + eps."""
    R = np.eye(3)
    R[:2, :2] = plane_rotation(math.pi / 4)
    R[2, 2] = 1.0 + eps
    return np.eye(3), R, [True, True, False]


def test_twin_tolerance_is_1e_12():
    """verify_twin accepts a block residual of 0.5e-12 and refuses 1.5e-12 (tolerance 1e-12)."""
    ok = verify_twin(*_twin_with_block_error(0.5e-12))
    assert ok.ok and ok.tolerance == 1e-12
    bad = verify_twin(*_twin_with_block_error(1.5e-12))
    assert 1e-12 < bad.block_residual < 2e-12
    assert not bad.ok and "non-Gaussian" in bad.failure


def test_block_orthogonality_is_checked_to_1e_12():
    """embed_block_rotation accepts a block with max|Q^T Q - I| = 0.5e-12 and refuses 1.5e-12."""
    near = np.diag([1.0 + 0.25e-12, 1.0])
    assert embed_block_rotation([True, True], near)[0, 0] == near[0, 0]
    off = np.diag([1.0 + 0.75e-12, 1.0])
    assert 1e-12 < np.max(np.abs(off.T @ off - np.eye(2))) < 2e-12
    with pytest.raises(InputError, match="orthogonal"):
        embed_block_rotation([True, True], off)


@pytest.mark.parametrize("axis", [0, 1])
def test_twin_with_a_zero_line_in_r_is_not_a_permutation_of_a(axis):
    """A twin whose R = A^+ B has a zero column (axis 0) or row (axis 1) is no permutation/scale of
    A: verify_twin reports Amari = inf instead of failing on the undefined index."""
    A = np.eye(3)
    B = np.eye(3)
    B[:2, :2] = plane_rotation(math.pi / 4)
    if axis == 0:
        B[:, 1] = 0.0
    else:
        B[1, :] = 0.0
    check = verify_twin(A, B, [True, True, False])
    assert check.amari == math.inf
    assert not check.ok  # the covariance no longer matches


# ---------------------------------------------------------------------------------------------
# theory.two_sample


def test_projection_directions_are_unit_rows_along_the_given_ones():
    """The KS test's directions are the given rows and the random ones, each scaled to unit norm."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((150, 3)), rng.standard_normal((120, 3))
    D = np.array([[3.0, 0.0, 4.0], [0.0, 0.5, 0.0]])
    res = projection_ks_test(X, Y, directions=D, n_random=3, seed=1)
    assert res.directions.shape == (5, 3)
    np.testing.assert_allclose(np.linalg.norm(res.directions, axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(res.directions[:2], D / np.linalg.norm(D, axis=1)[:, None])
