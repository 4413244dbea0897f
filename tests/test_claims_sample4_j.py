"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 4, J):

- rank decision of an empty spectrum: s_1 = 0, so the default tau = max(M, d) eps s_1 is 0 and
  any scale >= 0 is at least s_1 (accepted), the rank is 0;
- ``scale`` below s_1 is refused beyond a relative round-off slack of 1e-12, accepted within it;
- ``rotated_twin`` / ``gaussian_block_rotation`` rotate by the documented default angle pi / 4;
- ``TwinCheck.ok`` iff residuals <= tol and Amari > min (edges included); ``margin >= 1`` iff ok
  (off the strict Amari edge);
- a float matrix of full column rank p has spark p + 1, decided (value = lower = upper = p + 1);
- ``as_sample_size`` admits n * width up to MAX_DRAWN_FLOATS = 2^27 (1 GiB) and refuses one more;
- ``as_seed`` accepts exactly the ints in [0, 2^32 - 1].
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.rank import decide_rank_from_singular_values, default_tolerance
from theory.rotations import (
    TWIN_MIN_AMARI,
    TWIN_RESIDUAL_TOL,
    TwinCheck,
    gaussian_block_rotation,
    plane_rotation,
    rotated_twin,
)
from theory.spark import spark
from theory.validation import MAX_DRAWN_FLOATS, SEED_MAX, InputError, as_sample_size, as_seed


@pytest.mark.parametrize("shape", [(3, 0), (0, 4), (0, 0)])
def test_empty_spectrum_has_zero_top_singular_value(shape):
    d = decide_rank_from_singular_values([], shape)
    assert d.rank == 0
    assert d.tolerance == default_tolerance(shape, 0.0) == 0.0
    # any non-negative scale is at least s_1 = 0
    for scale in (0.0, 0.5, 2.0):
        d = decide_rank_from_singular_values([], shape, scale=scale)
        assert d.rank == 0
        assert d.tolerance == default_tolerance(shape, scale)


def test_scale_below_top_singular_value_refused_beyond_round_off():
    s = np.array([3.0, 1.0, 1e-3])
    s1 = float(s[0])
    with pytest.raises(InputError):
        decide_rank_from_singular_values(s, (5, 3), scale=s1 * (1 - 1.5e-12))
    with pytest.raises(InputError):
        decide_rank_from_singular_values(s, (5, 3), scale=0.5 * s1)
    for scale in (s1 * (1 - 0.5e-12), s1, 2 * s1):
        d = decide_rank_from_singular_values(s, (5, 3), scale=scale)
        assert d.tolerance == default_tolerance((5, 3), scale)
        assert d.rank == 3


def test_default_rotation_angle_is_quarter_turn():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 4))
    gaussian = [False, True, True, False]
    B, R = rotated_twin(A, gaussian)
    B4, R4 = rotated_twin(A, gaussian, angle=math.pi / 4)
    np.testing.assert_array_equal(R, R4)
    np.testing.assert_array_equal(B, B4)
    np.testing.assert_array_equal(R, gaussian_block_rotation(gaussian))
    np.testing.assert_array_equal(R[np.ix_([1, 2], [1, 2])], plane_rotation(math.pi / 4))
    # a quarter turn: |cos| = |sin| = 1/sqrt 2 on the Gaussian plane
    np.testing.assert_allclose(np.abs(R[np.ix_([1, 2], [1, 2])]), np.full((2, 2), 0.5**0.5))
    # and it differs from a neighbouring angle
    assert not np.allclose(R, rotated_twin(A, gaussian, angle=math.pi / 5)[1])


@pytest.mark.parametrize(
    "cov, block, amari",
    [
        (TWIN_RESIDUAL_TOL, 0.0, 1.0),
        (0.0, TWIN_RESIDUAL_TOL, 1.0),
        (TWIN_RESIDUAL_TOL, TWIN_RESIDUAL_TOL, 1.0),
        (2 * TWIN_RESIDUAL_TOL, 0.0, 1.0),
        (0.0, 2 * TWIN_RESIDUAL_TOL, 1.0),
        (0.0, 0.0, TWIN_MIN_AMARI),
        (0.0, 0.0, 2 * TWIN_MIN_AMARI),
        (0.5 * TWIN_RESIDUAL_TOL, 0.5 * TWIN_RESIDUAL_TOL, 2 * TWIN_MIN_AMARI),
    ],
)
def test_twin_check_ok_iff_margin_at_least_one(cov, block, amari):
    t = TwinCheck(covariance_residual=cov, block_residual=block, amari=amari)
    gates = cov <= TWIN_RESIDUAL_TOL and block <= TWIN_RESIDUAL_TOL and amari > TWIN_MIN_AMARI
    assert t.ok == gates
    if amari != TWIN_MIN_AMARI:  # the Amari gate is strict: its edge is margin 1 yet a failure
        assert t.ok == (t.margin >= 1)
    assert (t.failure == "") == t.ok


@pytest.mark.parametrize("shape", [(3, 1), (4, 3), (6, 4)])
def test_full_column_rank_float_matrix_has_spark_p_plus_one(shape):
    rng = np.random.default_rng(sum(shape))
    A = rng.standard_normal(shape)
    p = shape[1]
    r = spark(A)
    assert r.value == r.lower == r.upper == p + 1
    assert r.subset is None and r.null_vector is None


@pytest.mark.parametrize("width", [1, 2, 8])
def test_sample_size_cap_is_one_gibibyte(width):
    assert MAX_DRAWN_FLOATS == 2**27
    assert MAX_DRAWN_FLOATS * 8 == 2**30
    n = MAX_DRAWN_FLOATS // width
    assert as_sample_size("n", n, width) == n
    with pytest.raises(InputError):
        as_sample_size("n", n + 1, width)


def test_seed_range_is_uint32():
    assert SEED_MAX == 2**32 - 1
    for seed in (0, 1, 2**32 - 1):
        assert as_seed("seed", seed) == seed
        np.random.default_rng(seed)  # numpy accepts every admitted seed
    for bad in (-1, 2**32, 3**32 - 1):
        with pytest.raises(InputError):
            as_seed("seed", bad)
