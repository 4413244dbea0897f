"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 7, U):

- T4: when a step of length |w| (1 when w = 0) inside S changes the scores by no more than their
  evaluation round-off (a huge bias swamps it), nothing is shown: the verdict is undecided, with
  or without a drawn member; with a visible step the same data hold;
- estimators: a direction whose differences have zero mean projection has no sign: InputError;
  a mean projection of exactly +-1 is a valid sign (the estimate is oriented, never refused);
- estimators: ``pca`` is the top principal axis of the differences with their mean removed
  (the top eigenvector of their covariance), oriented so the mean projection is positive.
"""

from __future__ import annotations

import numpy as np
import pytest

from theory.certificate import Verdict
from theory.estimation import check_t4
from theory.estimators import estimate
from theory.validation import InputError

# ---------------------------------------------------------------------------------------------
# T4: an invisible step inside S shows nothing


def _rank_deficient_activations(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 5))  # centred rank 2 in d = 5: class dimension 3


@pytest.mark.parametrize("w_norm", [0.0, 0.5, 1.0])
def test_t4_step_swamped_by_round_off_is_undecided(w_norm):
    """A bias of 1e13 makes the score round-off (1e3 eps |scores|) exceed the change a unit-ish
    step inside S makes: the docstring's 'else undecided: nothing is shown'."""
    H = _rank_deficient_activations(1)
    rng = np.random.default_rng(2)
    w = rng.standard_normal(5)
    w = w_norm * w / np.linalg.norm(w)
    cert = check_t4(H, w, b=1e13, seed=3)
    assert cert.verdict == Verdict.UNDECIDED
    assert cert.margin < 1
    # the same data with no bias: the step inside S is visible and T4 holds
    ok = check_t4(H, w, b=0.0, seed=3)
    assert ok.verdict == Verdict.HOLDS


def test_t4_swamped_step_with_claimed_member_is_undecided():
    """A claimed member w + u (u in ker H_c) at distance 1: same scores, but a step of length 1
    inside S is below round-off under a huge bias, so T4 is not shown."""
    H = _rank_deficient_activations(4)
    Hc = H - H.mean(axis=0)
    null = np.linalg.svd(Hc)[2][2:].T  # orthonormal basis of ker(H_c)
    u = null[:, 0]
    w = np.zeros(5)
    cert = check_t4(H, w, b=1e13, member=w + u)
    assert cert.verdict == Verdict.UNDECIDED
    assert check_t4(H, w, b=0.0, member=w + u).verdict == Verdict.HOLDS


# ---------------------------------------------------------------------------------------------
# estimators: the sign of a direction


@pytest.mark.parametrize("method", ["pca", "pca_diff", "pca_center"])
def test_zero_mean_projection_has_no_sign(method):
    """Differences +-e1: every principal direction is +-e1 and the mean projection is exactly 0."""
    hp = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    hm = np.zeros((2, 3))
    with pytest.raises(InputError, match="zero mean projection"):
        estimate(method, hp, hm)


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("first", [True, False])
def test_mean_projection_of_one_is_a_valid_sign(sign, first):
    """Differences 2 s e1 and 0 (s = +-1, either order): pca_diff's axis is e1 up to sign, the
    mean projection is exactly +-1, and the oriented estimate is s e1 with mean projection
    exactly 1 (a positive sign, not 'no sign')."""
    hm = np.array([[0.0, 1.0], [0.0, 2.0]])
    rows = [[2.0 * sign, 0.0], [0.0, 0.0]]
    hp = hm + np.array(rows if first else rows[::-1])
    est = estimate("pca_diff", hp, hm)
    np.testing.assert_array_equal(est.vector, [sign, 0.0])
    assert np.mean((hp - hm) @ est.vector) == 1.0


# ---------------------------------------------------------------------------------------------
# estimators: pca centres the differences


def test_pca_is_top_axis_of_centred_differences():
    """The top eigenvector of the covariance of D (mean removed), sign by positive mean
    projection; the mean is large and off that axis so an uncentred fit would differ."""
    rng = np.random.default_rng(11)
    n, d = 40, 4
    axis = np.array([1.0, 0.0, 0.0, 0.0])
    D = 3.0 * rng.standard_normal((n, 1)) * axis + 0.1 * rng.standard_normal((n, d))
    D += np.array([0.0, 5.0, 0.0, 0.0])  # mean along e2, spread along e1
    D[:, 0] += 0.5  # a positive mean projection on the principal axis
    hm = rng.standard_normal((n, d))
    hp = hm + D
    est = estimate("pca", hp, hm)
    cov = np.cov((hp - hm).T)
    top = np.linalg.eigh(cov)[1][:, -1]
    assert abs(float(top @ est.vector)) == pytest.approx(1.0, abs=1e-10)
    assert np.linalg.norm(est.vector) == pytest.approx(1.0, abs=1e-12)
    assert np.mean((hp - hm) @ est.vector) > 0
