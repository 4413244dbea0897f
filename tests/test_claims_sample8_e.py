"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 8, E):

- rank: when the column-equilibrated decision disagrees with the normwise one, the values listed
  as ambiguous are exactly the singular values between the two cut points: s_{lo+1}, ..., s_{hi}
  for ranks lo < hi (one value when the ranks differ by one), never a value below both cuts;
- T2c: ``ones_direction`` is the unit direction of W^+ 1_V at the decision's cut-off relative to
  s_1; a decision that carries no spectrum has s_1 = 0 (the rank module's convention for an empty
  spectrum), fixes no relative cut-off, and leaves the least-squares solver's default: for an
  invertible W the direction of W^{-1} 1_V, whatever tolerance the decision carries.
"""

from __future__ import annotations

import numpy as np
import pytest

from theory.rank import check_column_scaling, decide_rank, decide_rank_from_singular_values
from theory.softmax_shift import ones_direction

# ---------------------------------------------------------------------------------------------
# rank: the ambiguous values of a column-scaling disagreement lie between the two cut points


@pytest.mark.parametrize(
    ("L", "lo", "hi", "between"),
    [
        # columns e1, 1e-17 e2, e1: s = (sqrt 2, 1e-17, 0); normwise rank 1, equilibrated rank 2
        (np.array([[1.0, 0.0, 1.0], [0.0, 1e-17, 0.0], [0.0, 0.0, 0.0]]), 1, 2, [1e-17]),
        # columns e1, 1e-17 e2, 1e-18 e3, e1: s = (sqrt 2, 1e-17, 1e-18); ranks 1 and 3
        (
            np.array(
                [[1.0, 0.0, 0.0, 1.0], [0.0, 1e-17, 0.0, 0.0], [0.0, 0.0, 1e-18, 0.0]],
            ),
            1,
            3,
            [1e-17, 1e-18],
        ),
    ],
)
def test_column_scaling_disagreement_lists_exactly_the_values_between_the_cuts(L, lo, hi, between):
    """rank(L) = rank(L D) for diagonal D: the normwise cut (3 eps s_1 ~ 1e-15) drops the tiny
    columns, the equilibrated one keeps them, so the rank is undecided and the ambiguous values
    are s_{lo+1}..s_{hi}, the ones the two cuts disagree on; a zero singular value (a repeated
    column) is dropped by both cuts and is not among them."""
    normwise = decide_rank(L)
    assert normwise.certified and normwise.rank == lo
    norms = np.linalg.norm(L, axis=0)
    assert decide_rank(L / norms).rank == hi  # independently: the equilibrated rank
    out = check_column_scaling(L, normwise)
    assert not out.certified
    assert out.rank == lo
    # the small singular values of these block-diagonal matrices are known exactly
    np.testing.assert_allclose(out.ambiguous, between, rtol=1e-9, atol=0.0)
    assert out.ambiguous.size == hi - lo


# ---------------------------------------------------------------------------------------------
# T2c: the direction of W^+ 1 when the decision carries no spectrum


@pytest.mark.parametrize("tol", [None, 0.4, 0.6])
def test_ones_direction_with_an_empty_spectrum_sets_no_cut_off(tol):
    """W = diag(1, 0.1, 2): W^{-1} 1 = (1, 10, 1/2). An empty spectrum has s_1 = 0, so no cut-off
    relative to s_1 exists and no singular value of W is dropped, even when the decision carries
    a tolerance (0.4 or 0.6) that, read relative to |W|_2 = 2, would cut 0.1 or both 0.1 and 1."""
    W = np.diag([1.0, 0.1, 2.0])
    empty = decide_rank_from_singular_values([], W.shape, tol)
    assert empty.n == 0 and empty.rank == 0
    expected = np.array([1.0, 10.0, 0.5])
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(ones_direction(W, empty), expected, rtol=1e-12, atol=1e-15)


def test_ones_direction_follows_the_cut_off_of_the_decision():
    """With W's own decision the direction is W^+ 1 at that decision's cut-off: a user tolerance
    of 0.15 (between 0.1 and 1) drops s = 0.1, leaving W^+ 1 = (1, 0, 1/2); the default
    tolerance keeps every value, giving W^{-1} 1 = (1, 10, 1/2)."""
    W = np.diag([1.0, 0.1, 2.0])
    cut = np.array([1.0, 0.0, 0.5])
    full = np.array([1.0, 10.0, 0.5])
    np.testing.assert_allclose(
        ones_direction(W, decide_rank(W, 0.15)), cut / np.linalg.norm(cut), atol=1e-15
    )
    np.testing.assert_allclose(
        ones_direction(W, decide_rank(W)), full / np.linalg.norm(full), rtol=1e-12
    )
