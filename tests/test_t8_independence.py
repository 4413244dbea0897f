"""T8: h = A s with independent sources. At most one Gaussian source -> A is identified up to
permutation and scale (FastICA recovers it, Amari index -> 0 like n^(-1/2)); two or more Gaussian
sources -> A R (R a rotation of the Gaussian block) generates exactly the same law of h.

Statistical assertions use fixed seeds and thresholds with a wide margin, stated at each one.
Example counts follow the profile: the ICA examples use k <= 4 sources and n <= 5000 samples, so
one example costs about 0.02 s (FastICA on whitened data converges in < 20 iterations) and none
needs a lower @settings(max_examples=...)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from synthetic.sources import (
    LAWS,
    NON_GAUSSIAN_LAWS,
    gaussian_mask,
    mix,
    mixture_sampler,
    random_mixing,
    sample_sources,
    source_sampler,
)
from theory.certificate import Certificate, Verdict
from theory.independence import (
    MIN_SAMPLES,
    NoGaussianPairError,
    align_columns,
    amari_curve,
    amari_curves,
    amari_index,
    block_amari_index,
    check_t8,
    check_t8_laws,
    check_t8_rate,
    check_t8_twin,
    embed_block_rotation,
    fit_ica,
    gaussian_block_rotation,
    gaussianity,
    log_spaced_sizes,
    plane_rotation,
    projection_ks_test,
    rotated_twin,
)

# ---- strategies: build valid objects --------------------------------------------------------

MAX_CONDITION = 5.0


@st.composite
def mixing_matrices(draw, k_min: int = 2, k_max: int = 3, k: int | None = None):
    """A (d, k), d in {k, k+1}, A = U diag(sigma) V^T with sigma in [1, MAX_CONDITION]: full column
    rank with condition number <= MAX_CONDITION by construction."""
    k = draw(st.integers(k_min, k_max)) if k is None else k
    d = k + draw(st.integers(0, 1))
    sigma = np.array(draw(st.lists(st.floats(1.0, MAX_CONDITION), min_size=k, max_size=k)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    U, _ = np.linalg.qr(rng.standard_normal((d, k)))
    V, _ = np.linalg.qr(rng.standard_normal((k, k)))
    return (U * sigma) @ V.T


@st.composite
def law_assignments(draw, k: int, n_gaussian: int):
    """k law names with exactly ``n_gaussian`` Gaussian ones at drawn positions."""
    laws = [draw(st.sampled_from(NON_GAUSSIAN_LAWS)) for _ in range(k)]
    for i in draw(st.permutations(range(k)))[:n_gaussian]:
        laws[i] = "gaussian"
    return tuple(laws)


@st.composite
def block_rotations(draw, g: int):
    """A g x g rotation of the Gaussian block: a plane rotation by theta in [pi/12, 5 pi/12] in a
    drawn coordinate plane of the block. Its Amari index is tan(min(theta, pi/2 - theta)) >=
    tan(pi/12) on that plane, so A R is never A up to permutation and scale."""
    theta = draw(st.floats(math.pi / 12, 5 * math.pi / 12))
    i, j = draw(st.permutations(range(g)))[:2]
    Q = np.eye(g)
    c, s = math.cos(theta), math.sin(theta)
    Q[i, i], Q[i, j], Q[j, i], Q[j, j] = c, -s, s, c
    return Q, theta


@st.composite
def integer_full_rank(draw, k: int):
    """Integer (k+1) x k matrix of full column rank: [L U; r] with L unit lower triangular and U
    upper triangular with nonzero diagonal, so the top block has det = prod diag(U) != 0."""
    ints = st.integers(-3, 3)
    L = sympy.eye(k)
    U = sympy.zeros(k, k)
    for i in range(k):
        U[i, i] = draw(st.sampled_from([-3, -2, -1, 1, 2, 3]))
        for j in range(i + 1, k):
            U[i, j] = draw(ints)
            L[j, i] = draw(ints)
    row = sympy.Matrix([draw(st.lists(ints, min_size=k, max_size=k))])
    return sympy.Matrix.vstack(L * U, row)


@st.composite
def pythagorean_rotations(draw):
    """Exact rational rotation [[c, -s], [s, c]] with (c, s) = ((m^2-q^2), 2mq)/(m^2+q^2), m > q >= 1."""
    q = draw(st.integers(1, 6))
    m = draw(st.integers(q + 1, 8))
    h = m * m + q * q
    c, s = sympy.Rational(m * m - q * q, h), sympy.Rational(2 * m * q, h)
    return sympy.Matrix([[c, -s], [s, c]])


# ---- Amari index ----------------------------------------------------------------------------


@st.composite
def scaled_permutations(draw, k_max: int = 6):
    k = draw(st.integers(1, k_max))
    perm = draw(st.permutations(range(k)))
    scales = draw(st.lists(st.floats(0.01, 100.0), min_size=k, max_size=k))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=k, max_size=k))
    P = np.zeros((k, k))
    P[np.arange(k), perm] = np.array(scales) * np.array(signs)
    return P


@given(scaled_permutations())
def test_amari_index_is_zero_for_scaled_permutations(P):
    assert amari_index(P) == 0.0


@given(scaled_permutations(k_max=6).filter(lambda P: P.shape[0] >= 2), st.data())
def test_amari_index_is_positive_off_scaled_permutations(P, data):
    k = P.shape[0]
    support = np.argwhere(P != 0)
    i = data.draw(st.integers(0, k - 1))
    off = [j for j in range(k) if j != support[i][1]]
    j = data.draw(st.sampled_from(off))
    Q = P.copy()
    Q[i, j] = data.draw(st.floats(1e-3, 10.0)) * np.abs(P).max()
    value = amari_index(Q)
    assert 0.0 < value <= 1.0


@given(st.integers(2, 5), st.data())
def test_amari_index_is_invariant_to_permutation_sign_and_global_scale(k, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    P = rng.standard_normal((k, k))
    rows, cols = data.draw(st.permutations(range(k))), data.draw(st.permutations(range(k)))
    signs = np.array(
        data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=k * k, max_size=k * k))
    )
    scale = data.draw(st.floats(1e-3, 1e3))
    Q = (scale * P * signs.reshape(k, k))[np.ix_(rows, cols)]
    assert amari_index(Q) == pytest.approx(amari_index(P), rel=1e-9, abs=1e-15)
    assert 0.0 <= amari_index(P) <= 1.0


@given(scaled_permutations(), st.data())
def test_amari_zero_set_is_invariant_to_row_and_column_scaling(P, data):
    k = P.shape[0]
    r = np.array(data.draw(st.lists(st.floats(0.01, 100.0), min_size=k, max_size=k)))
    c = np.array(data.draw(st.lists(st.floats(0.01, 100.0), min_size=k, max_size=k)))
    assert amari_index(r[:, None] * P * c[None, :]) == 0.0


def test_amari_value_is_not_invariant_to_row_scaling():
    """The standard index is not: scaling a row changes the column term. (Stated so nobody relies
    on it; ``theory.independence`` only applies it to P = W A with unit-variance sources.)"""
    P = np.array([[1.0, 0.5], [0.5, 1.0]])
    assert amari_index(np.diag([1.0, 2.0]) @ P) != pytest.approx(amari_index(P))


@given(st.floats(0.0, math.pi / 4))
def test_amari_index_of_a_plane_rotation_is_tan_theta(theta):
    assert amari_index(plane_rotation(theta)) == pytest.approx(math.tan(theta), abs=1e-12)


def test_amari_index_by_hand():
    # each row and each column contributes (1 + 1/2)/1 - 1 = 1/2; total 2 / (2 n (n - 1)) = 2/4
    assert amari_index([[1.0, 0.5], [0.5, 1.0]]) == pytest.approx(0.5)
    assert amari_index([[3.0]]) == 0.0


@given(st.floats(math.pi / 12, math.pi / 4), st.integers(0, 2**32 - 1))
def test_block_amari_reads_only_the_block(theta, seed):
    rng = np.random.default_rng(seed)
    P = np.eye(4)
    P[np.ix_([2, 3], [2, 3])] = plane_rotation(theta)
    perm = rng.permutation(4)
    P = P[perm] * rng.choice([-1.0, 1.0], 4)[:, None]  # estimated rows come in any order and sign
    assert block_amari_index(P, [2, 3]) == pytest.approx(math.tan(theta), rel=1e-9)
    assert block_amari_index(P, [0, 1]) == 0.0


@given(mixing_matrices(k_min=1, k_max=5), st.data())
def test_align_columns_undoes_permutation_sign_and_scale(A, data):
    k = A.shape[1]
    perm = np.array(data.draw(st.permutations(range(k))))
    signs = np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=k, max_size=k)))
    scales = np.array(data.draw(st.lists(st.floats(0.1, 10.0), min_size=k, max_size=k)))
    E = A[:, perm] * signs * scales
    al = align_columns(E, A)
    np.testing.assert_array_equal(perm[al.permutation], np.arange(k))
    np.testing.assert_allclose(al.cosines, 1.0, atol=1e-12)
    np.testing.assert_allclose(
        al.aligned / np.linalg.norm(al.aligned, axis=0), A / np.linalg.norm(A, axis=0), atol=1e-12
    )


# ---- source laws ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LAWS))
def test_source_laws_have_unit_variance_and_their_stated_kurtosis(name):
    s = sample_sources([name], 200_000, seed=11)[:, 0]
    se4 = np.std(s**4) / math.sqrt(s.size)  # standard error of the sample 4th moment
    # 6 standard errors: the fixed seed makes this deterministic; 6 SE leaves ample room
    assert abs(s.mean()) <= 6 * s.std() / math.sqrt(s.size)
    assert abs(s.var() - 1.0) <= 6 * np.std(s**2) / math.sqrt(s.size)
    assert abs(np.mean(s**4) - 3.0 - float(LAWS[name].excess_kurtosis)) <= 6 * se4
    assert LAWS[name].gaussian == (name == "gaussian")


def test_sampling_is_seeded():
    a = sample_sources(["laplace", "bimodal"], 300, seed=5)
    np.testing.assert_array_equal(a, sample_sources(["laplace", "bimodal"], 300, seed=5))
    assert not np.array_equal(a, sample_sources(["laplace", "bimodal"], 300, seed=6))
    np.testing.assert_array_equal(random_mixing(4, 3, 2), random_mixing(4, 3, 2))


@given(st.integers(1, 6), st.integers(0, 2), st.floats(1.0, 50.0), st.integers(0, 2**32 - 1))
def test_random_mixing_has_full_column_rank_and_the_stated_condition(k, extra, cond, seed):
    A = random_mixing(k + extra, k, seed, max_condition=cond)
    s = np.linalg.svd(A, compute_uv=False)
    assert A.shape == (k + extra, k)
    if k >= 2:
        assert s[0] / s[-1] == pytest.approx(cond, rel=1e-9)


# ---- direction 1: at most one Gaussian -> identifiable, recovered ---------------------------

RECOVERY_N = 5000
# Over 600 random draws of this strategy (k <= 3, cond <= 5, n = 5000) the worst Amari index was
# 0.064 and the worst column |cos| 0.990; the bounds below leave a 3x (resp. 5x in 1 - |cos|) margin.
RECOVERY_MAX_AMARI = 0.2
RECOVERY_MIN_COS = 0.95


@given(mixing_matrices(), st.data(), st.integers(0, 2**32 - 1))
def test_at_most_one_gaussian_source_is_recovered(A, data, seed):
    k = A.shape[1]
    g = data.draw(st.integers(0, 1))
    laws = data.draw(law_assignments(k, g))
    D = mix(A, laws, RECOVERY_N, seed=seed)
    cert = check_t8(D.H, A=A, seed=seed % 1000)
    assert cert.verdict is Verdict.HOLDS, cert.details["reason"]
    assert cert.dim == 0 and cert.margin > 1.0
    rec = cert.details["recovery"]
    assert rec["amari_index"] <= RECOVERY_MAX_AMARI
    assert min(rec["column_cosines"]) >= RECOVERY_MIN_COS
    # the witness is the recovered mixing, aligned to the planted columns (same order, same sign)
    aligned = cert.witness["aligned_mixing"]
    cos = np.sum(aligned * A, axis=0) / (
        np.linalg.norm(aligned, axis=0) * np.linalg.norm(A, axis=0)
    )
    assert np.all(cos >= RECOVERY_MIN_COS)
    assert check_t8_laws(A, gaussian_mask(laws)).verdict is Verdict.HOLDS


def test_recovery_error_falls_like_root_n_for_non_gaussian_sources():
    A = random_mixing(4, 3, seed=3)
    curve = amari_curve(
        A,
        mixture_sampler(A, ("laplace", "uniform", "bimodal")),
        log_spaced_sizes(250, 16000, 5),
        seeds=range(5),
    )
    # theory: -1/2; measured about -0.5 with these seeds. [-0.8, -0.25] only rejects "no decay" or
    # a wrong rate, with room for the median of 5 seeds.
    assert -0.8 <= curve.slope <= -0.25
    assert curve.median[-1] < curve.median[0] / 4
    cert = check_t8_rate(
        A,
        mixture_sampler(A, ("laplace", "uniform", "bimodal")),
        log_spaced_sizes(250, 16000, 5),
        seeds=range(5),
        slack=0.3,
    )
    assert cert.verdict is Verdict.HOLDS


# ---- direction 2: two or more Gaussians -> the rotated twin ---------------------------------

TWIN_N = 2000
# Each example runs one valid Bonferroni KS test on a true null; level 1e-6 keeps the chance of any
# false rejection over 100 examples below 1e-4. The control test below shows the same test at the
# same level and n does reject when the rotated block is not Gaussian.
TWIN_ALPHA = 1e-6


@given(st.data(), st.integers(0, 2**32 - 1))
def test_two_or_more_gaussians_rotated_twin_has_the_same_law(data, seed):
    k = data.draw(st.integers(2, 4))
    A = data.draw(mixing_matrices(k=k))
    g = data.draw(st.integers(2, k))
    laws = data.draw(law_assignments(k, g))
    Q, theta = data.draw(block_rotations(g))
    mask = gaussian_mask(laws)
    B, R = rotated_twin(A, mask, block=Q)
    # same covariance A A^T = (A R)(A R)^T, to round-off
    assert np.linalg.norm(A @ A.T - B @ B.T) <= 1e-13 * np.linalg.norm(A @ A.T)
    # B differs from A by more than permutation and scale: Amari(A^+ B) = Amari(R) > 0 ...
    phi = min(theta, math.pi / 2 - theta)
    expected = 4 * math.tan(phi) / (2 * k * (k - 1))
    assert amari_index(np.linalg.pinv(A) @ B) == pytest.approx(expected, rel=1e-9)
    # ... in source coordinates (A^+ B = R) two columns are at angle >= pi/12 from every axis
    assert (
        min(align_columns(np.linalg.pinv(A) @ B, np.eye(k)).cosines)
        <= math.cos(math.pi / 12) + 1e-9
    )
    cert = check_t8_twin(
        A, mask, source_sampler(laws), n_samples=TWIN_N, block=Q, alpha=TWIN_ALPHA, seed=seed % 1000
    )
    assert cert.verdict is Verdict.HOLDS, cert.details
    assert cert.details["twin_test"]["p_value"] >= TWIN_ALPHA
    assert cert.dim == g * (g - 1) // 2
    law = check_t8_laws(A, mask)
    assert law.verdict is Verdict.VIOLATED and law.dim == g * (g - 1) // 2


@given(st.integers(2, 3), st.data())
def test_exact_twin_covariance_for_rational_rotations(k, data):
    A = data.draw(integer_full_rank(k))
    block = data.draw(pythagorean_rotations())
    mask = [False] * (k - 2) + [True, True]
    B, R = rotated_twin(A, mask, block=block)
    assert (A * A.T - B * B.T).is_zero_matrix
    assert (R.T * R - sympy.eye(k)).is_zero_matrix and R.det() == 1
    # B is not A up to permutation and scale: each Gaussian column of B is parallel to no column of A
    for i in (k - 2, k - 1):
        assert all(sympy.Matrix.hstack(B[:, i], A[:, j]).rank() == 2 for j in range(k))


def test_the_twin_test_separates_a_non_gaussian_rotated_block():
    """Control: the same R on a bimodal pair changes the law, and the same test at the same level and
    n rejects (p about 1e-14 with this seed: eight decades below TWIN_ALPHA)."""
    A = random_mixing(4, 3, seed=0)
    R = gaussian_block_rotation([False, True, True])
    rng = np.random.default_rng(0)
    laws = ("laplace", "bimodal", "bimodal")
    X = sample_sources(laws, TWIN_N, rng) @ A.T
    Y = sample_sources(laws, TWIN_N, rng) @ (A @ R).T
    assert projection_ks_test(X, Y, directions=np.linalg.pinv(A)).p_value < TWIN_ALPHA
    # a mislabelled block (told Gaussian, sampled bimodal) is caught: the twin is separated
    cert = check_t8_twin(
        A, [False, True, True], source_sampler(laws), n_samples=TWIN_N, alpha=TWIN_ALPHA
    )
    assert cert.verdict is Verdict.VIOLATED


def test_twin_certificate_with_control_and_block_recovery():
    A = random_mixing(5, 4, seed=1)
    laws = ("laplace", "uniform", "gaussian", "gaussian")
    cert = check_t8_twin(
        A,
        gaussian_mask(laws),
        source_sampler(laws),
        n_samples=4000,
        control_sample_sources=source_sampler(("laplace", "uniform", "bimodal", "bimodal")),
        ica_sizes=np.array([500, 2000, 8000]),
        seed=1,
    )
    assert cert.verdict is Verdict.HOLDS, cert.details["reason"]
    assert cert.details["control_test"]["p_value"] < 1e-3
    # Gaussian block: median Amari stays large at every n (a uniform angle gives median tan(pi/8) =
    # 0.41); control block falls. Thresholds 0.1 / 0.05 are far from both (observed ~0.4 vs ~0.006).
    assert min(cert.details["gaussian_block_curve"]["median"]) > 0.1
    assert cert.details["control_block_curve"]["median"][-1] < 0.05
    assert cert.details["block_error_ratio"] >= 5.0
    assert Certificate.from_json(cert.to_json()) == cert


def test_gaussian_block_error_does_not_fall_with_n():
    A = random_mixing(4, 4, seed=2)
    gauss, other = amari_curves(
        A,
        mixture_sampler(A, ("laplace", "uniform", "gaussian", "gaussian")),
        np.array([500, 2000, 8000, 16000]),
        seeds=range(7),
        blocks=((2, 3), (0, 1)),
    )
    # observed medians: Gaussian block 0.37, 0.79, 0.46, 0.40 (flat); non-Gaussian block 0.030 ->
    # 0.0038 (8x down). Asserted: >= 0.1 everywhere, >= 3x down, >= 10x apart at n = 16000 (seen: 105x).
    assert min(gauss.median) > 0.1
    assert other.median[-1] < other.median[0] / 3
    assert gauss.median[-1] > 10 * other.median[-1]


# ---- the data-driven checker: holds / violated / undecided ----------------------------------


@pytest.mark.parametrize(
    "laws, dim", [(("laplace", "gaussian", "gaussian"), 1), (("gaussian",) * 3, 3)]
)
def test_checker_flags_two_or_more_gaussian_sources(laws, dim):
    D = mix(random_mixing(3, 3, seed=4), laws, 12000, seed=4)
    cert = check_t8(D.H, A=D.A, seed=4)
    # 6000 held-out samples: equivalence bounds |g2| + z se2 ~ 0.26, |g1| + z se1 ~ 0.09, far inside
    # the (0.5, 0.25) band for Gaussian components
    assert cert.verdict is Verdict.VIOLATED, cert.details["reason"]
    assert cert.dim == dim
    assert cert.details["gaussian_count"] == sum(law == "gaussian" for law in laws)


def test_checker_is_undecided_when_the_sample_is_too_small_to_call_gaussianity():
    D = mix(random_mixing(3, 3, seed=4), ("laplace", "gaussian", "gaussian"), 400, seed=4)
    cert = check_t8(D.H, A=D.A, seed=4)
    # 200 held-out samples: z se2 = 2.71 * 0.32 > 0.5, so no component can be called Gaussian
    # (never violated at this n, by construction), and the two Gaussian ones are not rejected either
    assert cert.verdict is Verdict.UNDECIDED
    assert cert.details["gaussian_count"] == 0
    assert all(c["kurtosis_bound"] > 0.5 for c in cert.details["gaussianity"]["components"])


def test_gaussianity_classification():
    rng = np.random.default_rng(0)
    Y = np.column_stack(
        [rng.standard_normal(20000), rng.uniform(-1, 1, 20000), rng.laplace(size=20000)]
    )
    kinds = [c.kind for c in gaussianity(Y).components]
    assert kinds == ["gaussian", "non-gaussian", "non-gaussian"]
    assert gaussianity(Y[:150, :1]).components[0].kind == "inconclusive"


def test_convergence_warning_is_recorded_not_raised():
    D = mix(random_mixing(3, 3, seed=0), ("laplace", "uniform", "bimodal"), 2000, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fit = fit_ica(D.H, max_iter=1)
        cert = check_t8(D.H, A=D.A, max_iter=1)
    assert not fit.converged and fit.warnings and "converge" in fit.warnings[0]
    assert cert.verdict is Verdict.UNDECIDED
    assert "ConvergenceWarning" in cert.details["reason"]
    assert cert.details["ica_fit_half"]["warnings"]
    assert check_t8(D.H, A=D.A).verdict is Verdict.HOLDS  # the same data with enough iterations


def test_check_t8_without_planted_a_and_json_round_trip():
    D = mix(random_mixing(4, 3, seed=5), ("laplace", "uniform", "gaussian"), 3000, seed=5)
    cert = check_t8(D.H)  # k from the certified rank of the centred data
    assert cert.verdict is Verdict.HOLDS and cert.rank == 3
    assert "recovery" not in cert.details and cert.witness["unmixing"].shape == (3, 4)
    assert Certificate.from_json(cert.to_json()) == cert


def test_known_laws_count():
    A = random_mixing(4, 4, seed=0)
    assert check_t8_laws(A, [False, False, False, True]).verdict is Verdict.HOLDS
    cert = check_t8_laws(A, [True, False, True, True])
    assert cert.verdict is Verdict.VIOLATED and cert.dim == 3
    twin = cert.witness["twin"]
    np.testing.assert_allclose(A @ A.T, twin @ twin.T, atol=1e-12)


# ---- bad input ------------------------------------------------------------------------------


def _good():
    return mix(random_mixing(3, 3, seed=0), ("laplace", "uniform", "bimodal"), 400, seed=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_data_is_rejected(bad):
    D = _good()
    H = D.H.copy()
    H[3, 1] = bad
    with pytest.raises(ValueError, match="H"):
        check_t8(H)
    A = D.A.copy()
    A[0, 0] = bad
    with pytest.raises(ValueError, match="A"):
        check_t8(D.H, A=A)
    with pytest.raises(ValueError, match="A"):
        mix(A, D.laws, 400)


def test_wrong_ndim_is_rejected():
    D = _good()
    with pytest.raises(ValueError, match="H"):
        check_t8(D.H[:, 0])
    with pytest.raises(ValueError, match="A"):
        check_t8(D.H, A=D.A[:, 0])
    with pytest.raises(ValueError, match="A"):
        check_t8(D.H, A=np.eye(4))  # A has 4 rows, h has 3 coordinates
    with pytest.raises(ValueError, match="P"):
        amari_index(np.ones((2, 3)))
    with pytest.raises(ValueError, match="gaussian"):
        check_t8_laws(D.A, [True, False])


def test_too_few_samples_are_rejected():
    D = _good()
    with pytest.raises(ValueError, match="H"):
        check_t8(D.H[: MIN_SAMPLES - 1])
    with pytest.raises(ValueError, match="n_samples"):
        sample_sources(["laplace"], MIN_SAMPLES - 1)
    with pytest.raises(ValueError, match="n_samples"):
        mix(D.A, D.laws, 10)
    with pytest.raises(ValueError, match="n_grid"):
        amari_curve(D.A, mixture_sampler(D.A, D.laws), np.array([50, 400]))


def test_rank_deficient_mixing_is_rejected():
    A = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])  # rank 2 < 3 columns
    with pytest.raises(ValueError, match="A must have full column rank"):
        mix(A, ("laplace", "uniform", "bimodal"), 400)
    with pytest.raises(ValueError, match="A must have full column rank"):
        check_t8_laws(A, [True, True, False])
    H = sample_sources(("laplace", "uniform", "bimodal"), 400) @ np.eye(3)
    with pytest.raises(ValueError, match="A must have full column rank"):
        check_t8(H, A=A)
    with pytest.raises(ValueError, match="A"):
        mix(np.ones((2, 3)), ("laplace", "uniform", "bimodal"), 400)  # d < k


def test_unknown_law_and_bad_masks_are_rejected():
    with pytest.raises(ValueError, match="laws"):
        sample_sources(["laplace", "cauchy"], 400)
    with pytest.raises(ValueError, match="laws"):
        gaussian_mask("gaussian")
    with pytest.raises(ValueError, match="laws"):
        mix(np.eye(2), [], 400)
    with pytest.raises(NoGaussianPairError, match="gaussian"):
        gaussian_block_rotation([True, False, False])
    with pytest.raises(NoGaussianPairError):
        check_t8_twin(np.eye(2), [True, False], source_sampler(("gaussian", "laplace")))
    with pytest.raises(ValueError, match="block"):
        embed_block_rotation([True, True], np.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="block"):
        rotated_twin(sympy.eye(2), [True, True], block=sympy.Matrix([[1, 1], [0, 1]]))
    with pytest.raises(ValueError, match="gaussian"):
        check_t8_laws(np.eye(2), [0.5, 1])
    with pytest.raises(ValueError, match="alpha"):
        check_t8(_good().H, alpha=1.5)


# ---- the registered exact checks cannot pass vacuously --------------------------------------


def test_exact_t8_checks_hold_and_fail_on_wrong_variants():
    from proofs_check.checks import independence as checks

    assert checks.exact_t8_density(0).verdict is Verdict.HOLDS
    assert checks.exact_t8_covariance(0).verdict is Verdict.HOLDS
    # a Laplace pair is not rotation invariant: the density identity must fail
    assert (
        checks.exact_t8_density(0, block_density=checks.laplace_block_density).verdict
        is Verdict.VIOLATED
    )
    # a volume-preserving but non-orthogonal block changes the covariance: the check must fail
    stretch = sympy.Matrix([[sympy.Rational(5, 3), 0], [0, sympy.Rational(3, 5)]])
    assert checks.exact_t8_covariance(0, block=stretch).verdict is Verdict.VIOLATED
