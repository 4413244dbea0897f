"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 6, S):

- phase transition: m = round(delta p) rows (rounded half up) is valid down to m = 1; only m = 0
  is refused with an InputError;
- [1_V in range W] is invariant under W -> c W (c > 0), at any float scale, and 1 is never in the
  range of W = 0; the appended ones column has norm |W|_2, so |[W, 1]|_2 is in [|W|_2, sqrt2 |W|_2];
- ones_direction(W) is the unit vector along W^+ 1_V at every scale of W, and the zero vector
  (not NaN) when W^+ 1_V = 0 (W = 0);
- T2c: the class dimension is d - rank W + [1 in range W] on either side of the round-off floor
  of the centred readout, and undecided (margin < 1) where that rank is in the grey band;
- T7: A with full column rank is injective: holds with details unique = injective = True.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

from theory.certificate import Verdict
from theory.phase_transition import phase_transition
from theory.rank import EPS, decide_rank
from theory.softmax_shift import (
    check_t2c,
    ones_direction,
    ones_in_range,
    ones_in_range_decisions,
)
from theory.spark_twins import unique_recovery_certificate
from theory.validation import InputError

# ---------------------------------------------------------------------------------------------
# phase transition: the smallest valid number of rows


@pytest.mark.parametrize(("p", "delta"), [(4, 0.25), (4, 0.125), (2, 0.5)])
def test_phase_transition_accepts_a_single_row(p, delta):
    """delta p rounds half up to m = 1 (one measurement row): a valid grid cell, k = round(rho m)
    = 1 nonzero, and its success rate is a fraction of the trials."""
    res = phase_transition(p, [delta], [1.0], trials=2, seed=3)
    assert res.m_rows.tolist() == [1]
    assert res.k.tolist() == [[1]]
    assert res.success.shape == (1, 1)
    assert res.success[0, 0] in (0.0, 0.5, 1.0)


def test_phase_transition_refuses_zero_rows():
    """delta p = 0.4 rounds to m = 0 rows: nothing to measure with: an InputError on deltas."""
    with pytest.raises(InputError, match="deltas"):
        phase_transition(4, [0.1], [1.0], trials=1)


# ---------------------------------------------------------------------------------------------
# [1_V in range W] and the direction W^+ 1_V


def _in_range_and_outside(seed: int):
    """(W with 1_V in its range, W without): V = 6 rows, d = 3 columns, generic otherwise."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((6, 3))
    inside = B.copy()
    inside[:, 0] = 1.0 + B[:, 1] - 2.0 * B[:, 2]  # 1 = col0 - col1 + 2 col2
    return inside, B


@pytest.mark.parametrize("scale", [1e-20, 1e-8, 1.0, 1e8, 1e20])
@pytest.mark.parametrize("seed", [0, 1])
def test_ones_in_range_is_scale_invariant(scale, seed):
    """range(c W) = range(W) for c > 0: the decision and its certification do not depend on the
    units of W."""
    inside, outside = _in_range_and_outside(seed)
    assert ones_in_range(scale * inside) == (True, True)
    assert ones_in_range(scale * outside) == (False, True)


@pytest.mark.parametrize("scale", [1e-20, 1.0, 1e20])
def test_ones_column_is_scaled_to_the_norm_of_w(scale):
    """[W, x] with |x| = |W|_2 has |[W, x]|_2 in [|W|_2, sqrt2 |W|_2]: the two spectra share a
    scale, so [W, 1]'s rank decision is taken at W's scale."""
    _, W = _in_range_and_outside(2)
    W = scale * W
    _, a, b = ones_in_range_decisions(W)
    s_w = float(np.linalg.norm(W, 2))
    assert a.singular_values[0] == pytest.approx(s_w, rel=1e-12)
    assert s_w * (1 - 1e-12) <= b.singular_values[0] <= math.sqrt(2) * s_w * (1 + 1e-12)
    assert b.rank == a.rank + 1  # 1 is not in the range of this W


def test_ones_not_in_range_of_zero_matrix():
    """range(0) = {0} does not contain 1_V != 0."""
    assert ones_in_range(np.zeros((4, 2)))[0] is False
    assert ones_in_range_decisions(np.zeros((4, 2)))[0] is False


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ones_direction_is_the_unit_vector_along_pinv_w_ones(scale, seed):
    """ones_direction(W) = W^+ 1 / |W^+ 1| whatever |W^+ 1| is (here ~1/scale)."""
    rng = np.random.default_rng(seed)
    W = scale * rng.standard_normal((5, 3))
    W[:, 0] += scale  # 1 has a component in range(W), so W^+ 1 != 0
    ref = np.linalg.pinv(W) @ np.ones(5)
    ref /= np.linalg.norm(ref)
    u = ones_direction(W, decide_rank(W))
    assert np.linalg.norm(u) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(u, ref, atol=1e-10)


def test_ones_direction_of_zero_matrix_is_zero():
    """W = 0 has W^+ 1 = 0, which has no direction: the zero vector comes back, finite."""
    W = np.zeros((3, 2))
    with np.errstate(all="raise"):
        u = ones_direction(W, decide_rank(W))
    assert np.all(np.isfinite(u))
    np.testing.assert_array_equal(u, np.zeros(2))


# ---------------------------------------------------------------------------------------------
# T2c: the dimension formula is a gate


@pytest.mark.parametrize(
    ("c", "verdict", "dim"),
    [(0.0, Verdict.HOLDS, 1), (0.5, Verdict.HOLDS, 1), (1.5, Verdict.UNDECIDED, None),
     (1e3, Verdict.UNDECIDED, None), (1e8, Verdict.HOLDS, 0)],
)  # fmt: skip
def test_t2c_dimension_follows_the_formula_or_is_undecided(c, verdict, dim):
    """W = 1_V / 2 + c V eps f (V = 4, f unit, f perp 1): below the round-off floor (c <= 1/2) P W
    is 0, 1 lies in range W and dim = 1 - 1 + 1 = 1; far above it (c = 1e8) 1 is not in range W and
    dim = 1 - 1 + 0 = 0; in between the centred rank is in the grey band: undecided, never a
    dimension off d - rank W + [1 in range W]."""
    V = 4
    e = np.ones(V) / 2.0
    f = np.array([1.0, -1.0, 0.0, 0.0]) / math.sqrt(2.0)
    W = (e + c * V * EPS * f).reshape(V, 1)
    cert = check_t2c(W, np.zeros(1), np.zeros((2, 1)))
    assert cert.verdict is verdict, cert.reason
    if verdict is Verdict.HOLDS:
        assert cert.dim == dim == cert.details["predicted_dim"]
        assert dim == 1 - cert.details["rank_W"] + int(cert.details["ones_in_range_W"])
    else:
        assert cert.margin < 1


# ---------------------------------------------------------------------------------------------
# T7: full column rank means injective


@pytest.mark.parametrize("exact", [False, True])
def test_t7_full_column_rank_is_reported_injective(exact):
    """A (5 x 3) with full column rank: A a = A a' forces a = a', so every code is unique, even
    for k = 2 where 2k > p; details say unique and injective, margin infinite in exact mode."""
    if exact:
        A = sympy.Matrix([[1, 0, 2], [0, 1, 3], [1, 1, 0], [2, 0, 1], [0, 3, 1]])
    else:
        A = np.random.default_rng(4).standard_normal((5, 3))
    cert = unique_recovery_certificate(A, 2)
    assert cert.verdict is Verdict.HOLDS
    assert cert.details["unique"] is True
    assert cert.details["injective"] is True
    if exact:
        assert cert.margin == math.inf
    else:
        assert cert.margin >= 1


def test_t7_wide_matrix_is_not_reported_injective():
    """A (3 x 5) has a kernel: unique 1-sparse codes (spark > 2) but A itself is not injective."""
    A = np.random.default_rng(4).standard_normal((3, 5))
    cert = unique_recovery_certificate(A, 1)
    assert cert.verdict is Verdict.HOLDS
    assert cert.details["unique"] is True
    assert cert.details.get("injective", False) is False
