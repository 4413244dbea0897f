"""T8's Gaussianity tests of recovered sources, Bonferroni over the k columns at family level
alpha: a column is non-Gaussian iff its D'Agostino-Pearson p-value is below alpha / k, so on k
Gaussian columns the family-wise false-alarm rate is at most alpha; a column is Gaussian only when
both equivalence bounds ``|g| + z se`` sit inside the resolution band."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

from theory.gaussianity import gaussianity, moment_standard_errors, sorted_margins
from theory.mixing import MIN_TEST_SAMPLES


@st.composite
def near_gaussian_columns(draw, n_min: int = MIN_TEST_SAMPLES, n_max: int = 2000):
    """Y (n, k), k in 1..4: column j is ``z + eps_j * l`` with z, l independent N(0,1) and
    Laplace draws and eps_j in [0, 1/2], so the p-values range from uniform (eps = 0) to tiny."""
    n = draw(st.integers(n_min, n_max))
    k = draw(st.integers(1, 4))
    eps = np.array(draw(st.lists(st.floats(0.0, 0.5), min_size=k, max_size=k)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((n, k)) + eps * rng.laplace(size=(n, k))


family_levels = st.sampled_from([0.001, 0.01, 0.05, 0.1, 0.2])


@given(near_gaussian_columns(), family_levels)
def test_a_column_is_non_gaussian_iff_its_p_value_is_below_alpha_over_k(Y, alpha):
    k = Y.shape[1]
    report = gaussianity(Y, alpha=alpha)
    for j, comp in enumerate(report.components):
        p = scipy.stats.normaltest(Y[:, j]).pvalue
        assert comp.p_value == pytest.approx(p, rel=1e-12)
        assert (comp.kind == "non-gaussian") == (p < alpha / k)


@given(near_gaussian_columns(), family_levels)
def test_the_bonferroni_level_quantiles_are_those_of_alpha_over_k(Y, alpha):
    k = Y.shape[1]
    report = gaussianity(Y, alpha=alpha)
    assert report.level == alpha / k and report.alpha == alpha
    assert report.k2_critical == pytest.approx(scipy.stats.chi2.isf(alpha / k, 2), rel=1e-9)
    assert report.z == pytest.approx(scipy.stats.norm.isf(alpha / k), rel=1e-9)


@pytest.mark.parametrize("alpha, k", [(0.05, 4), (0.01, 3), (0.2, 2)])
def test_p_values_between_alpha_over_k_and_alpha_do_not_reject(alpha, k):
    """Gaussian columns whose normaltest p-value lies in [alpha/k, alpha) (found by scanning seeds)
    are not called non-Gaussian; one below alpha/k is. A per-column level other than alpha/k
    (alpha, or alpha * k) calls the first kind non-Gaussian."""
    n = 400
    inside, below = [], None
    for seed in range(5000):
        y = np.random.default_rng(seed).standard_normal(n)
        p = scipy.stats.normaltest(y).pvalue
        if alpha / k <= p < alpha and len(inside) < k - 1:
            inside.append(y)
        elif p < alpha / k and below is None:
            below = y
        if below is not None and len(inside) == k - 1:
            break
    assert below is not None and len(inside) == k - 1  # the scan found both kinds
    kinds = [c.kind for c in gaussianity(np.column_stack([*inside, below]), alpha=alpha).components]
    assert "non-gaussian" not in kinds[:-1]
    assert kinds[-1] == "non-gaussian"


def test_family_wise_false_alarm_rate_on_gaussian_coordinates_is_at_most_alpha():
    """Over 400 seeded draws of k = 4 independent Gaussian columns (n = 200), the draws with any
    column called non-Gaussian are at most the binomial(400, alpha) 1 - 1e-6 quantile (44 for
    alpha = 0.05; observed 22). An uncorrected level alpha gives 78 (seen), a
    level alpha * k about 236."""
    alpha, k, draws = 0.05, 4, 400
    alarms = 0
    for seed in range(draws):
        Y = np.random.default_rng([seed, 8]).standard_normal((200, k))
        alarms += gaussianity(Y, alpha=alpha).count("non-gaussian") > 0
    assert alarms <= scipy.stats.binom.isf(1e-6, draws, alpha)


@given(near_gaussian_columns(), family_levels)
def test_margins_are_oriented_so_that_one_is_the_edge_of_the_call(Y, alpha):
    report = gaussianity(Y, alpha=alpha)
    for j, comp in enumerate(report.components):
        assert report.non_gaussian_margin(j) == pytest.approx(report.level / comp.p_value)
        assert (report.non_gaussian_margin(j) > 1) == (comp.kind == "non-gaussian")
        assert (report.gaussian_margin(j) >= 1) == (comp.kind == "gaussian")
    for kind in ("non-gaussian", "gaussian"):
        m = sorted_margins(report, kind)
        assert np.all(np.diff(m) <= 0)
        count = report.count(kind)
        if count:
            assert m[count - 1] >= 1
        if count < m.size:
            assert m[count] <= 1


@given(near_gaussian_columns(n_min=MIN_TEST_SAMPLES, n_max=800), family_levels)
def test_equivalence_bounds_are_moment_plus_z_standard_errors(Y, alpha):
    n = Y.shape[0]
    report = gaussianity(Y, alpha=alpha)
    se1, se2 = moment_standard_errors(n)
    for j, comp in enumerate(report.components):
        g1, g2 = scipy.stats.skew(Y[:, j]), scipy.stats.kurtosis(Y[:, j])
        assert comp.skew_bound == pytest.approx(abs(g1) + report.z * se1, rel=1e-9)
        assert comp.kurtosis_bound == pytest.approx(abs(g2) + report.z * se2, rel=1e-9)
        if comp.kind == "gaussian":
            assert comp.skew_bound <= report.max_skew
            assert comp.kurtosis_bound <= report.max_excess_kurtosis


def test_moment_standard_errors_match_the_sampling_spread():
    """se1, se2 are the standard deviations of the sample skew and kurtosis under normality: over
    4000 seeded draws of n = 200 the observed spreads agree to 10% (their sampling error is ~2%)."""
    Y = np.random.default_rng(3).standard_normal((4000, 200))
    se1, se2 = moment_standard_errors(200)
    assert np.std(scipy.stats.skew(Y, axis=1)) == pytest.approx(se1, rel=0.1)
    assert np.std(scipy.stats.kurtosis(Y, axis=1)) == pytest.approx(se2, rel=0.1)


def test_gaussianity_classification():
    rng = np.random.default_rng(0)
    Y = np.column_stack(
        [rng.standard_normal(20000), rng.uniform(-1, 1, 20000), rng.laplace(size=20000)]
    )
    kinds = [c.kind for c in gaussianity(Y).components]
    assert kinds == ["gaussian", "non-gaussian", "non-gaussian"]
    assert gaussianity(Y[:150, :1]).components[0].kind == "inconclusive"


def test_bad_gaussianity_input_is_rejected():
    Y = np.random.default_rng(0).standard_normal((200, 2))
    for bad in (0.0, 0.5, 1.5, np.nan, True, "0.01"):
        with pytest.raises(ValueError, match="alpha"):
            gaussianity(Y, alpha=bad)
    for bad in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match="max_skew"):
            gaussianity(Y, max_skew=bad)
        with pytest.raises(ValueError, match="max_excess_kurtosis"):
            gaussianity(Y, max_excess_kurtosis=bad)
    with pytest.raises(ValueError, match="Y"):
        gaussianity(Y[: MIN_TEST_SAMPLES - 1])
    with pytest.raises(ValueError, match="kind"):
        sorted_margins(gaussianity(Y), "inconclusive")
