"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 5, L):

- ``over(e, t)`` refuses a negative evidence or threshold (either one alone); otherwise it is e / t,
  inf for t = 0 < e, 0 for e = t = 0, and >= 1 iff e >= t;
- ``sample_efficacy`` draws n = 1000 perturbations by default; for an affine score the ratios are
  R = w.(v + u) / w.v with u orthogonal to v of norm rho |v|;
- ``gaussianity`` classifies each column from K^2 (p < alpha / k: non-Gaussian) and the equivalence
  bounds |g| + z se (Gaussian iff both inside the band), with defaults alpha 0.01, max_skew 0.25
  and max_excess_kurtosis 0.5 (the default equals the value passed explicitly);
- ``check_t8_twin``'s ICA medians are over the default seeds range(7): seven fits per ICA size,
  and the default certificate equals the one with ica_seeds=range(7) passed explicitly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from synthetic.sources import gaussian_mask, random_mixing, source_sampler
from theory.efficacy import sample_efficacy
from theory.gates import over
from theory.gaussianity import gaussianity
from theory.independence import check_t8_twin

# ---------------------------------------------------------------------------------------------
# theory.gates.over


@pytest.mark.parametrize("evidence, threshold", [(-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)])
def test_over_refuses_any_negative_number(evidence, threshold):
    """over needs non-negative numbers: a negative evidence or threshold (alone or both) is a
    ValueError."""
    with pytest.raises(ValueError, match="non-negative"):
        over(evidence, threshold)


def test_over_is_evidence_over_threshold():
    """over(e, t) = e / t (>= 1 iff e >= t); inf for t = 0 < e; 0 for e = t = 0."""
    rng = np.random.default_rng(0)
    for e, t in rng.uniform(0.0, 3.0, size=(50, 2)):
        m = over(float(e), float(t))
        assert m == float(e) / float(t)
        assert (m >= 1) == (e >= t)
    assert over(2.0, 2.0) == 1.0
    assert over(0.5, 0.0) == math.inf
    assert over(0.0, 0.0) == 0.0
    assert over(0.0, 2.0) == 0.0


# ---------------------------------------------------------------------------------------------
# theory.efficacy.sample_efficacy


def _affine_sample(**kw):
    rng = np.random.default_rng(4)
    v, w = rng.standard_normal(5), rng.standard_normal(5)
    sample = sample_efficacy(lambda X: X @ w + 0.5, v, w, 0.2, **kw)
    return v, w, sample


def test_sample_efficacy_default_draws_a_thousand_perturbations():
    """n defaults to 1000: leaving it out gives the sample drawn with n=1000 (and not n=1001)."""
    _, _, default = _affine_sample()
    _, _, explicit = _affine_sample(n=1000)
    _, _, other = _affine_sample(n=1001)
    assert default.n == explicit.n == 1000 and other.n == 1001
    np.testing.assert_array_equal(default.ratios, explicit.ratios)
    assert default.slope == explicit.slope


def test_sample_efficacy_ratios_of_an_affine_score():
    """For s(x) = w.x + b: R = (s(v + u) - s(0)) / (s(v) - s(0)) = 1 + w.u / w.v, and since u is
    orthogonal to v with |u| = rho |v|, |R - 1| <= rho |v| |P_perp w| / |w.v|."""
    v, w, sample = _affine_sample(n=200, seed=2)
    wv = float(w @ v)
    perp = w - (w @ v) / (v @ v) * v
    bound = 0.2 * np.linalg.norm(v) * np.linalg.norm(perp) / abs(wv)
    dev = np.abs(sample.ratios - 1)
    assert dev.max() <= bound * (1 + 1e-9)
    assert dev.max() > 0.5 * bound  # 200 draws on the sphere reach near the extreme


# ---------------------------------------------------------------------------------------------
# theory.gaussianity


def _reference_kind(y, level, max_skew, max_kurt):
    n = y.size
    se1 = math.sqrt(6.0 * (n - 2) / ((n + 1) * (n + 3)))
    se2 = math.sqrt(24.0 * n * (n - 2) * (n - 3) / ((n + 1) ** 2 * (n + 3) * (n + 5)))
    z = scipy.stats.norm.ppf(1 - level)
    g1, g2 = scipy.stats.skew(y), scipy.stats.kurtosis(y)
    if scipy.stats.normaltest(y).pvalue < level:
        return "non-gaussian"
    if abs(g1) + z * se1 <= max_skew and abs(g2) + z * se2 <= max_kurt:
        return "gaussian"
    return "inconclusive"


def _columns(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    return np.column_stack(
        [
            rng.standard_normal(n),
            rng.laplace(size=n),
            rng.standard_normal(n) + 0.12 * rng.standard_normal(n) ** 2,  # mild skew
            rng.uniform(-1, 1, n),
            rng.standard_t(12, n),  # mild excess kurtosis
        ]
    )


@pytest.mark.parametrize("seed", range(4))
def test_gaussianity_classification_matches_the_documented_rule_at_default_thresholds(seed):
    """Each column's kind is: non-Gaussian iff K^2's p < alpha/k; else Gaussian iff
    |g1| + z se1 <= 0.25 and |g2| + z se2 <= 0.5 (z = Phi^-1(1 - alpha/k), alpha = 0.01)."""
    Y = _columns(seed)
    report = gaussianity(Y)
    level = 0.01 / Y.shape[1]
    assert report.level == pytest.approx(level, rel=1e-15)
    assert [c.kind for c in report.components] == [
        _reference_kind(Y[:, j], level, 0.25, 0.5) for j in range(Y.shape[1])
    ]


def test_gaussianity_defaults_are_the_documented_values():
    """alpha 0.01, max_skew 0.25, max_excess_kurtosis 0.5: leaving them out is passing them; each
    neighbouring value gives another report."""
    Y = _columns(0)
    default = gaussianity(Y)
    assert default.alpha == 0.01 and default.max_skew == 0.25
    assert default.max_excess_kurtosis == 0.5
    assert default == gaussianity(Y, alpha=0.01, max_skew=0.25, max_excess_kurtosis=0.5)
    for kw in ({"alpha": 0.02}, {"max_skew": 0.5}, {"max_excess_kurtosis": 1.0}):
        assert default != gaussianity(Y, **kw)


def test_gaussianity_skew_band_edge_decides_gaussian():
    """A column that is not rejected, with kurtosis bound inside 0.5 and skew bound b1 in
    (0.25, 0.5], is inconclusive at the default max_skew 0.25 but Gaussian at max_skew b1."""
    x = np.random.default_rng(11).standard_normal(2000)
    for c in np.linspace(0.0, 0.1, 101):  # y = x + c x^2: skew grows with c
        y = x + c * x**2
        comp = gaussianity(y[:, None], max_excess_kurtosis=10.0).components[0]
        if comp.kind != "non-gaussian" and 0.25 < comp.skew_bound <= 0.5:
            break
    else:  # pragma: no cover
        pytest.fail("no column in the skew band edge")
    assert comp.kurtosis_bound <= 0.5
    assert gaussianity(y[:, None]).components[0].kind == "inconclusive"
    assert gaussianity(y[:, None], max_skew=comp.skew_bound).components[0].kind == "gaussian"


# ---------------------------------------------------------------------------------------------
# theory.independence_twin.check_t8_twin

TWIN_LAWS = ("laplace", "gaussian", "gaussian")
TWIN_A = random_mixing(3, 3, seed=1)
ICA_SIZES = (200, 240)


def _twin(**kw):
    inner = source_sampler(TWIN_LAWS)
    calls = []

    def sampler(n, rng):
        calls.append(int(n))
        return inner(n, rng)

    cert = check_t8_twin(
        TWIN_A,
        gaussian_mask(TWIN_LAWS),
        sampler,
        n_samples=300,
        ica_sizes=np.array(ICA_SIZES),
        **kw,
    )
    return cert, calls


def test_twin_ica_medians_are_over_seven_default_seeds():
    """ica_seeds defaults to range(7): seven ICA fits per size (the sampler is called 7 times at
    each ICA size, besides the two samples of the two-sample test), and the certificate equals
    the one with range(7) passed explicitly (range(8) gives another)."""
    default, calls = _twin()
    assert calls.count(300) == 2
    for n in ICA_SIZES:
        assert calls.count(n) == 7
    explicit, _ = _twin(ica_seeds=range(7))
    assert default == explicit
    np.testing.assert_array_equal(
        default.witness["gaussian_block_amari"], explicit.witness["gaussian_block_amari"]
    )
    other, other_calls = _twin(ica_seeds=range(8))
    assert other_calls.count(ICA_SIZES[0]) == 8
    assert not np.array_equal(
        default.witness["gaussian_block_amari"], other.witness["gaussian_block_amari"]
    )
