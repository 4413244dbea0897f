"""T8's synthetic sources: every law has mean 0, variance 1 and its stated exact excess kurtosis;
sampling is seeded; random mixing matrices have full column rank and the stated condition
number; bad input is rejected naming the argument."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synthetic.sources import LAWS, gaussian_mask, mix, random_mixing, sample_sources
from theory.mixing import MIN_SAMPLES


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
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(
        sample_sources(["uniform"], 300, rng_a), sample_sources(["uniform"], 300, rng_b)
    )


@given(st.integers(1, 6), st.integers(0, 2), st.floats(1.0, 50.0), st.integers(0, 2**32 - 1))
def test_random_mixing_has_full_column_rank_and_the_stated_condition(k, extra, cond, seed):
    A = random_mixing(k + extra, k, seed, max_condition=cond)
    s = np.linalg.svd(A, compute_uv=False)
    assert A.shape == (k + extra, k)
    assert s[-1] > 0
    if k >= 2:
        assert s[0] / s[-1] == pytest.approx(cond, rel=1e-9)


def test_mix_is_h_equals_a_s():
    A = random_mixing(4, 3, seed=1)
    D = mix(A, ("laplace", "gaussian", "uniform"), 500, seed=2)
    np.testing.assert_array_equal(D.H, D.S @ A.T)
    np.testing.assert_array_equal(D.gaussian, [False, True, False])


def test_bad_source_input_is_rejected():
    with pytest.raises(ValueError, match="n_samples"):
        sample_sources(["laplace"], MIN_SAMPLES - 1)
    with pytest.raises(ValueError, match="n_samples"):
        sample_sources(["laplace"], float(MIN_SAMPLES))
    with pytest.raises(ValueError, match="laws"):
        sample_sources(["laplace", "cauchy"], 400)
    with pytest.raises(ValueError, match="laws"):
        gaussian_mask("gaussian")
    with pytest.raises(ValueError, match="laws"):
        mix(np.eye(2), [], 400)
    with pytest.raises(ValueError, match="seed"):
        sample_sources(["laplace"], 400, seed=-1)
    with pytest.raises(ValueError, match="seed"):
        sample_sources(["laplace"], 400, seed=True)
    for bad in (0, True, 2.0):
        with pytest.raises(ValueError, match="^d must be an int"):
            random_mixing(bad, 1)
    with pytest.raises(ValueError, match="d must be at least k"):
        random_mixing(2, 3)
    with pytest.raises(ValueError, match="max_condition"):
        random_mixing(3, 3, max_condition=0.5)
    with pytest.raises(ValueError, match="max_condition"):
        random_mixing(3, 3, max_condition=math.nan)


def test_rank_deficient_or_wrong_shape_mixing_is_rejected():
    A = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])  # rank 2 < 3 columns
    with pytest.raises(ValueError, match="A must have full column rank"):
        mix(A, ("laplace", "uniform", "bimodal"), 400)
    with pytest.raises(ValueError, match="A"):
        mix(np.ones((2, 3)), ("laplace", "uniform", "bimodal"), 400)  # d < k
    with pytest.raises(ValueError, match="A"):
        mix(np.eye(3), ("laplace", "uniform"), 400)  # one column per law
    bad = np.eye(3)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="A"):
        mix(bad, ("laplace", "uniform", "bimodal"), 400)
