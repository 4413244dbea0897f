"""T4: a probe direction is identified only modulo S^perp (S = span of centred activations):
scores are unchanged across w + ker(H_c) with the bias moved; dim = d - rank Cov(H)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.certificate import Verdict
from theory.estimation import check_t4, equivalent_probe, probe_class, probe_scores


@st.composite
def activations(draw):
    """N activations in R^d lying on an affine subspace of dimension r (so rank Cov(H) = r)."""
    d = draw(st.integers(1, 8))
    r = draw(st.integers(0, d))
    n = draw(st.integers(max(2, r + 1), r + 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
    coords = rng.standard_normal((n, r)) * draw(st.floats(0.5, 5.0))
    offset = rng.standard_normal(d) * draw(st.floats(0.0, 10.0))
    H = coords @ basis[:, :r].T + offset
    return H, r, basis[:, r:]


@given(activations(), st.integers(0, 2**32 - 1))
def test_scores_unchanged_across_the_class_and_dimension(data, seed):
    H, r, perp = data
    d = H.shape[1]
    rng = np.random.default_rng(seed)
    w, b = rng.standard_normal(d), float(rng.standard_normal())
    cls = probe_class(H, w)
    assert cls.dim == d - r == d - np.linalg.matrix_rank(np.atleast_2d(np.cov(H.T)), tol=1e-9)
    u = perp @ rng.standard_normal(perp.shape[1]) * 4
    w2, b2 = equivalent_probe(H, w, b, u)
    scale = max(1.0, np.abs(probe_scores(H, w, b)).max())
    assert np.allclose(probe_scores(H, w2, b2), probe_scores(H, w, b), atol=1e-11 * scale)
    assert cls.contains(w2)


@given(activations(), st.integers(0, 2**32 - 1))
def test_a_direction_inside_S_changes_the_scores(data, seed):
    H, r, perp = data
    if r == 0:
        return
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(H.shape[1])
    Hc = H - H.mean(axis=0)
    u = Hc.T @ rng.standard_normal(H.shape[0])  # in S
    u = u / np.linalg.norm(u)
    w2, b2 = equivalent_probe(H, w, 0.0, u)
    assert np.linalg.norm(probe_scores(H, w2, b2) - probe_scores(H, w, 0.0)) > 1e-3
    assert not probe_class(H, w).contains(w2)


@given(activations(), st.integers(0, 2**32 - 1))
def test_check_t4_holds(data, seed):
    H, r, _ = data
    w = np.random.default_rng(seed).standard_normal(H.shape[1])
    cert = check_t4(H, w, b=0.5, seed=seed)
    assert cert.verdict is Verdict.HOLDS and cert.dim == H.shape[1] - r and cert.margin >= 1
    assert cert.residual <= cert.residual_tolerance and cert.d == H.shape[1]


@given(activations(), st.integers(0, 2**32 - 1))
def test_check_t4_rejects_a_planted_member_that_moves_inside_S(data, seed):
    """The claimed member is re-scored: one moved along S (not S^perp) changes the scores even
    with the bias moved, and the verdict is violated; one moved along S^perp is accepted."""
    H, r, perp = data
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(H.shape[1])
    if r:
        Hc = H - H.mean(axis=0)
        u = Hc.T @ rng.standard_normal(H.shape[0])
        bad = check_t4(H, w, b=0.5, member=w + u / np.linalg.norm(u))
        assert bad.verdict is Verdict.VIOLATED and "scores unchanged" in bad.reason
    if perp.shape[1]:
        good = check_t4(H, w, b=0.5, member=w + perp @ rng.standard_normal(perp.shape[1]))
        assert good.verdict is Verdict.HOLDS


def test_single_activation_is_rejected():
    with pytest.raises(ValueError, match="H must have at least 2 rows"):
        probe_class(np.ones((1, 3)), np.ones(3))
