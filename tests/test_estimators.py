"""The practitioners' estimators: what each computes, their sign convention, pca_center = pca_diff,
and each estimate's T4 class d - rank(centred activations), in both directions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.estimation import probe_scores
from theory.estimators import ESTIMATORS, estimate, estimate_all
from theory.validation import InputError


@st.composite
def pairs_of_rank(draw):
    """Paired activations h+, h- (N, d) whose stacked rows lie in a random affine subspace of
    dimension r (so the centred stack has rank r), with a contrast along a direction inside it."""
    d = draw(st.integers(3, 10))
    r = draw(st.integers(1, d))
    n = draw(st.integers(max(r + 1, 3), 16))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, r)))[0]  # (d, r) orthonormal
    offset = rng.standard_normal(d)
    coef_p = rng.standard_normal((n, r))
    coef_m = coef_p - 1.5 - 0.3 * rng.standard_normal((n, r))  # h+ - h- along the subspace
    hp = offset + coef_p @ basis.T
    hm = offset + coef_m @ basis.T
    return hp, hm, r, basis


@settings(max_examples=40, deadline=None)  # the first example imports scikit-learn (about 1 s)
@given(pairs_of_rank())
def test_estimates_and_their_classes(data):
    hp, hm, r, basis = data
    d = hp.shape[1]
    D = hp - hm
    est = estimate_all(hp, hm)
    assert np.allclose(est["caa"].vector, D.mean(0), atol=1e-12)
    for m in ESTIMATORS:
        e = est[m]
        assert np.mean(D @ e.vector) > 0  # sign by the mean projection
        assert e.certified and e.rank == r and e.class_dim == d - r  # T4: d - rank(H_c)
    # pca_center's rows are +-D_i/2: the same top singular direction as pca_diff
    cos = est["pca_center"].vector @ est["pca_diff"].vector
    assert cos == pytest.approx(1.0, abs=1e-9)
    u = est["pca_diff"].vector
    assert np.linalg.norm(u) == pytest.approx(1.0)
    s = np.linalg.svd(D, compute_uv=False)
    assert np.linalg.norm(D @ u) == pytest.approx(s[0], rel=1e-9)  # it maximises |D u|


@settings(max_examples=25)
@given(pairs_of_rank())
def test_directions_off_the_data_are_invisible_to_the_probe(data):
    """T4 in the other direction: a unit u orthogonal to the data's span changes no probe score
    (up to the bias), so v and v + u fit the data alike; a u inside the span does change them."""
    hp, hm, r, basis = data
    d = hp.shape[1]
    X = np.vstack([hp, hm])
    v = estimate("probe", hp, hm).vector
    if r < d:
        q = np.linalg.qr(np.hstack([basis, np.eye(d)]))[0][:, r]  # orthogonal to the span
        shift = probe_scores(X, v + q) - probe_scores(X, v)
        assert np.ptp(shift) < 1e-10
    inside = basis[:, 0]
    assert np.ptp(probe_scores(X, v + inside) - probe_scores(X, v)) > 1e-6


def test_bad_pairs_are_rejected():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((5, 4))
    with pytest.raises(InputError, match="same shape"):
        estimate("caa", h, h[:4])
    with pytest.raises(InputError, match="no contrast"):
        estimate("pca_diff", h, h)
    with pytest.raises(InputError, match="at least 2"):
        estimate("caa", h[:1], h[:1] + 1)
    with pytest.raises(InputError, match="method"):
        estimate("mean", h, h + 1)
    with pytest.raises(InputError):
        estimate("caa", np.full((3, 2), np.nan), np.zeros((3, 2)))
