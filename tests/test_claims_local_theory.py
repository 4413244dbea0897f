"""Claims of the local and model-level theory (T2a/T2b norms, T3(c) first order, T3 level-set
twins, T5 efficacy, re-runs, behaviour comparisons), stated so that a wrong operator, comparison or
constant in ``theory/`` breaks one of them.

Each test states one claim from a docstring or from docs/theorems.md and checks it against an
independent computation: the moments of the T5 law, the LayerNorm / RMSNorm closed forms, the KL
ratio at the smallest step recomputed from the model, the twin's distance from its witness, the
edges of the T5 and re-run gates, the comparison rules of ``BehaviourComparison``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from proofs_check.model_checks import gate_on_rerun
from theory.certificate import Certificate, Verdict
from theory.efficacy import (
    AFFINE_TOL,
    EfficacySample,
    efficacy_law,
    sample_efficacy,
    t5_certificate,
)
from theory.first_order import fitted_slope
from theory.local import check_t3c, kl_divergences, twin_search
from theory.norm_symmetry import layernorm, rmsnorm, shift_change
from theory.residual import BehaviourComparison
from theory.validation import InputError

from .test_jacobian_engine import random_problems

# ---------------------------------------------------------------------------------------------
# T5: the efficacy law and its verdict


@settings(max_examples=20)
@given(st.integers(3, 200), st.floats(1e-3, 10.0) | st.floats(-10.0, -1e-3))
def test_efficacy_law_has_the_moments_of_one_plus_slope_times_u(d, slope):
    """R = 1 + slope U with Var U = 1/(d-1), E U = 0, |U| <= 1: E R = 1, Var R = slope^2/(d-1),
    support [1 - |slope|, 1 + |slope|]."""
    law = efficacy_law(d, slope)
    assert law.mean() == pytest.approx(1.0, abs=1e-12)
    assert law.var() == pytest.approx(slope**2 / (d - 1), rel=1e-9)
    lo, hi = law.support()
    assert lo == pytest.approx(1 - abs(slope)) and hi == pytest.approx(1 + abs(slope))


def test_efficacy_sample_ratios_are_read_only():
    """An EfficacySample is frozen: its ratios (the certificate's witness) cannot be overwritten."""
    w = np.array([1.0, 0.5, -0.3, 0.2])
    sample = sample_efficacy(lambda X: X @ w, np.array([1.0, 0.0, 0.0, 0.0]), w, 0.1, n=20)
    assert not sample.ratios.flags.writeable
    with pytest.raises(ValueError):
        sample.ratios[0] = 2.0


def _sample(first_order: float, pvalue: float) -> EfficacySample:
    return EfficacySample(
        d=5,
        rho=0.1,
        slope=1.0,
        ratios=np.array([0.95, 1.0, 1.05]),
        degenerate=False,
        first_order_residual=first_order,
        ks_pvalue=pvalue,
        ks_statistic=0.5,
    )


@pytest.mark.parametrize("factor", [1.0, 1.5, 1.99, 1e6])
def test_t5_affine_gate_alone_makes_the_law_hold(factor):
    """t5_certificate: a first-order residual <= AFFINE_TOL proves the law draw by draw, so it
    holds (margin AFFINE_TOL / residual) even when the KS test rejects outright."""
    cert = t5_certificate(_sample(AFFINE_TOL / factor, 1e-30))
    assert cert.verdict is Verdict.HOLDS
    assert cert.margin == pytest.approx(factor, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# T3(c): first order


def test_fitted_slope_refuses_a_zero_step():
    """Step sizes are positive: eps = 0 is refused with an InputError naming eps."""
    with pytest.raises(InputError, match="eps"):
        fitted_slope([0.0, 1e-3, 1e-2], [1.0, 2.0, 3.0])
    assert fitted_slope([1e-3, 1e-2, 1e-1], [1e-6, 1e-4, 1e-2]) == pytest.approx(2.0)


# no deadline: each example re-runs the model at 7 step sizes and builds two spectra
@settings(max_examples=4, deadline=None)
@given(random_problems(shapes=[(2, 3, 5, 4)], max_alphas=1))
def test_t3c_kl_ratio_is_taken_at_the_smallest_step(drawn):
    """check_t3c: kl_ratio is KL(p_v || p_{v + eps u}) / ((eps^2 / 2) u^T F u) at the smallest
    eps, with the KL recomputed here from the model's log-probabilities."""
    eps = np.array([1e-4, 1e-3, 1e-2])  # ascending, as the default steps
    cert = check_t3c(drawn.problem, drawn.v, "trait", eps=eps)
    d = cert.details
    u = cert.witness["u_kl"]
    smallest = float(eps.min())
    kl = float(kl_divergences(drawn.problem, drawn.v, u, [smallest])[0])
    assert d["kl_ratio"] == pytest.approx(kl / (0.5 * smallest**2 * d["uFu"]), rel=1e-9)


# no deadline: each example runs check_t3c twice (two spectra, 3 steps, 3 directions)
@settings(max_examples=3, deadline=None)
@given(random_problems(shapes=[(2, 3, 5, 4)], max_alphas=1), st.permutations([1e-4, 1e-3, 1e-2]))
def test_t3c_gates_do_not_depend_on_the_order_of_the_steps(drawn, eps):
    """The gates are statements about a set of step sizes (slopes over all of them, first-order
    and KL ratios at the smallest): listing eps in any order gives the same verdict, the same
    ratios and the same gate margins."""
    ascending = check_t3c(drawn.problem, drawn.v, "trait", eps=sorted(eps))
    shuffled = check_t3c(drawn.problem, drawn.v, "trait", eps=eps)
    assert shuffled.verdict is ascending.verdict
    for key in ("kl_ratio", "first_order_ratio", "outside_slope", "null_slope"):
        if key in ascending.details:
            assert shuffled.details[key] == pytest.approx(ascending.details[key], rel=1e-12)
    assert shuffled.details["gate_margins"] == pytest.approx(ascending.details["gate_margins"])


# ---------------------------------------------------------------------------------------------
# T3: level-set twins


@settings(max_examples=4, deadline=None)  # each example walks a few level-set steps
@given(random_problems(shapes=[(2, 3, 5, 4)], max_alphas=1))
def test_twin_search_distance_is_the_relative_distance_of_the_twin(drawn):
    """twin_search: details["distance"] = |twin - v| / |v| for the witness twin."""
    cert = twin_search(drawn.problem, drawn.v, "trait", max_steps=4)
    v, twin = cert.witness["v"], cert.witness["twin"]
    expected = np.linalg.norm(twin - v) / np.linalg.norm(v)
    assert cert.details["distance"] == pytest.approx(expected, rel=1e-12, abs=1e-15)


# ---------------------------------------------------------------------------------------------
# T2a / T2b: the norms and the shift change

finite_rows = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(2, 8)),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=30)
@given(finite_rows, st.sampled_from([1e-5, 1e-2, 1.0]))
def test_layernorm_is_the_centred_vector_over_its_regularised_std(h, eps):
    """LayerNorm(h) = (h - mean h) / sqrt(var h + eps) per row; its mean square is
    var h / (var h + eps)."""
    out = layernorm(h, eps)
    var = h.var(axis=-1, keepdims=True)
    np.testing.assert_allclose(
        out, (h - h.mean(axis=-1, keepdims=True)) / np.sqrt(var + eps), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose((out**2).mean(axis=-1, keepdims=True), var / (var + eps), rtol=1e-9)


@settings(max_examples=30)
@given(finite_rows, st.sampled_from([1e-5, 1e-2, 1.0]))
def test_rmsnorm_is_the_vector_over_its_regularised_rms(h, eps):
    """RMSNorm(h) = h / sqrt(mean h^2 + eps) per row; its mean square is ms / (ms + eps)."""
    out = rmsnorm(h, eps)
    ms = (h**2).mean(axis=-1, keepdims=True)
    np.testing.assert_allclose(out, h / np.sqrt(ms + eps), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose((out**2).mean(axis=-1, keepdims=True), ms / (ms + eps), rtol=1e-9)


def test_shift_change_of_a_map_that_does_not_move_is_infinite():
    """shift_change: when v steers nothing (B(v) = B(0)) no change can be measured: inf."""
    v = np.array([1.0, -2.0, 0.5])
    assert shift_change(lambda x: np.array([3.0, 4.0]), v) == math.inf
    assert shift_change(lambda x: x, v, shift=2.0) == pytest.approx(
        2.0 * math.sqrt(3) / np.linalg.norm(v)
    )


# ---------------------------------------------------------------------------------------------
# re-runs and behaviour comparisons


@pytest.mark.parametrize(
    "ratio, survives", [(1e-4, True), (1e-2, True), (1.5e-2, False), (0.5, False)]
)
def test_a_rerun_ratio_above_one_percent_makes_the_verdict_undecided(ratio, survives):
    """A witness re-run ratio (second order against first, O(eps) ~ 1e-4 for a true null
    direction) is held to RERUN_LIMIT = 1e-2: at or below it the verdict stands, above it the
    verdict is undecided."""
    cert = Certificate(theorem="T3", verdict=Verdict.HOLDS, margin=5.0)
    out = gate_on_rerun(cert, ratio, "m")
    assert out.residual == ratio and out.residual_tolerance == pytest.approx(1e-2)
    assert out.verdict is (Verdict.HOLDS if survives else Verdict.UNDECIDED)
    if survives:
        assert out.margin == pytest.approx(min(5.0, 1e-2 / ratio))


comparisons = st.builds(
    BehaviourComparison,
    inside=st.floats(0.0, 10.0),
    outside=st.floats(0.0, 10.0),
    noise=st.floats(0.0, 1.0),
)


@settings(max_examples=30)
@given(comparisons, st.floats(0.0, 10.0))
def test_equivalent_is_inside_within_allowed_outside_plus_noise(cmp, allowed):
    """equivalent(allowed) iff |B(w) - B(v)| <= allowed |B(s) - B(v)| + noise, and then its margin
    is >= 1."""
    expected = cmp.inside <= allowed * cmp.outside + cmp.noise
    assert cmp.equivalent(allowed) == expected
    if expected:
        assert cmp.equivalence_margin(allowed) >= 1


def test_noise_alone_covers_a_member_when_nothing_leaves_the_class():
    """With no step out of the class (outside = 0) a gap within round-off is still equivalent."""
    assert BehaviourComparison(inside=1e-13, outside=0.0, noise=1e-12).equivalent(0.5)
    assert not BehaviourComparison(inside=1e-11, outside=0.0, noise=1e-12).equivalent(0.5)


@settings(max_examples=30)
@given(comparisons)
def test_separated_is_outside_above_hundred_noise_and_ten_inside(cmp):
    """separated() iff |B(s) - B(v)| > 100 noise and > 10 |B(w) - B(v)|; margin > 1 implies it."""
    expected = cmp.outside > 100 * cmp.noise and cmp.outside > 10 * cmp.inside
    assert cmp.separated() == expected
    if cmp.separation_margin() > 1:
        assert cmp.separated()


def test_a_clear_step_out_of_the_class_is_separated():
    """outside = 1 against noise 1e-3 and inside 0: clearly above round-off, separated."""
    assert BehaviourComparison(inside=0.0, outside=1.0, noise=1e-3).separated()
    assert not BehaviourComparison(inside=0.0, outside=1.0, noise=0.02).separated()
