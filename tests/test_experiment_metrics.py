"""The paper's metrics against their definitions (docs/theorems.md, the paper's experiments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs_check.experiments.metrics import (
    cohens_d,
    effective_rank,
    efficacy_ratio,
    js_divergence,
    logit_distances,
    pearson_r,
)
from theory.validation import InputError

samples = st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=40)


@settings(max_examples=60)
@given(samples, samples, st.floats(0.1, 10), st.floats(-3, 3))
def test_cohens_d_is_the_pooled_population_formula_and_affine_invariant(a, b, scale, shift):
    a, b = np.asarray(a), np.asarray(b)
    pooled = math.sqrt((np.var(a) + np.var(b)) / 2)
    d = cohens_d(a, b)
    if pooled > 1e-6:
        assert d == pytest.approx(abs(a.mean() - b.mean()) / pooled, rel=1e-9)
        assert cohens_d(scale * a + shift, scale * b + shift) == pytest.approx(d, rel=1e-6)
        assert cohens_d(b, a) == pytest.approx(d, rel=1e-12)


def test_cohens_d_of_constant_samples():
    assert cohens_d([1, 1], [1, 1]) == 0.0
    assert cohens_d([1, 1], [2, 2]) == math.inf


@settings(max_examples=40)
@given(st.integers(3, 30), st.integers(0, 2**31 - 1), st.floats(-2, 2))
def test_pearson_r_of_a_linear_relation(n, seed, slope):
    a = np.random.default_rng(seed).standard_normal(n)
    if abs(slope) > 1e-3:
        assert pearson_r(a, slope * a + 1) == pytest.approx(np.sign(slope), abs=1e-9)
    assert pearson_r(a, np.full(n, 2.0)) != pearson_r(a, np.full(n, 2.0))  # NaN for a constant


@settings(max_examples=40)
@given(samples, samples)
def test_js_divergence_is_bounded_symmetric_and_zero_on_itself(a, b):
    js = js_divergence(a, b)
    assert 0.0 <= js <= 1.0 + 1e-12
    assert js == pytest.approx(js_divergence(b, a), abs=1e-12)
    assert js_divergence(a, a) == pytest.approx(0.0, abs=1e-12)


def test_js_divergence_of_disjoint_histograms_is_one():
    assert js_divergence([0, 0.1], [5, 5.1]) == pytest.approx(1.0)


def test_efficacy_ratio_and_effective_rank():
    assert efficacy_ratio([2, 4], [4, 6], 1.0) == pytest.approx(2.0 / 4.0)
    assert math.isnan(efficacy_ratio([2], [1], 1.0))
    assert effective_rank([1.0, 0.2, 0.05, 0.049]) == 2  # strictly above 5% of the largest
    assert effective_rank([]) == 0


def test_logit_distances():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, 20))
    same = logit_distances(z, z)
    assert same == {"l2": 0.0, "top1_agreement": 1.0, "top10_overlap": 1.0}
    flipped = logit_distances(-z, z)
    assert flipped["top1_agreement"] == 0.0 and flipped["top10_overlap"] == 0.0
    assert flipped["l2"] == pytest.approx(np.mean(np.linalg.norm(2 * z, axis=1)))
    with pytest.raises(InputError):
        logit_distances(z, z[:2])
    with pytest.raises(InputError):
        cohens_d([1.0], [2.0, 3.0])
